"""Train a small Marian zh→en model on CPU (used by scripts/train_demo_model.py).

Plain PyTorch loop around ``transformers.MarianMTModel``: token-bucketed batches,
label-smoothed cross-entropy, AdamW with linear warm-up and cosine decay, a dev BLEU
after every epoch, and an average of the best checkpoints at the end.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import sacrebleu
import sentencepiece as spm
import torch
from transformers import MarianConfig, MarianMTModel

from text.languages import language
from text.normalize import SourcePreprocessor, clean_input
from text.spans import SpanGuard
from toolchain.checkpoints import zero_pad_row

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    d_model: int = 256
    encoder_layers: int = 4
    decoder_layers: int = 3
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.3
    attention_dropout: float = 0.1
    activation_dropout: float = 0.1
    label_smoothing: float = 0.1
    lr: float = 1e-3
    warmup_steps: int = 400
    weight_decay: float = 1e-4
    batch_tokens: int = 3000
    epochs: int = 30
    average_best: int = 5
    max_positions: int = 256
    seed: int = 1234


def marian_config(vocab: dict[str, int], cfg: TrainConfig) -> MarianConfig:
    """Return a Marian config with opus-mt conventions (tied embeddings, pad last)."""
    pad = vocab["<pad>"]
    return MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=len(vocab),
        d_model=cfg.d_model,
        encoder_layers=cfg.encoder_layers,
        decoder_layers=cfg.decoder_layers,
        encoder_attention_heads=cfg.heads,
        decoder_attention_heads=cfg.heads,
        encoder_ffn_dim=cfg.ffn,
        decoder_ffn_dim=cfg.ffn,
        dropout=cfg.dropout,
        attention_dropout=cfg.attention_dropout,
        activation_dropout=cfg.activation_dropout,
        activation_function="swish",
        max_position_embeddings=cfg.max_positions,
        scale_embedding=True,
        pad_token_id=pad,
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=pad,
        forced_eos_token_id=vocab["</s>"],
        bad_words_ids=[[pad]],
        num_beams=4,
        max_length=cfg.max_positions,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
    )


class Codec:
    """Source encoding and target decoding exactly as the service does them."""

    def __init__(
        self,
        source_spm: bytes,
        target_spm: bytes,
        vocab: dict[str, int],
        steps: Sequence[str],
        direction: str = "zh-en",
    ) -> None:
        self.src = spm.SentencePieceProcessor(model_proto=source_spm)
        self.tgt = spm.SentencePieceProcessor(model_proto=target_spm)
        self.vocab = vocab
        self.inverse = {i: p for p, i in vocab.items()}
        self.unk, self.eos, self.pad = vocab["<unk>"], vocab["</s>"], vocab["<pad>"]
        self.preprocess = SourcePreprocessor(steps)
        source, target = direction.split("-", 1)
        self.guard = SpanGuard("placeholder", finder=language(source).find_spans)
        # sacrebleu's tokenizer for the target side: Chinese has no spaces to split on.
        self.tokenize = "zh" if target == "zh" else "13a"

    def encode(self, text: str, sp: spm.SentencePieceProcessor | None = None) -> list[int]:
        pieces = (sp or self.src).encode(text, out_type=str)
        return [self.vocab.get(p, self.unk) for p in pieces] + [self.eos]

    def encode_target(self, text: str) -> list[int]:
        return self.encode(text, self.tgt)

    def decode(self, ids: Sequence[int]) -> str:
        pieces = [self.inverse[i] for i in ids if i not in (self.eos, self.pad)]
        return self.tgt.decode_pieces(pieces)


def _batches(
    examples: list[tuple[list[int], list[int]]], max_tokens: int, rng: random.Random
) -> list[list[int]]:
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), rng.random()))
    batches, current, longest = [], [], 0
    for i in order:
        longest_next = max(longest, len(examples[i][0]), len(examples[i][1]))
        if current and longest_next * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest_next = [], max(len(examples[i][0]), len(examples[i][1]))
        current.append(i)
        longest = longest_next
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def _collate(
    examples: list[tuple[list[int], list[int]]], idx: list[int], pad: int
) -> dict[str, torch.Tensor]:
    src = [examples[i][0] for i in idx]
    tgt = [examples[i][1] for i in idx]
    s_len, t_len = max(map(len, src)), max(map(len, tgt))
    input_ids = torch.full((len(idx), s_len), pad, dtype=torch.long)
    labels = torch.full((len(idx), t_len), -100, dtype=torch.long)
    dec_in = torch.full((len(idx), t_len), pad, dtype=torch.long)
    for row, (s, t) in enumerate(zip(src, tgt, strict=True)):
        input_ids[row, : len(s)] = torch.tensor(s)
        labels[row, : len(t)] = torch.tensor(t)
        dec_in[row, 1 : len(t)] = torch.tensor(t[:-1])
    return {
        "input_ids": input_ids,
        "attention_mask": (input_ids != pad).long(),
        "decoder_input_ids": dec_in,
        "labels": labels,
    }


@torch.no_grad()
def translate(
    model: MarianMTModel, codec: Codec, sentences: Sequence[str], beams: int = 1
) -> list[str]:
    """Greedy (or beam) translations of raw source sentences, spans masked and restored."""
    model.eval()
    out = []
    for start in range(0, len(sentences), 64):
        chunk = sentences[start : start + 64]
        protected = [codec.guard.protect(clean_input(s)) for s in chunk]
        ids = [codec.encode(codec.preprocess(p.text)) for p in protected]
        width = max(map(len, ids))
        batch = torch.full((len(ids), width), codec.pad, dtype=torch.long)
        for row, seq in enumerate(ids):
            batch[row, : len(seq)] = torch.tensor(seq)
        gen = model.generate(
            input_ids=batch,
            attention_mask=(batch != codec.pad).long(),
            num_beams=beams,
            max_new_tokens=2 * width + 10,
            do_sample=False,
        )
        for row, prot in zip(gen.tolist(), protected, strict=True):
            text = codec.decode(row)
            out.append(codec.guard.restore(text, prot) or text)
    return out


def dev_bleu(model: MarianMTModel, codec: Codec, dev: Sequence[tuple[str, str]]) -> float:
    hyps = translate(model, codec, [src for src, _ in dev])
    return sacrebleu.corpus_bleu(hyps, [[ref for _, ref in dev]], tokenize=codec.tokenize).score


def _lr_factor(step: int, warmup: int, progress: float) -> float:
    """Linear warm-up, then cosine decay to 5 % over *progress* (0..1) of the budget."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _average(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    avg = copy.deepcopy(states[0])
    for key in avg:
        if avg[key].is_floating_point():
            avg[key] = sum(s[key] for s in states) / len(states)
    return avg


@dataclass
class _Schedule:
    """Learning rate by step, or by elapsed share of the time budget if that runs out first.

    Following the clock too means a slower (or busier) machine still ends training at a
    low learning rate instead of being cut off at a high one.
    """

    peak: float
    warmup: int
    total_steps: int
    budget_s: float | None
    started: float
    step: int = 0

    def next_lr(self) -> float:
        progress = self.step / self.total_steps
        if self.budget_s:
            progress = max(progress, (time.time() - self.started) / self.budget_s)
        self.step += 1
        return self.peak * _lr_factor(self.step - 1, self.warmup, progress)


def _train_epoch(
    model: MarianMTModel,
    opt: torch.optim.Optimizer,
    schedule: _Schedule,
    examples: list,
    codec: Codec,
    cfg: TrainConfig,
    rng: random.Random,
) -> float:
    """One pass over the data; return the mean loss per target token."""
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=cfg.label_smoothing)
    model.train()
    tot_loss = n_tok = 0.0
    for idx in _batches(examples, cfg.batch_tokens, rng):
        batch = _collate(examples, idx, codec.pad)
        labels = batch.pop("labels")
        logits = model(**batch).logits
        loss = loss_fn(logits.view(-1, logits.size(-1)), labels.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        lr = schedule.next_lr()
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        zero_pad_row(model, codec.pad)
        tokens = int((labels != -100).sum())
        tot_loss += float(loss.detach()) * tokens
        n_tok += tokens
    return tot_loss / max(1.0, n_tok)


def _choose(
    model: MarianMTModel, codec: Codec, dev_pairs: list, states: list, average: int
) -> tuple[str, dict[str, float]]:
    """Load the best of: best epoch, average of the best k, average of the last k."""
    best = sorted(states, key=lambda s: -s[0])
    candidates = {"best_epoch": best[0][2]}
    if len(best) > 1:
        candidates[f"avg_best_{average}"] = _average([s[2] for s in best[:average]])
        last_k = sorted(states, key=lambda s: -s[1])[:average]
        candidates[f"avg_last_{average}"] = _average([s[2] for s in last_k])
    scores = {}
    for name, state in candidates.items():
        model.load_state_dict(state)
        scores[name] = dev_bleu(model, codec, dev_pairs)
        logger.info("candidate %s dev BLEU %.2f", name, scores[name])
    chosen = max(scores, key=scores.get)
    model.load_state_dict(candidates[chosen])
    return chosen, scores


def train(
    codec: Codec,
    train_pairs: list[tuple[str, str]],
    dev_pairs: list[tuple[str, str]],
    cfg: TrainConfig,
    work_dir: Path,
    max_minutes: float | None = None,
) -> tuple[MarianMTModel, dict]:
    """Train, keep per-epoch states, return the best of {best epoch, averaged best k}."""
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    examples = [(codec.encode(s), codec.encode_target(t)) for s, t in train_pairs]
    examples = [e for e in examples if max(map(len, e)) <= cfg.max_positions]
    model = MarianMTModel(marian_config(codec.vocab, cfg))
    zero_pad_row(model, codec.pad)
    n_params = sum(p.numel() for p in model.parameters())
    steps_per_epoch = len(_batches(examples, cfg.batch_tokens, random.Random(0)))
    logger.info("%d examples, %d params, %d steps/epoch", len(examples), n_params, steps_per_epoch)
    opt = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), weight_decay=cfg.weight_decay
    )
    started = time.time()
    budget = max_minutes * 60 if max_minutes else None
    schedule = _Schedule(cfg.lr, cfg.warmup_steps, steps_per_epoch * cfg.epochs, budget, started)
    history, states = [], []
    for epoch in range(1, cfg.epochs + 1):
        loss = _train_epoch(model, opt, schedule, examples, codec, cfg, rng)
        bleu = dev_bleu(model, codec, dev_pairs)
        minutes = (time.time() - started) / 60
        history.append({"epoch": epoch, "loss": loss, "dev_bleu": bleu, "min": minutes})
        logger.info("epoch %d loss %.3f dev BLEU %.2f (%.1f min)", epoch, loss, bleu, minutes)
        states.append((bleu, epoch, {k: v.clone() for k, v in model.state_dict().items()}))
        (work_dir / "history.json").write_text(json.dumps(history, indent=1))
        if budget and minutes * 60 >= budget:
            logger.info("time budget of %.0f min reached", max_minutes)
            break
    chosen, scores = _choose(model, codec, dev_pairs, states, cfg.average_best)
    summary = {
        "config": asdict(cfg),
        "params": n_params,
        "steps": schedule.step,
        "history": history,
        "candidates": scores,
        "chosen": chosen,
        "train_minutes": round((time.time() - started) / 60, 1),
    }
    return model, summary
