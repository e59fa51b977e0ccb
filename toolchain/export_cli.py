"""Export a Marian checkpoint (hub id or local directory) into a service model directory.

    zh-en-translator export Helsinki-NLP/opus-mt-zh-en --out models/opus-mt-zh-en
    zh-en-translator export path/to/checkpoint --out models/mine --precision both
    zh-en-translator export Helsinki-NLP/opus-mt-en-zh --out models/opus-mt-en-zh \
        --source-lang en --target-lang zh

The result is INT8 (quantized for this CPU unless --quantize-for says otherwise), carries
a manifest.json, and has been checked against the PyTorch model before this exits 0.
Needs requirements-tools.txt (torch, transformers); the service itself does not.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from text.normalize import KNOWN_STEPS
from toolchain.export import ExportOptions, export_model
from toolchain.verify import VerificationError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="hub id (needs a network) or local checkpoint directory")
    parser.add_argument("--out", type=Path, required=True, help="model directory to write")
    parser.add_argument("--model-id", help="name shown by the service (default: directory name)")
    parser.add_argument(
        "--precision",
        choices=["int8", "fp32", "both"],
        default="int8",
        help="'both' keeps the fp32 graphs under fp32/ for comparison",
    )
    parser.add_argument(
        "--quantize-for",
        choices=["auto", "avx2", "avx512", "vnni", "generic"],
        default="auto",
        help="CPU the INT8 kernels are chosen for (default: this one)",
    )
    parser.add_argument(
        "--preprocess",
        default="opus_punct",
        help=f"comma-separated source preprocessing steps the model was trained "
        f"with; known: {', '.join(sorted(KNOWN_STEPS))} (default: opus_punct, "
        "as OPUS-MT models were trained)",
    )
    parser.add_argument(
        "--span-mode",
        choices=["verbatim", "placeholder"],
        default="verbatim",
        help="placeholder only for models trained to copy U+E000.. tokens",
    )
    parser.add_argument(
        "--no-shortlist", action="store_true", help="keep every vocabulary row in both graphs"
    )
    parser.add_argument(
        "--verify-pairs",
        type=Path,
        help="english<TAB>chinese file whose first 200 lines join the check",
    )
    parser.add_argument(
        "--min-bleu",
        type=float,
        default=50.0,
        help="fail if INT8 output scores below this BLEU against PyTorch",
    )
    parser.add_argument("--source-lang", default="zh", help="language the model reads (zh)")
    parser.add_argument("--target-lang", default="en", help="language the model writes (en)")
    parser.add_argument("--no-verify", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    steps = tuple(s for s in args.preprocess.split(",") if s)
    options = ExportOptions(
        model_id=args.model_id,
        source_lang=args.source_lang,
        target_lang=args.target_lang,
        source_preprocessing=steps,
        span_mode=args.span_mode,
        precision=args.precision,
        quantization=args.quantize_for,
        shortlist=not args.no_shortlist,
        verify=not args.no_verify,
        verify_pairs=args.verify_pairs,
        min_verify_bleu=args.min_bleu,
    )
    try:
        manifest = export_model(args.source, args.out, options)
    except VerificationError as exc:
        logging.error("verification failed: %s", exc)
        return 1
    summary = {
        "out": str(args.out),
        "direction": manifest.direction,
        "sizes": manifest.provenance.get("sizes"),
        "verification": manifest.provenance.get("verification"),
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
