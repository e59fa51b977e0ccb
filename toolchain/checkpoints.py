"""Checkpoints of a long training run that survive the session it ran in.

``last/`` holds everything needed to continue exactly (weights, optimizer, step, data
position, RNG states); ``best/`` holds the best-by-dev weights as a complete
transformers Marian checkpoint, ready for ``train-demo --stage export``. A committed
checkpoint (``models/.../checkpoint``) carries the small JSON state in its
``training_summary.json`` under ``train_state``, so a session without ``build/`` can
warm-start from it: the weights, plus step, epoch, best score and schedule position.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import MarianMTModel

logger = logging.getLogger(__name__)

TOKENIZER_FILES = ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json")
STATE_FILE = "train_state.json"
SUMMARY_FILE = "training_summary.json"


def zero_pad_row(model: MarianMTModel, pad: int) -> None:
    """Keep the tied ``<pad>`` embedding row at zero (HF Marian and CTranslate2 assume it)."""
    with torch.no_grad():
        model.get_input_embeddings().weight[pad].zero_()


def _replace_dir(tmp: Path, dest: Path) -> None:
    old = dest.with_name(dest.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if dest.exists():
        dest.rename(old)
    tmp.rename(dest)
    if old.exists():
        shutil.rmtree(old)


def _fresh_tmp(dest: Path) -> Path:
    tmp = dest.with_name(dest.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def save_model_dir(
    dest: Path, model: MarianMTModel, vocab_dir: Path, summary: dict[str, Any]
) -> None:
    """A complete Marian checkpoint (weights, tokenizer files, training summary), atomically."""
    tmp = _fresh_tmp(dest)
    model.save_pretrained(tmp)
    for name in TOKENIZER_FILES:
        shutil.copyfile(vocab_dir / name, tmp / name)
    (tmp / SUMMARY_FILE).write_text(json.dumps(summary, indent=1))
    _replace_dir(tmp, dest)


def save_last(
    dest: Path,
    model: MarianMTModel,
    opt: torch.optim.Optimizer,
    vocab_dir: Path,
    state: dict[str, Any],
    summary: dict[str, Any],
) -> None:
    """Everything needed to resume: model dir plus optimizer, RNG and loop state."""
    tmp = _fresh_tmp(dest)
    model.save_pretrained(tmp)
    for name in TOKENIZER_FILES:
        shutil.copyfile(vocab_dir / name, tmp / name)
    (tmp / SUMMARY_FILE).write_text(json.dumps(summary, indent=1))
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    rng = {"torch": torch.get_rng_state(), "python": random.getstate()}
    torch.save(rng, tmp / "rng.pt")
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=1))
    _replace_dir(tmp, dest)
    logger.info("checkpoint → %s (step %d)", dest, state["step"])


def load_last(src: Path, model: MarianMTModel, opt: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore weights, optimizer and RNG from ``last/``; return the loop state."""
    model.load_state_dict(_load_weights(src), strict=False)
    opt.load_state_dict(torch.load(src / "optimizer.pt", weights_only=False))
    rng = torch.load(src / "rng.pt", weights_only=False)
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    state = json.loads((src / STATE_FILE).read_text())
    logger.info("resumed from %s at step %d", src, state["step"])
    return state


def average_model_dirs(sources: list[Path], dest: Path) -> list[str]:
    """Write the mean of *sources*' weights to *dest*, a model dir like the newest source.

    The mean of a late run's last few evaluations usually scores above any one of them;
    the ``<pad>`` row stays zero because it is zero in each. Returns the averaged names.
    """
    if not sources:
        raise ValueError("nothing to average: no checkpoint directories given")
    newest = sorted(sources)[-1]
    states = [load_file(str(src / "model.safetensors")) for src in sources]
    keys = set(states[0])
    for src, state in zip(sources, states, strict=True):
        if set(state) != keys:
            raise ValueError(f"{src} holds other tensors than {sources[0]}: not one run")
    mean = {
        k: (sum(s[k].double() for s in states) / len(states)).to(v.dtype)
        if v.is_floating_point()
        else v
        for k, v in states[0].items()
    }
    tmp = _fresh_tmp(dest)
    for item in newest.iterdir():
        if item.is_file() and item.name != "model.safetensors":
            shutil.copyfile(item, tmp / item.name)
    save_file(mean, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    names = [src.name for src in sources]
    summary_path = tmp / SUMMARY_FILE
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        summary["averaged"] = names
        summary_path.write_text(json.dumps(summary, indent=1))
    _replace_dir(tmp, dest)
    logger.info("average of %s → %s", names, dest)
    return names


def _load_weights(src: Path) -> dict[str, torch.Tensor]:
    state = load_file(str(src / "model.safetensors"))
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def committed_state(src: Path) -> dict[str, Any] | None:
    """The ``train_state`` a committed checkpoint carries, if any."""
    path = src / SUMMARY_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("train_state")


_EMBEDDING_KEYS = (
    "model.shared.weight",
    "model.encoder.embed_tokens.weight",
    "model.decoder.embed_tokens.weight",
    "lm_head.weight",
)


def warm_start(
    model: MarianMTModel, src: Path, vocab: dict[str, int], source_spm: Path | None = None
) -> dict[str, int]:
    """Copy *src*'s weights into *model*; embedding rows are matched by piece.

    Layers of the same shape are copied as they are. Rows of pieces that exist in both
    vocabularies are copied. A new piece of *source_spm* (the run's source model) that
    *src*'s source model splits into known pieces (a word added by
    ``toolchain.vocab_extend``) starts as the mean of their rows; the others keep their
    fresh initialisation. Returns counts.
    """
    old_vocab = json.loads((src / "vocab.json").read_text(encoding="utf-8"))
    old = _load_weights(src)
    own = model.state_dict()
    copied = skipped = 0
    new_state = {}
    for key, value in own.items():
        if key in _EMBEDDING_KEYS or key == "final_logits_bias" or key not in old:
            continue
        if old[key].shape == value.shape:
            new_state[key] = old[key]
            copied += 1
        else:
            skipped += 1
    shared = [(i, old_vocab[p]) for p, i in vocab.items() if p in old_vocab]
    new_ids = torch.tensor([i for i, _ in shared])
    old_ids = torch.tensor([j for _, j in shared])
    emb = own["model.shared.weight"].clone()
    old_emb = old["model.shared.weight"]
    composed: dict[int, list[int]] = {}
    if emb.shape[1] == old_emb.shape[1]:
        emb[new_ids] = old_emb[old_ids]
        composed = _composed_rows(src, source_spm, vocab, old_vocab) if source_spm else {}
        for row, parts in composed.items():
            emb[row] = old_emb[parts].mean(dim=0)
    for key in _EMBEDDING_KEYS:
        if key in own:
            new_state[key] = emb
    if "final_logits_bias" in own and "final_logits_bias" in old:
        bias = torch.zeros_like(own["final_logits_bias"])
        bias[0, new_ids] = old["final_logits_bias"][0, old_ids]
        for row, parts in composed.items():
            bias[0, row] = old["final_logits_bias"][0, parts].mean()
        new_state["final_logits_bias"] = bias
    model.load_state_dict(new_state, strict=False)
    zero_pad_row(model, vocab["<pad>"])
    counts = {"tensors": copied, "skipped": skipped, "rows": len(shared), "vocab": len(vocab)}
    if composed:
        counts["composed_rows"] = len(composed)
    logger.info("warm start from %s: %s", src, counts)
    return counts


def _composed_rows(
    src: Path, source_spm: Path, vocab: dict[str, int], old_vocab: dict[str, int]
) -> dict[int, list[int]]:
    """New source piece's id → the old ids of the pieces *src*'s source model splits it into."""
    old_spm = src / "source.spm"
    if not old_spm.is_file():
        return {}
    import sentencepiece as spm

    old = spm.SentencePieceProcessor(model_file=str(old_spm))
    new = spm.SentencePieceProcessor(model_file=str(source_spm))
    rows = {}
    for piece in (new.id_to_piece(i) for i in range(new.get_piece_size())):
        if piece in old_vocab or piece not in vocab:
            continue
        split = old.encode(piece.lstrip("\u2581"), out_type=str)
        if split and all(p in old_vocab for p in split):
            rows[vocab[piece]] = [old_vocab[p] for p in split]
    return rows
