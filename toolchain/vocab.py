"""SentencePiece models and the joint vocabulary of a Marian checkpoint.

The layout is the one ``transformers.MarianTokenizer`` reads (and opus-mt models ship):
``source.spm`` and ``target.spm`` trained separately, one ``vocab.json`` mapping every
piece of both to an id, ``</s>`` = 0, ``<unk>`` = 1 and ``<pad>`` last.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import sentencepiece as spm

from text.spans import PLACEHOLDERS

SPECIAL_PIECES = ("<unk>", "<s>", "</s>")


def train_spm(
    lines: Iterable[str],
    vocab_size: int,
    *,
    character_coverage: float,
    user_symbols: Sequence[str] = PLACEHOLDERS,
    seed_sentencepiece_size: int = 200_000,
) -> bytes:
    """Train a unigram SentencePiece model in memory and return its serialized bytes."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(lines)),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=character_coverage,
        user_defined_symbols=list(user_symbols),
        # Marian checkpoints look ids up in vocab.json; the spm ids themselves are unused.
        unk_id=0,
        bos_id=-1,
        eos_id=1,
        pad_id=-1,
        hard_vocab_limit=False,
        seed_sentencepiece_size=seed_sentencepiece_size,
        num_threads=2,
        minloglevel=2,
    )
    return model.getvalue()


def joint_vocab(source_spm: bytes, target_spm: bytes) -> dict[str, int]:
    """Map ``</s>``, ``<unk>``, every piece of both models, then ``<pad>`` to ids."""
    vocab = {"</s>": 0, "<unk>": 1}
    for blob in (source_spm, target_spm):
        processor = spm.SentencePieceProcessor(model_proto=blob)
        for i in range(processor.get_piece_size()):
            piece = processor.id_to_piece(i)
            if piece not in SPECIAL_PIECES and piece not in vocab:
                vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


def write_tokenizer_files(
    out_dir: Path, source_spm: bytes, target_spm: bytes, max_length: int = 512
) -> dict[str, int]:
    """Write source.spm, target.spm, vocab.json and tokenizer_config.json; return the vocab."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "source.spm").write_bytes(source_spm)
    (out_dir / "target.spm").write_bytes(target_spm)
    vocab = joint_vocab(source_spm, target_spm)
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    config = {
        "source_lang": "zh",
        "target_lang": "en",
        "model_max_length": max_length,
        "separate_vocabs": False,
        "tokenizer_class": "MarianTokenizer",
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return vocab


def target_piece_ids(target_spm: bytes, vocab: dict[str, int]) -> list[int]:
    """Ids of the pieces the decoder can emit: the target model's pieces plus ``</s>``."""
    processor = spm.SentencePieceProcessor(model_proto=target_spm)
    ids = {vocab["</s>"], vocab["<unk>"]}
    for i in range(processor.get_piece_size()):
        piece = processor.id_to_piece(i)
        if piece in vocab:
            ids.add(vocab[piece])
    return sorted(ids)
