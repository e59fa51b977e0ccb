"""Set up and run the mixture training of ``train-demo --corpus`` (see long_train.py).

Vocabulary: new SentencePiece models trained on the mixture (8k pieces per side by
default) unless ``--vocab warm`` reuses the warm-start checkpoint's or ``--vocab-dir``
names another (an extended one, toolchain/vocab_extend.py). Weights: fresh, or
``--warm-start DIR`` (layers copied, embedding rows matched by piece), or ``--resume``
from ``<train-dir>/last`` (everything, exactly).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from config import ROOT

if TYPE_CHECKING:
    from transformers import MarianMTModel

    from toolchain.long_train import Run
    from toolchain.mixture import Mixture

logger = logging.getLogger(__name__)

HELD_OUT = (ROOT / "tests" / "data" / "product_copy.tsv", ROOT / "tests" / "data" / "docs.tsv")
# Defaults of the mixture run where they differ from TrainConfig's (a warm start wants a
# lower peak rate; 150k examples an epoch need less dropout than 30k).
MIXTURE_DEFAULTS = {"lr": 5e-4, "warmup_steps": 300, "dropout": 0.1}
MIXTURE_VOCAB = 8000


def add_mixture_args(parser: argparse.ArgumentParser) -> None:
    """The ``--corpus`` options of train-demo."""
    group = parser.add_argument_group("mixture training (with --corpus)")
    group.add_argument("--corpus", type=Path, help="corpus directory (train.tsv, dev.*.tsv)")
    group.add_argument("--train-dir", type=Path, help="run directory (build/train-<direction>)")
    group.add_argument("--weights", help='source weights, e.g. "tatoeba=2,ui=1,bible=0.25"')
    group.add_argument("--dict-cap", type=int, default=15000)
    group.add_argument(
        "--dict-order",
        choices=["random", "frequency"],
        default="random",
        help="which entries the cap keeps: a random share, or the most frequent words "
        "(by the corpus's zh_frequency.txt)",
    )
    group.add_argument("--resume", action="store_true", help="continue from <train-dir>/last")
    group.add_argument("--warm-start", type=Path, help="checkpoint dir to take weights from")
    group.add_argument(
        "--vocab",
        choices=["auto", "new", "warm"],
        default="auto",
        help="auto: the warm-start's vocab if it came from this pipeline",
    )
    group.add_argument(
        "--vocab-dir",
        type=Path,
        help="tokenizer files to train with instead (toolchain.vocab_extend writes them)",
    )
    group.add_argument("--total-steps", type=int)
    group.add_argument("--eval-every", type=int)
    group.add_argument("--checkpoint-minutes", type=float)
    group.add_argument("--restart-lr", action="store_true")
    group.add_argument("--keep-evals", type=int, help="keep the newest N evaluations' weights")


def _configs(args: argparse.Namespace, last: Path | None) -> tuple:
    from toolchain.long_train import RunConfig
    from toolchain.trainer import TrainConfig

    base_cfg, base_run = dict(MIXTURE_DEFAULTS), {}
    if last is not None:
        summary = json.loads((last / "training_summary.json").read_text())
        base_cfg, base_run = summary["config"], summary.get("run", {})
        # A restart of the schedule is asked per session, not inherited from the last one.
        base_run["restart_lr"] = False
    base_run["max_minutes"] = args.max_minutes
    cfg_over = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    run_over = {f.name: getattr(args, f.name, None) for f in fields(RunConfig)}
    run_over["restart_lr"] = args.restart_lr or None
    cfg = TrainConfig(**(base_cfg | {k: v for k, v in cfg_over.items() if v is not None}))
    run = RunConfig(**(base_run | {k: v for k, v in run_over.items() if v is not None}))
    return cfg, run


def _use_warm_vocab(args: argparse.Namespace) -> bool:
    from toolchain.checkpoints import committed_state

    if args.vocab != "auto" or args.warm_start is None:
        return args.vocab == "warm"
    return committed_state(args.warm_start) is not None


def _vocabulary(args: argparse.Namespace, mixture: Mixture, seed_dir: Path | None) -> Path:
    """The directory holding source.spm, target.spm, vocab.json for this run."""
    from toolchain.checkpoints import TOKENIZER_FILES
    from toolchain.vocab import train_spm, write_tokenizer_files

    vocab_dir = args.train_dir / "vocab"
    if seed_dir is not None:
        vocab_dir.mkdir(parents=True, exist_ok=True)
        for name in TOKENIZER_FILES:
            shutil.copyfile(seed_dir / name, vocab_dir / name)
        logger.info("vocabulary from %s", seed_dir)
    elif not (vocab_dir / "vocab.json").is_file():
        examples = mixture.epoch(0)
        src = sorted({s for s, _ in examples})
        tgt = sorted({t for _, t in examples})
        # The rarest Chinese characters become <unk> rather than pieces of their own.
        src_cover, tgt_cover = (1.0, 0.9995) if args.direction == "en-zh" else (0.9995, 1.0)
        src_spm = train_spm(src, args.src_vocab or MIXTURE_VOCAB, character_coverage=src_cover)
        tgt_spm = train_spm(tgt, args.tgt_vocab or MIXTURE_VOCAB, character_coverage=tgt_cover)
        write_tokenizer_files(vocab_dir, src_spm, tgt_spm, 256)
        logger.info("new vocabulary (%d/%d unique lines) → %s", len(src), len(tgt), vocab_dir)
    return vocab_dir


def dict_ranks(args: argparse.Namespace) -> dict[str, int] | None:
    """The corpus's word ranking for the dictionary cap, unless ``--dict-order random``."""
    from toolchain.corpus import frequency

    if args.dict_order == "random":
        return None
    path = args.corpus / frequency.FILENAME
    if not path.is_file():
        raise SystemExit(f"--dict-order frequency: {path} is missing (run `make corpus`)")
    return frequency.read_ranking(path)


def _mixture(args: argparse.Namespace, train_pairs: list, seed: int) -> Mixture:
    from text.normalize import SourcePreprocessor
    from toolchain.mixture import (
        TATOEBA,
        Mixture,
        MixtureConfig,
        held_out_zh,
        parse_weights,
        read_corpus,
    )
    from toolchain.train_demo import CHINESE_STEPS_OF

    banned = held_out_zh([*HELD_OUT, args.work_dir / "dev.tsv"])
    sources = read_corpus(args.corpus / "train.tsv", banned)
    sources[TATOEBA] = [p for p in train_pairs if p.zh.strip() not in banned]
    mix_cfg = MixtureConfig(
        weights=parse_weights(args.weights),
        dict_cap=args.dict_cap,
        dict_ranks=dict_ranks(args),
    )
    chinese_steps = SourcePreprocessor(CHINESE_STEPS_OF[args.direction])
    reverse = args.direction == "en-zh"
    mixture = Mixture(sources, mix_cfg, chinese_steps, seed, reverse=reverse)
    logger.info("mixture per epoch: %s", mixture.sizes())
    return mixture


def _start_state(args: argparse.Namespace, run: Run, model: MarianMTModel, vocab: dict) -> None:
    from toolchain import checkpoints

    if args.resume:
        last = args.train_dir / "last"
        run.state = checkpoints.load_last(last, model, run.opt)
        # Where the run's weights first came from outlives the session that saw it.
        previous = json.loads((last / "training_summary.json").read_text())
        if "warm_start" in previous:
            run.extra["warm_start"] = previous["warm_start"]
        return
    if args.warm_start is not None:
        run.extra["warm_start"] = {
            "from": str(args.warm_start),
            **checkpoints.warm_start(model, args.warm_start, vocab, run.vocab_dir / "source.spm"),
        }
        carried = checkpoints.committed_state(args.warm_start) or {}
        run.state.update({k: v for k, v in carried.items() if k in run.state})
        logger.info("warm-start state: %s", carried or "none (fresh schedule)")


def train_mixture(args: argparse.Namespace, train_pairs: list, dev_pairs: list) -> Path:
    """Train (or continue) the mixture run; return the directory of the best weights."""
    import torch
    from transformers import MarianMTModel

    from toolchain import checkpoints
    from toolchain.long_train import Run, train_loop
    from toolchain.mixture import dev_subset, read_corpus_dev
    from toolchain.train_demo import SOURCE_STEPS_OF
    from toolchain.trainer import Codec, marian_config

    torch.set_num_threads(args.threads)
    last = args.train_dir / "last" if args.resume else None
    cfg, run_cfg = _configs(args, last)
    torch.manual_seed(cfg.seed)
    args.train_dir.mkdir(parents=True, exist_ok=True)
    mixture = _mixture(args, train_pairs, cfg.seed)
    seed_dir = last or args.vocab_dir or (args.warm_start if _use_warm_vocab(args) else None)
    vocab_dir = _vocabulary(args, mixture, seed_dir)
    vocab = json.loads((vocab_dir / "vocab.json").read_text(encoding="utf-8"))
    steps = SOURCE_STEPS_OF[args.direction]
    codec = Codec(
        (vocab_dir / "source.spm").read_bytes(),
        (vocab_dir / "target.spm").read_bytes(),
        vocab,
        steps,
        args.direction,
    )
    model = MarianMTModel(marian_config(vocab, cfg))
    checkpoints.zero_pad_row(model, codec.pad)
    reverse = args.direction == "en-zh"
    dev = dev_subset(dev_pairs, read_corpus_dev(args.corpus), reverse=reverse)
    run = Run(model, codec, mixture, dev, cfg, run_cfg, args.train_dir, vocab_dir)
    run.extra |= {
        "direction": args.direction,
        "source_preprocessing": list(steps),
        "vocab_size": len(vocab),
        "dev_sizes": {k: len(v) for k, v in dev.items()},
    }
    _start_state(args, run, model, vocab)
    logger.info("%d params, cfg %s, run %s", run.params, cfg, run_cfg)
    train_loop(run)
    return args.train_dir / "best"
