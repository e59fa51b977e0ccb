#!/usr/bin/env python
"""Train the offline demo zh→en model from the Tatoeba pairs and export it for the service.

    python scripts/train_demo_model.py                      # data → spm → train → export
    python scripts/train_demo_model.py --stage export       # export an existing checkpoint
    python scripts/train_demo_model.py --stage card         # re-evaluate, rewrite the card
    python scripts/train_demo_model.py --stage split        # only write the dev split

    zh-en-translator train-demo --corpus build/corpus --stage train \
        --warm-start models/demo-zh-en/checkpoint --max-minutes 120   # the mixture run
    zh-en-translator train-demo --corpus build/corpus --stage train --resume
    zh-en-translator train-demo --corpus build/corpus --stage export --out DIR  # best/

With ``--corpus`` the model trains on a weighted mixture of Tatoeba and the domain
corpus (``toolchain/mixture.py``) in a resumable run under --train-dir
(``toolchain/long_train.py``); export and card then take ``<train-dir>/best``.

Work files (dev split, checkpoint, training log) go to --work-dir, outside git; the INT8
model directory goes to --out. The training data itself is never copied into the repo.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import fields
from pathlib import Path

from config import ROOT
from toolchain.data import read_pairs, split_dev, training_examples, write_pairs

DEFAULT_PAIRS = ROOT.parent / "shared" / "data" / "tatoeba-cmn-eng" / "pairs.tsv"
SOURCE_STEPS = ("opus_punct", "t2s")
# Per direction: the source preprocessing the service applies (it goes into the
# manifest), and what training applies to the Chinese side of every pair. Chinese as a
# target keeps its own punctuation; Traditional becomes Simplified on either side.
SOURCE_STEPS_OF = {"zh-en": SOURCE_STEPS, "en-zh": ()}
CHINESE_STEPS_OF = {"zh-en": SOURCE_STEPS, "en-zh": ("t2s",)}
DEV_SIZE = 1500
SPLIT_SEED = 20261125

logger = logging.getLogger("train_demo_model")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from toolchain.trainer import TrainConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--work-dir", type=Path, default=ROOT / "build" / "demo")
    parser.add_argument("--direction", choices=sorted(SOURCE_STEPS_OF), default="zh-en")
    parser.add_argument("--out", type=Path, help="model directory (models/demo-<direction>)")
    parser.add_argument(
        "--stage", choices=["all", "split", "train", "average", "export", "card"], default="all"
    )
    parser.add_argument(
        "--checkpoint", type=Path, help="what --stage export exports (default: the run's best/)"
    )
    parser.add_argument(
        "--average", type=int, default=5, help="--stage average: the newest N of evals/"
    )
    parser.add_argument("--dev-size", type=int, default=DEV_SIZE)
    parser.add_argument("--src-vocab", type=int, help="pieces (4000; 8000 with --corpus)")
    parser.add_argument("--tgt-vocab", type=int, help="pieces (4000; 8000 with --corpus)")
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--threads", type=int, default=2)
    for field in fields(TrainConfig):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default))
    from toolchain.train_mixture import add_mixture_args

    add_mixture_args(parser)
    args = parser.parse_args(argv)
    args.out = args.out or ROOT / "models" / f"demo-{args.direction}"
    args.train_dir = args.train_dir or ROOT / "build" / f"train-{args.direction}"
    return args


def split(args: argparse.Namespace) -> tuple[list, list]:
    pairs = read_pairs(args.pairs)
    train, dev = split_dev(pairs, args.dev_size, SPLIT_SEED)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    write_pairs(dev, args.work_dir / "dev.tsv")
    logger.info("%d pairs: %d train, %d dev → %s", len(pairs), len(train), len(dev), args.work_dir)
    return train, dev


def train(args: argparse.Namespace, train_pairs: list, dev_pairs: list) -> Path:
    import torch

    from text.normalize import SourcePreprocessor
    from toolchain.trainer import Codec, TrainConfig
    from toolchain.trainer import train as run_training
    from toolchain.vocab import train_spm, write_tokenizer_files

    torch.set_num_threads(args.threads)
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in overrides.items() if v is not None})
    examples = training_examples(train_pairs, SourcePreprocessor(SOURCE_STEPS), cfg.seed)
    src_size, tgt_size = args.src_vocab or 4000, args.tgt_vocab or 4000
    source_spm = train_spm((s for s, _ in examples), src_size, character_coverage=0.9995)
    target_spm = train_spm((t for _, t in examples), tgt_size, character_coverage=1.0)
    ckpt = args.work_dir / "checkpoint"
    vocab = write_tokenizer_files(ckpt, source_spm, target_spm, cfg.max_positions)
    codec = Codec(source_spm, target_spm, vocab, SOURCE_STEPS)
    dev = [(p.zh, p.en) for p in dev_pairs]
    model, summary = run_training(codec, examples, dev, cfg, args.work_dir, args.max_minutes)
    model.save_pretrained(ckpt)
    summary["source_preprocessing"] = list(SOURCE_STEPS)
    summary["train_examples"] = len(examples)
    (ckpt / "training_summary.json").write_text(json.dumps(summary, indent=1))
    return ckpt


def export(args: argparse.Namespace, ckpt: Path) -> None:
    """INT8 model directory for the service, plus the fp16 PyTorch checkpoint beside it."""
    from toolchain.export import ExportOptions, export_model
    from toolchain.model_card import ship_checkpoint, training_data

    source_lang, target_lang = args.direction.split("-")
    options = ExportOptions(
        source_lang=source_lang,
        target_lang=target_lang,
        source_preprocessing=SOURCE_STEPS_OF[args.direction],
        span_mode="placeholder",
        model_id=f"demo-{args.direction}",
        # The shipped demo runs wherever the service does: AVX2's kernels (reduced range)
        # are exact on every x86-64 CPU, VNNI's saturate on the ones without it.
        quantization="avx2",
        verify_pairs=args.work_dir / "dev.tsv",
    )
    options.extra_manifest = {"trained_by": "zh-en-translator train-demo"}
    if args.corpus is not None:
        # The NOTICE of the card comes from here when build/corpus is gone.
        options.extra_manifest["trained_by"] += f" --corpus --direction {args.direction}"
        options.extra_manifest["training_data"] = training_data(args.corpus)
    source = ckpt.relative_to(ROOT) if ckpt.is_relative_to(ROOT) else ckpt
    export_model(str(source), args.out, options)
    ship_checkpoint(ckpt, args.out / "checkpoint")


def average(args: argparse.Namespace) -> Path:
    """Average the newest ``--average`` evaluations of the run (``--keep-evals``)."""
    from toolchain.checkpoints import average_model_dirs
    from toolchain.long_train import kept_evals

    evals = kept_evals(args.train_dir)[-args.average :]
    if len(evals) < 2:
        raise SystemExit(
            f"{args.train_dir / 'evals'} holds {len(evals)} evaluations: train with --keep-evals"
        )
    dest = args.train_dir / "averaged"
    average_model_dirs(evals, dest)
    return dest


def card(args: argparse.Namespace, dev_pairs: list, limit: int | None = None) -> None:
    """Evaluate the model every way the card reports and write its README.md.

    Either direction; the mixture description and the NOTICE come from the checkpoint's
    training_summary.json and ``--corpus`` (sources.json, stats.json, dev.<domain>.tsv).
    *limit* (first N pairs of every set) is for quick checks of this stage itself.
    """
    from toolchain.data import span_pairs, write_pairs
    from toolchain.model_card import direction_of, evaluate_all, write_card

    manifest = json.loads((args.out / "manifest.json").read_text(encoding="utf-8"))
    if direction_of(manifest) != args.direction:
        raise SystemExit(
            f"{args.out} translates {direction_of(manifest)}: pass --direction "
            f"{direction_of(manifest)} (or the other model's --out)"
        )
    # The same span pairs serve both directions: english<TAB>chinese, the filler on both.
    write_pairs(span_pairs(dev_pairs, SPLIT_SEED), args.work_dir / "dev_spans.tsv")
    results = evaluate_all(
        args.out, args.work_dir, corpus=args.corpus, limit=limit, threads=args.threads
    )
    write_card(args.out, args.work_dir, results, corpus=args.corpus)
    logger.info("model card → %s", args.out / "README.md")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    train_pairs, dev_pairs = split(args)
    if args.stage == "split":
        return 0
    ckpt = args.work_dir / "checkpoint"
    if args.corpus is not None:
        from toolchain.train_mixture import train_mixture

        ckpt = args.train_dir / "best"
        if args.stage in ("all", "train"):
            ckpt = train_mixture(args, train_pairs, dev_pairs)
        if args.stage == "average":
            average(args)
            return 0
    elif args.direction != "zh-en":
        raise SystemExit("--direction en-zh trains only on the mixture: give --corpus")
    elif args.stage in ("all", "train"):
        ckpt = train(args, train_pairs, dev_pairs)
    if args.stage in ("all", "export"):
        export(args, args.checkpoint or ckpt)
    if args.stage in ("all", "card"):
        card(args, dev_pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
