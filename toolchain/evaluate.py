"""Translate one side of a pairs file through the service's Translator and score it.

    zh-en-translator evaluate build/demo/dev.tsv                  # greedy, INT8, zh→en
    zh-en-translator evaluate build/demo/dev.tsv --beam 4 --precision fp32 --output hyp.txt
    zh-en-translator evaluate pairs.tsv --direction en-zh --model models/demo-en-zh

Input lines: ``english<TAB>chinese[<TAB>...]``, whatever the direction. The path is the
production one (cleaning, segmentation, span protection, batching, post-processing) with
the cache off. The last line printed is JSON: bleu, chrf, tokenize (sacrebleu's 13a for
English output, zh for Chinese), n, model, seconds, and span survival (spans of the
source found verbatim in the output).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from config import load_settings
from engine import GenerationOptions
from serving import Translator
from text.languages import Direction

CHUNK = 64


def read_pairs(path: Path, direction: Direction) -> tuple[list[str], list[str]]:
    """(references, sources) of an ``english<TAB>chinese`` file, for *direction*."""
    refs, sources = [], []
    source_column = 0 if direction.source.code == "en" else 1
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].strip() and cols[1].strip():
            refs.append(cols[1 - source_column].strip())
            sources.append(cols[source_column].strip())
    return refs, sources


def span_survival(sources: list[str], hyps: list[str], direction: Direction) -> dict:
    total = kept = 0
    for src, hyp in zip(sources, hyps, strict=True):
        for a, b in direction.source.find_spans(src):
            total += 1
            kept += src[a:b] in hyp
    return {"spans": total, "verbatim": kept, "ratio": round(kept / total, 4) if total else None}


def main(argv: list[str] | None = None) -> int:
    import sacrebleu

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=Path)
    parser.add_argument("--model", type=Path, help="model directory (default: the configured one)")
    parser.add_argument("--beam", type=int, default=1, help="beam size (default 1: greedy)")
    parser.add_argument("--precision", choices=["int8", "fp32"], default="int8")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    parser.add_argument("--output", type=Path, help="write the translations here, one per line")
    parser.add_argument("--limit", type=int, help="only the first N pairs")
    parser.add_argument(
        "--direction", default="zh-en", help="zh-en (default) or en-zh; picks the side to read"
    )
    args = parser.parse_args(argv)
    direction = Direction.of(*args.direction.split("-", 1))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")

    overrides = {
        "cache_size": 0,
        "precision": args.precision,
        "intra_op_threads": args.threads,
        "max_beam_size": max(8, args.beam),
        "queue_size": 100_000,
    }
    settings = load_settings(overrides)
    refs, sources = read_pairs(args.pairs, direction)
    if args.limit:
        refs, sources = refs[: args.limit], sources[: args.limit]
    model_path = args.model.resolve() if args.model else settings.model_path
    translator = Translator(settings, model_path)
    translator.start(background=False)
    if not translator.ready:
        print(f"model failed to load: {translator.error}", file=sys.stderr)
        return 1
    if translator.direction != direction:
        print(f"{model_path} translates {translator.direction}, not {direction}", file=sys.stderr)
        return 1
    options = GenerationOptions(beam_size=args.beam)
    started = time.perf_counter()
    hyps: list[str] = []
    for i in range(0, len(sources), CHUNK):
        hyps += translator.translate(sources[i : i + CHUNK], options, timeout=3600)[0]
    seconds = time.perf_counter() - started
    translator.close()
    if args.output:
        args.output.write_text("".join(h.replace("\n", " ") + "\n" for h in hyps), encoding="utf-8")
    tokenize = "zh" if direction.target.code == "zh" else "13a"
    result = {
        "bleu": round(sacrebleu.corpus_bleu(hyps, [refs], tokenize=tokenize).score, 2),
        "chrf": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2),
        "tokenize": tokenize,
        "direction": direction.key,
        "n": len(sources),
        "model": translator.model_id,
        "precision": args.precision,
        "beam": args.beam,
        "seconds": round(seconds, 2),
        "span_survival": span_survival(sources, hyps, direction),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
