"""The ``zh-en-translator`` command: serve, translate, and the model tooling.

    zh-en-translator serve                     # gunicorn with gunicorn.conf.py
    zh-en-translator translate "你好，世界。"      # one-off, in process (or lines on stdin)
    zh-en-translator translate-file IN OUT     # a document, in process (.txt .md .srt .docx ...)
    zh-en-translator evaluate PAIRS.tsv        # BLEU through the Translator
    zh-en-translator export CHECKPOINT --out models/NAME
    zh-en-translator bench | loadtest | train-demo

Each tool command takes its own ``--help``. The tooling ones need requirements-tools.txt.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from config import ROOT

# command -> (module whose main(argv) runs it, one-line description)
_TOOLS = {
    "evaluate": ("toolchain.evaluate", "score a pairs file through the Translator"),
    "check": (
        "toolchain.check_output",
        "flag typography, span and structure defects in translations",
    ),
    "export": ("toolchain.export_cli", "export a Marian checkpoint into a model directory"),
    "bench": ("toolchain.bench.engines", "engines side by side on the same models"),
    "loadtest": ("toolchain.loadtest", "drive a running service over loopback"),
    "keys": ("toolchain.keys", "print the api_keys_file line of an API key (or a new one)"),
    "soak": ("toolchain.soak", "clients, long texts and hostile bodies for minutes; RSS drift"),
    "train-demo": ("toolchain.train_demo", "train and export the demo model"),
    "translate-file": (
        "toolchain.translate_file",
        "translate a .txt/.md/.srt/.html/.docx/.jsonl file, with a progress bar",
    ),
}


def serve(argv: Sequence[str]) -> int:
    """Replace this process with gunicorn, configured by gunicorn.conf.py."""
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    os.chdir(ROOT)
    os.execv(gunicorn, [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), *argv])
    return 1  # not reached


def translate(argv: Sequence[str]) -> int:
    """Translate the arguments (or each line of stdin) and print the results."""
    parser = argparse.ArgumentParser(prog="zh-en-translator translate")
    parser.add_argument("text", nargs="*", help="texts to translate (default: lines of stdin)")
    parser.add_argument("--source", help="source language code (default: the first model's)")
    parser.add_argument("--target", help="target language code")
    parser.add_argument("--beam", type=int, help="beam size (default: the configured one)")
    args = parser.parse_args(argv)
    from config import load_settings
    from engine import GenerationOptions
    from serving import TranslatorRegistry
    from serving.errors import ServiceError

    settings = load_settings({"log_level": "WARNING"})
    registry = TranslatorRegistry.from_settings(settings)
    registry.start(background=False)
    try:
        translator = registry.get(args.source, args.target)
        if not translator.ready:
            print(f"model failed to load: {translator.error}", file=sys.stderr)
            return 1
        texts = args.text or [line.rstrip("\n") for line in sys.stdin]
        options = GenerationOptions(beam_size=args.beam) if args.beam else None
        results, _ = translator.translate(texts, options)
    except ServiceError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        registry.close()
    print("\n".join(results))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a subcommand."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {"serve": "run the HTTP service", "translate": "translate text in process"}
    commands |= {name: help_ for name, (_, help_) in _TOOLS.items()}
    if not args or args[0] in ("-h", "--help") or args[0] not in commands:
        width = max(map(len, commands))
        lines = [f"  {name:<{width}}  {help_}" for name, help_ in commands.items()]
        print("usage: zh-en-translator COMMAND [ARGS]\n\ncommands:\n" + "\n".join(lines))
        return 0 if args and args[0] in ("-h", "--help") else 2
    command, rest = args[0], args[1:]
    if command == "serve":
        return serve(rest)
    if command == "translate":
        return translate(rest)
    module = importlib.import_module(_TOOLS[command][0])
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
