"""A training run that outlives sessions: step-based, checkpointed, resumable.

Used by ``zh-en-translator train-demo --corpus ...``. Each epoch's examples come from a
:class:`toolchain.mixture.Mixture`; batches are rebuilt from (seed, epoch) so the data
position is just (epoch, batch index). Every ``eval_every`` steps a small fixed dev set
per source is translated greedily; the scores go to the log and ``history.json``, and the
best weights by the selection score go to ``best/``. ``last/`` is rewritten every
``checkpoint_minutes`` and at every evaluation; SIGTERM saves it too before exiting.

The learning rate follows warm-up then cosine decay over a *progress* counter in 0..1
that advances by a step's share of ``total_steps``, or to the share of the session's time
budget gone by (wall clock, evaluations included), whichever is more, so a run ends at a
low rate whether steps or time run out.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sacrebleu
import torch
from transformers import MarianMTModel

from toolchain import checkpoints
from toolchain.mixture import TATOEBA, Mixture
from toolchain.trainer import Codec, TrainConfig, _batches, _collate, _lr_factor, translate

logger = logging.getLogger(__name__)


@dataclass
class RunConfig:
    """How long and how often: the loop's settings beside the model's TrainConfig."""

    total_steps: int = 20000
    max_minutes: float | None = None
    eval_every: int = 500
    checkpoint_minutes: float = 10.0
    restart_lr: bool = False
    # Weights of the newest N evaluations, kept in evals/ for checkpoint averaging.
    keep_evals: int = 0


def fresh_state() -> dict[str, Any]:
    return {
        "step": 0,
        "epoch": 0,
        "batch": 0,
        "progress": 0.0,
        "best_score": -1.0,
        "best_step": 0,
        "train_seconds": 0.0,
        "dev_fingerprint": "",
        "history": [],
    }


def dev_fingerprint(dev: Mapping[str, list[tuple[str, str]]]) -> str:
    """A short hash of the dev subsets: scores on different subsets do not compare."""
    digest = hashlib.sha256(json.dumps(sorted(dev.items()), ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def evaluate(
    model: MarianMTModel, codec: Codec, dev: Mapping[str, list[tuple[str, str]]]
) -> dict[str, float]:
    """Greedy BLEU per dev source, ``all`` over everything, and the selection ``score``.

    The score weighs Tatoeba (in-domain, the shipped target) as half, and the mean of the
    corpus domains as the other half.
    """
    scores: dict[str, float] = {}
    all_hyps: list[str] = []
    all_refs: list[str] = []
    for name, pairs in dev.items():
        hyps = translate(model, codec, [src for src, _ in pairs])
        refs = [ref for _, ref in pairs]
        bleu = sacrebleu.corpus_bleu(hyps, [refs], tokenize=codec.tokenize)
        scores[name] = round(bleu.score, 2)
        all_hyps += hyps
        all_refs += refs
    bleu = sacrebleu.corpus_bleu(all_hyps, [all_refs], tokenize=codec.tokenize)
    scores["all"] = round(bleu.score, 2)
    others = [v for k, v in scores.items() if k not in (TATOEBA, "all")]
    domain_mean = sum(others) / len(others) if others else scores.get(TATOEBA, 0.0)
    scores["score"] = round(0.5 * scores.get(TATOEBA, domain_mean) + 0.5 * domain_mean, 2)
    return scores


class _Stop:
    """Set by SIGTERM/SIGINT so the loop can checkpoint before it exits."""

    def __init__(self) -> None:
        self.requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        logger.warning("signal %d: checkpointing and stopping", signum)
        self.requested = True


class Run:
    """One session of a run: model, optimizer, data and the state that carries over."""

    def __init__(
        self,
        model: MarianMTModel,
        codec: Codec,
        mixture: Mixture,
        dev: Mapping[str, list[tuple[str, str]]],
        cfg: TrainConfig,
        run: RunConfig,
        out: Path,
        vocab_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.model, self.codec, self.mixture, self.dev = model, codec, mixture, dev
        self.cfg, self.run, self.out, self.vocab_dir = cfg, run, out, vocab_dir
        self.opt = torch.optim.AdamW(
            model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), weight_decay=cfg.weight_decay
        )
        self.loss_fn = torch.nn.CrossEntropyLoss(
            ignore_index=-100, label_smoothing=cfg.label_smoothing
        )
        self.state = fresh_state()
        self.started = clock()
        self.progress_start = 0.0
        self.params = sum(p.numel() for p in model.parameters())
        self.extra: dict[str, Any] = {}

    # --- data ----------------------------------------------------------------------

    def epoch_data(self, epoch: int) -> tuple[list, list[list[int]]]:
        """Encoded examples of *epoch* and its batches, rebuilt identically on resume."""
        t0 = time.time()
        examples = [
            (self.codec.encode(s), self.codec.encode_target(t))
            for s, t in self.mixture.epoch(epoch)
        ]
        examples = [e for e in examples if max(map(len, e)) <= self.cfg.max_positions]
        rng = random.Random(f"{self.cfg.seed}:{epoch}:batches")
        batches = _batches(examples, self.cfg.batch_tokens, rng)
        logger.info(
            "epoch %d: %d examples, %d batches (%.0f s)",
            epoch,
            len(examples),
            len(batches),
            time.time() - t0,
        )
        return examples, batches

    # --- schedule ------------------------------------------------------------------

    def _advance(self) -> float:
        """Move the progress counter on by one step; return the learning rate."""
        st, run = self.state, self.run
        progress = st["progress"] + 1.0 / run.total_steps
        if run.max_minutes:
            # By the session's wall clock, evaluations included, so that the schedule
            # ends when the time budget does.
            share = (self.clock() - self.started) / (run.max_minutes * 60)
            progress = max(progress, self.progress_start + (1.0 - self.progress_start) * share)
        st["progress"] = 1.0 if progress >= 1.0 - 1e-9 else progress
        warm = st["step"] - st.get("warmup_from", 0)
        return self.cfg.lr * _lr_factor(warm, self.cfg.warmup_steps, st["progress"])

    def begin_session(self) -> None:
        """Reset the per-session clock; restart the schedule if asked or finished."""
        st = self.state
        if self.run.restart_lr or st["progress"] >= 0.999:
            logger.info("learning-rate schedule restarts at step %d", st["step"])
            st["progress"], st["warmup_from"] = 0.0, st["step"]
        self.progress_start = st["progress"]
        self.started = self.clock()
        fingerprint = dev_fingerprint(self.dev)
        if st.get("dev_fingerprint") != fingerprint:
            if st["best_score"] > -1.0:
                logger.warning(
                    "dev subsets differ from those of the best score %.2f (step %d): "
                    "the best is chosen afresh in this session",
                    st["best_score"],
                    st["best_step"],
                )
            st["best_score"], st["best_step"] = -1.0, 0
            st["dev_fingerprint"] = fingerprint

    def done(self) -> bool:
        if self.state["progress"] >= 1.0:
            return True
        minutes = (self.clock() - self.started) / 60
        return bool(self.run.max_minutes and minutes >= self.run.max_minutes)

    # --- one step ------------------------------------------------------------------

    def step(self, examples: list, idx: list[int]) -> tuple[float, int]:
        batch = _collate(examples, idx, self.codec.pad)
        labels = batch.pop("labels")
        self.model.train()
        logits = self.model(**batch).logits
        loss = self.loss_fn(logits.view(-1, logits.size(-1)), labels.view(-1))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        lr = self._advance()
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.step()
        checkpoints.zero_pad_row(self.model, self.codec.pad)
        self.state["step"] += 1
        return float(loss.detach()), int((labels != -100).sum())

    # --- bookkeeping ---------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        st = self.state
        return {
            "config": asdict(self.cfg),
            "run": asdict(self.run),
            "mixture": {
                "weights": self.mixture.cfg.weights,
                "sizes": self.mixture.sizes(),
                "dict_cap": self.mixture.cfg.dict_cap,
                "dict_order": "random" if self.mixture.cfg.dict_ranks is None else "frequency",
            },
            "params": self.params,
            "steps": st["step"],
            "history": st["history"],
            "chosen": f"best_step_{st['best_step']}",
            "train_minutes": round(st["train_seconds"] / 60, 1),
            "train_state": {k: v for k, v in st.items() if k != "history"},
            **self.extra,
        }

    def save_last(self) -> None:
        checkpoints.save_last(
            self.out / "last", self.model, self.opt, self.vocab_dir, self.state, self.summary()
        )

    def evaluate_and_keep(self, loss: float) -> dict[str, float]:
        t0 = time.time()
        scores = evaluate(self.model, self.codec, self.dev)
        st = self.state
        entry = {
            "step": st["step"],
            "epoch": st["epoch"],
            "loss": round(loss, 4),
            "lr_progress": round(st["progress"], 4),
            "train_minutes": round(st["train_seconds"] / 60, 1),
            "eval_seconds": round(time.time() - t0, 1),
            **scores,
        }
        st["history"].append(entry)
        logger.info("eval %s", json.dumps(entry))
        if scores["score"] > st["best_score"]:
            st["best_score"], st["best_step"] = scores["score"], st["step"]
            checkpoints.save_model_dir(
                self.out / "best", self.model, self.vocab_dir, self.summary()
            )
            logger.info("new best score %.2f at step %d → best/", scores["score"], st["step"])
        (self.out / "history.json").write_text(json.dumps(st["history"], indent=1))
        if self.run.keep_evals > 0:
            self._keep_eval(st["step"])
        self.save_last()
        return scores

    def _keep_eval(self, step: int) -> None:
        evals = self.out / "evals"
        checkpoints.save_model_dir(
            evals / f"step_{step:06d}", self.model, self.vocab_dir, self.summary()
        )
        for old in kept_evals(self.out)[: -self.run.keep_evals]:
            shutil.rmtree(old)


def kept_evals(out: Path) -> list[Path]:
    """The evaluations' weights ``--keep-evals`` kept under *out*, oldest first."""
    # A save cut short leaves step_N.tmp behind; it is not a checkpoint.
    return sorted(p for p in (out / "evals").glob("step_*") if "." not in p.name)


def _log_progress(run: Run, loss: float, tokens: int, seconds: float, steps: int) -> None:
    st = run.state
    lr = run.opt.param_groups[0]["lr"]
    logger.info(
        "step %d epoch %d batch %d loss %.3f lr %.2e progress %.3f %.2f s/step %.0f tok/s",
        st["step"],
        st["epoch"],
        st["batch"],
        loss / max(1, tokens),
        lr,
        st["progress"],
        seconds / max(1, steps),
        tokens / max(1e-9, seconds),
    )


def train_loop(run: Run) -> dict[str, Any]:
    """Train until the schedule or the time budget ends (or SIGTERM); return the summary."""
    stop = _Stop()
    st, rc = run.state, run.run
    run.begin_session()
    last_save = window_start = time.time()
    loss_sum = tokens = eval_loss = eval_tok = 0.0
    window_steps = 0
    while not run.done() and not stop.requested:
        examples, batches = run.epoch_data(st["epoch"])
        while st["batch"] < len(batches) and not run.done() and not stop.requested:
            t0 = time.time()
            loss, tok = run.step(examples, batches[st["batch"]])
            st["batch"] += 1
            st["train_seconds"] += time.time() - t0
            loss_sum, tokens, window_steps = loss_sum + loss * tok, tokens + tok, window_steps + 1
            eval_loss, eval_tok = eval_loss + loss * tok, eval_tok + tok
            if st["step"] % 100 == 0:
                _log_progress(run, loss_sum, int(tokens), time.time() - window_start, window_steps)
                loss_sum = tokens = window_steps = 0
                window_start = time.time()
            if st["step"] % rc.eval_every == 0:
                run.evaluate_and_keep(eval_loss / max(1.0, eval_tok))
                eval_loss = eval_tok = 0.0
                last_save = window_start = time.time()
            elif time.time() - last_save >= rc.checkpoint_minutes * 60:
                run.save_last()
                last_save = time.time()
        if st["batch"] >= len(batches):
            st["epoch"], st["batch"] = st["epoch"] + 1, 0
    if stop.requested:
        run.save_last()
    history = st["history"]
    if not history or history[-1]["step"] != st["step"]:
        run.evaluate_and_keep(eval_loss / max(1.0, eval_tok))
    else:
        run.save_last()
    logger.info(
        "stopped at step %d; best score %.2f at step %d",
        st["step"],
        st["best_score"],
        st["best_step"],
    )
    return run.summary()
