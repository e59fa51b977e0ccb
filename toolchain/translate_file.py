"""``zh-en-translator translate-file IN OUT``: translate a document in process, with a progress bar.

    zh-en-translator translate-file notes.md notes.en.md
    zh-en-translator translate-file subs.srt subs.zh.srt --source en --target zh
    zh-en-translator translate-file catalog.jsonl catalog.en.jsonl --fields title,description

The formats are the file endpoints' (``.txt``, ``.md``, ``.srt``, ``.html``, ``.docx``,
``.jsonl``); see ``serving/documents.py``. In a JSON Lines catalog every string value is
translated, or with ``--fields`` only those of the named top-level fields (strings inside
them too). The service's ``max_file_bytes`` and ``max_file_chars`` limits do not apply
here. The progress bar (tqdm, from requirements-tools.txt) counts characters; without
tqdm the command runs without one.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zh-en-translator translate-file",
        description="Translate a .txt, .md, .srt, .html, .docx or .jsonl file.",
    )
    parser.add_argument("input", type=Path, help="the file to translate")
    parser.add_argument("output", type=Path, help="where to write the translation")
    parser.add_argument("--source", help="source language code, or auto (default: zh)")
    parser.add_argument("--target", help="target language code (default: en)")
    parser.add_argument(
        "--fields",
        help="JSON Lines: the comma-separated top-level fields to translate (default: all)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


@contextmanager
def progress_bar(name: str, enabled: bool) -> Iterator[Progress | None]:
    """A tqdm bar over characters as a ``progress(done, total)`` callback (None without
    tqdm or when disabled)."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if not enabled or tqdm is None:
        yield None
        return
    bar = tqdm(desc=name, unit="char", unit_scale=True, file=sys.stderr, leave=True)
    shown = 0

    def update(done: int, total: int) -> None:
        nonlocal shown
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - shown)
        shown = done

    try:
        yield update
    finally:
        bar.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from config import load_settings
    from serving import TranslatorRegistry
    from serving.documents import open_file, pick_translator, translate_file
    from serving.errors import ServiceError

    fields = [f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None
    if fields and args.input.suffix.lower() != ".jsonl":
        sys.stderr.write("--fields applies to .jsonl files only\n")
        return 2
    try:
        data = args.input.read_bytes()
    except OSError as exc:
        sys.stderr.write(f"cannot read {args.input}: {exc.strerror}\n")
        return 1
    settings = load_settings({"log_level": "WARNING"})
    registry = TranslatorRegistry.from_settings(settings)
    registry.start(background=False)
    try:
        opened = open_file(args.input.name, data, fields)
        translator = pick_translator(registry, opened, args.source, args.target)
        if not translator.ready:
            sys.stderr.write(f"model failed to load: {translator.error}\n")
            return 1
        with progress_bar(args.input.name, not args.no_progress) as progress:
            out, _ = translate_file(
                translator,
                opened,
                max_chars=settings.max_chars,
                max_items=settings.max_batch_items,
                progress=progress,
            )
    except ServiceError as exc:
        sys.stderr.write(f"{exc.code}: {exc.message}\n")
        return 1
    finally:
        registry.close()
    args.output.write_bytes(out)
    logger.info("translated %s into %s", args.input, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
