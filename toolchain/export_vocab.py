"""Which vocabulary rows each exported graph keeps, and the ``vocab.json`` the service reads.

Marian checkpoints come in two vocabulary layouts:

* joint (opus-mt-zh-en, opus-mt-en-zh and most tc-big models): one ``vocab.json`` maps the
  pieces of both SentencePiece models to the ids of one embedding matrix;
* separate (``"separate_vocabs": true`` in ``tokenizer_config.json``, MarianConfig's
  ``share_encoder_decoder_embeddings=False`` with its own ``decoder_vocab_size``):
  ``vocab.json`` holds the source ids, ``target_vocab.json`` the target ids, and each
  indexes its own embedding.

The service reads one ``vocab.json`` (engine/contract.py). For the separate layout the
export writes a merged one: every source piece keeps its source id and target-only pieces
get the ids after them. ``vocab_rows.json`` names each graph row by that merged id; the
graphs themselves are built from the checkpoint's own ids of the same rows
(:attr:`VocabPlan.model_ids`). For the joint layout both numberings are the same.

Multi-target models (opus-mt-en-zh writes Mandarin, Cantonese, Classical Chinese... in
either script) expect a ``>>id<<`` language token before the source; MarianTokenizer puts
it there. The export bakes it into the encoder graph (:attr:`VocabPlan.prefix`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolchain.vocab import target_piece_ids

logger = logging.getLogger(__name__)

TARGET_VOCAB = "target_vocab.json"
LANGUAGE_TOKEN = re.compile(r">>[^<>\s]+<<")
# Language tokens tried, in order, for a target language when the vocabulary has them.
PREFERRED_TOKENS = {
    "zh": (">>cmn_Hans<<", ">>zho_Hans<<", ">>cmn<<", ">>zho<<", ">>zh<<"),
    "en": (">>eng<<", ">>en<<"),
}


@dataclass(frozen=True)
class VocabPlan:
    vocab: dict[str, int]  # the model directory's vocab.json
    rows: tuple[list[int], list[int]]  # vocab.json ids of the encoder's and decoder's rows
    model_ids: tuple[list[int], list[int]]  # checkpoint ids of the same rows
    source_vocab: dict[str, int]
    target_vocab: dict[str, int]
    prefix: tuple[int, ...] = ()  # checkpoint source ids put before every source
    prefix_pieces: tuple[str, ...] = ()

    @property
    def separate(self) -> bool:
        return self.source_vocab is not self.target_vocab

    def target_joint_id(self, model_id: int) -> int:
        """vocab.json id of the target piece the checkpoint numbers *model_id*."""
        if not self.separate:
            return model_id
        pieces = {i: p for p, i in self.target_vocab.items()}
        return self.vocab[pieces[model_id]]

    def summary(self, tied_decoder: bool) -> dict:
        """What the manifest records about the vocabulary (informative)."""
        return {
            "layout": "separate" if self.separate else "joint",
            "source_size": len(self.source_vocab),
            "target_size": len(self.target_vocab),
            "decoder_embedding": "tied" if tied_decoder else "untied",
            "source_prefix": list(self.prefix_pieces),
        }


def _load(path: Path) -> dict[str, int]:
    return json.loads(path.read_text(encoding="utf-8"))


def has_separate_vocabs(ckpt: Path) -> bool:
    config = ckpt / "tokenizer_config.json"
    separate = config.is_file() and bool(_load(config).get("separate_vocabs"))
    if separate and not (ckpt / TARGET_VOCAB).is_file():
        raise ValueError(f"{ckpt} declares separate vocabularies but has no {TARGET_VOCAB}")
    return separate


def _merged(source: dict[str, int], target: dict[str, int]) -> dict[str, int]:
    vocab = dict(source)
    next_id = max(source.values()) + 1
    for piece, _ in sorted(target.items(), key=lambda item: item[1]):
        if piece not in vocab:
            vocab[piece] = next_id
            next_id += 1
    return vocab


def _shortlist(spm: bytes, vocab: dict[str, int]) -> list[int]:
    """Ids of *spm*'s pieces in *vocab*, with ``</s>``, ``<unk>`` and ``<pad>``."""
    return sorted(set(target_piece_ids(spm, vocab)) | {vocab["<pad>"]})


def pick_target_token(vocab: dict[str, int], choice: str, target_lang: str) -> str | None:
    """The ``>>id<<`` token to put before every source, or None.

    *choice* is ``auto`` (the preferred token for *target_lang* if the vocabulary has
    language tokens at all; none, with a warning, if it has others only), ``none``, or a
    token itself.
    """
    if choice == "none":
        return None
    tokens = sorted(p for p in vocab if LANGUAGE_TOKEN.fullmatch(p))
    if choice != "auto":
        if choice not in vocab:
            raise ValueError(f"target token {choice!r} is not in vocab.json ({_few(tokens)})")
        return choice
    if not tokens:
        return None
    for token in (*PREFERRED_TOKENS.get(target_lang, ()), f">>{target_lang}<<"):
        if token in vocab:
            return token
    logger.warning(
        "the vocabulary has language tokens (%s) but none for %r: exporting without one; "
        "name one if the model expects it",
        _few(tokens),
        target_lang,
    )
    return None


def _few(tokens: Sequence[str]) -> str:
    shown = ", ".join(tokens[:16]) or "none"
    return shown + (f" and {len(tokens) - 16} more" if len(tokens) > 16 else "")


def plan_vocab(
    ckpt: Path,
    *,
    shortlist: bool = True,
    rows: tuple[list[int], list[int]] | None = None,
    target_token: str = "auto",
    target_lang: str = "en",
) -> VocabPlan:
    """Read the checkpoint's vocabularies and choose each graph's rows.

    *rows*, when given, are checkpoint ids (source, target) to keep instead of the
    pieces of ``source.spm`` and ``target.spm``.
    """
    source = _load(ckpt / "vocab.json")
    target = _load(ckpt / TARGET_VOCAB) if has_separate_vocabs(ckpt) else source
    vocab = _merged(source, target) if target is not source else source
    if rows is not None:
        model_ids = (sorted(rows[0]), sorted(rows[1]))
    elif shortlist:
        model_ids = (
            _shortlist((ckpt / "source.spm").read_bytes(), source),
            _shortlist((ckpt / "target.spm").read_bytes(), target),
        )
    else:
        model_ids = (sorted(source.values()), sorted(target.values()))
    token = pick_target_token(source, target_token, target_lang)
    target_pieces = {i: p for p, i in target.items()}
    return VocabPlan(
        vocab=vocab,
        rows=(model_ids[0], [vocab[target_pieces[i]] for i in model_ids[1]]),
        model_ids=model_ids,
        source_vocab=source,
        target_vocab=target,
        prefix=(source[token],) if token else (),
        prefix_pieces=(token,) if token else (),
    )
