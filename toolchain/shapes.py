"""Random-weight stand-ins for published OPUS-MT models, built locally with their shapes.

Real weights cannot be downloaded here, so the export is checked on checkpoints that have
the published layer shapes, activation, embedding tying and vocabulary layout, random
weights, and real SentencePiece models (trained on the tiny corpus of toolchain/tiny.py,
then padded with dummy pieces to the published sizes, so that the shortlisted matrices,
and with them size on disk and decoding speed, are the real ones).

* ``opus-mt-en-zh``: Marian d512, 6+6 layers, 8 heads, FFN 2048, swish, everything tied,
  a joint vocabulary of 65,001 with ``<pad>`` = decoder start = 65000, 512 positions, and
  the target-language tokens (``>>cmn_Hans<<``...) a multi-target model reads first.
* ``opus-mt-tc-big-zh-en``: transformer-big, d1024, 6+6 layers, 16 heads, FFN 4096,
  relu, 1024 positions, with the variant a tc-big checkpoint may have that the exporter
  must handle: separate source and target vocabularies (``separate_vocabs``,
  ``share_encoder_decoder_embeddings=False``, a ``decoder_vocab_size`` of its own) and a
  decoder input embedding that is not the output projection.
* ``opus-mt-tc-bible-big-zhx-en``: the published transformer-big Chinese→English model
  (its config.json and generation_config.json): the same width with a joint vocabulary of
  58,592, everything tied, ``</s>`` at id 1979 rather than 0 and ``<pad>`` = 58591.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from sentencepiece import sentencepiece_model_pb2 as spm_pb2
from transformers import MarianConfig, MarianMTModel

from toolchain.export_vocab import pick_target_token
from toolchain.tiny import corpus, fit
from toolchain.vocab import SPECIAL_PIECES, target_piece_ids, train_spm

# The target languages opus-mt-en-zh's model card lists (eng-zho, Tatoeba-Challenge).
EN_ZH_LANGUAGE_TOKENS = tuple(
    f">>{code}<<"
    for code in "cjy_Hans cjy_Hant cmn cmn_Hans cmn_Hant gan lzh lzh_Hans nan wuu yue "
    "yue_Hans yue_Hant".split()
)


@dataclass(frozen=True)
class Shape:
    name: str
    reverse: bool  # English source, Chinese target
    d_model: int
    layers: int  # encoder and decoder each
    heads: int
    ffn: int
    activation: str
    max_positions: int
    source_pieces: int  # pieces of source.spm after padding
    # Joint layout: the size of vocab.json (target.spm is padded to reach it). Separate
    # layout (None): target.spm is padded to target_pieces.
    joint_size: int | None
    target_pieces: int = 0
    tied: bool = True  # the decoder's input embedding is its output projection
    language_tokens: tuple[str, ...] = ()
    eos_id: int = 0  # where </s> sits in the vocabulary (0 in opus-mt, elsewhere in tc-bible)
    spm_pieces: int = 120  # pieces of the SentencePiece models trained on the tiny corpus

    @property
    def separate(self) -> bool:
        return self.joint_size is None

    def scaled(self, **changes: Any) -> Shape:
        """The same layout with other sizes (fewer layers, a smaller width for tests)."""
        return replace(self, **changes)


SHAPES = {
    "opus-mt-en-zh": Shape(
        "opus-mt-en-zh",
        reverse=True,
        d_model=512,
        layers=6,
        heads=8,
        ffn=2048,
        activation="swish",
        max_positions=512,
        source_pieces=32_500,
        joint_size=65_001,
        language_tokens=EN_ZH_LANGUAGE_TOKENS,
    ),
    "opus-mt-tc-big-zh-en": Shape(
        "opus-mt-tc-big-zh-en",
        reverse=False,
        d_model=1024,
        layers=6,
        heads=16,
        ffn=4096,
        activation="relu",
        max_positions=1024,
        source_pieces=32_000,
        joint_size=None,
        target_pieces=30_000,
        tied=False,
    ),
    "opus-mt-tc-bible-big-zhx-en": Shape(
        "opus-mt-tc-bible-big-zhx-en",
        reverse=False,
        d_model=1024,
        layers=6,
        heads=16,
        ffn=4096,
        activation="relu",
        max_positions=1024,
        source_pieces=29_000,
        joint_size=58_592,
        eos_id=1979,
    ),
}


def pad_spm(model: bytes, pieces: int, tag: str) -> bytes:
    """Grow a SentencePiece model to *pieces* pieces with never-chosen dummy pieces."""
    proto = spm_pb2.ModelProto()
    proto.ParseFromString(model)
    extra = pieces - len(proto.pieces)
    if extra < 0:
        raise ValueError(f"the model already has {len(proto.pieces)} pieces (> {pieces})")
    lowest = min(p.score for p in proto.pieces) - 10.0
    for i in range(extra):
        piece = proto.pieces.add()
        piece.piece, piece.score = f"▁zz{tag}{i}", lowest - i * 1e-3
        piece.type = spm_pb2.ModelProto.SentencePiece.Type.NORMAL
    return proto.SerializeToString()


def _spm_pieces(model: bytes) -> list[str]:
    proto = spm_pb2.ModelProto()
    proto.ParseFromString(model)
    return [p.piece for p in proto.pieces if p.piece not in SPECIAL_PIECES]


def _vocab(*blocks: list[str] | tuple[str, ...], eos_id: int = 0) -> dict[str, int]:
    """``</s>`` (id *eos_id*), ``<unk>``, the pieces of *blocks* once each, ``<pad>`` last."""
    pieces = list(dict.fromkeys(["<unk>", *(p for block in blocks for p in block)]))
    pieces.insert(eos_id, "</s>")
    return {piece: i for i, piece in enumerate([*pieces, "<pad>"])}


def _tokenizers(shape: Shape, seed: int) -> tuple[bytes, bytes, dict[str, int], dict[str, int]]:
    """Source and target SentencePiece models and the (source, target) vocabularies."""
    zh, en = corpus(seed=seed)
    sources, targets = (en, zh) if shape.reverse else (zh, en)
    source = train_spm(sources, shape.spm_pieces, character_coverage=1.0)
    target = train_spm(targets, shape.spm_pieces, character_coverage=1.0)
    source = pad_spm(source, shape.source_pieces, "s")
    tokens, eos = shape.language_tokens, shape.eos_id
    if shape.joint_size is None:
        target = pad_spm(target, shape.target_pieces, "t")
        source_vocab = _vocab(tokens, _spm_pieces(source), eos_id=eos)
        return source, target, source_vocab, _vocab(_spm_pieces(target), eos_id=eos)
    unpadded = len(_vocab(tokens, _spm_pieces(source), _spm_pieces(target)))
    proto = spm_pb2.ModelProto()
    proto.ParseFromString(target)
    target = pad_spm(target, len(proto.pieces) + shape.joint_size - unpadded, "t")
    joint = _vocab(tokens, _spm_pieces(source), _spm_pieces(target), eos_id=eos)
    return source, target, joint, joint


def _write_tokenizer(out: Path, shape: Shape, files: tuple) -> None:
    source, target, source_vocab, target_vocab = files
    out.mkdir(parents=True, exist_ok=True)
    (out / "source.spm").write_bytes(source)
    (out / "target.spm").write_bytes(target)
    dump = {"vocab.json": source_vocab}
    if shape.separate:
        dump["target_vocab.json"] = target_vocab
    for name, vocab in dump.items():
        (out / name).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    langs = ("en", "zh") if shape.reverse else ("zh", "en")
    config = {
        "source_lang": langs[0],
        "target_lang": langs[1],
        "model_max_length": 512,
        "separate_vocabs": shape.separate,
        "tokenizer_class": "MarianTokenizer",
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


def marian_config(shape: Shape, source: dict[str, int], target: dict[str, int]) -> MarianConfig:
    """A config as transformers' Marian converter writes it for *shape*."""
    if shape.separate and shape.tied and len(source) != len(target):
        # transformers sizes the decoder embedding by vocab_size: tying it to an output
        # layer of decoder_vocab_size rows cannot run.
        raise ValueError("a tied decoder embedding needs equally large vocabularies")
    pad, eos = target["<pad>"], target["</s>"]
    return MarianConfig(
        vocab_size=len(source),
        decoder_vocab_size=len(target),
        d_model=shape.d_model,
        encoder_layers=shape.layers,
        decoder_layers=shape.layers,
        encoder_attention_heads=shape.heads,
        decoder_attention_heads=shape.heads,
        encoder_ffn_dim=shape.ffn,
        decoder_ffn_dim=shape.ffn,
        activation_function=shape.activation,
        max_position_embeddings=shape.max_positions,
        scale_embedding=True,
        static_position_embeddings=True,
        pad_token_id=pad,
        eos_token_id=eos,
        decoder_start_token_id=pad,
        forced_eos_token_id=eos,
        bad_words_ids=[[pad]],
        num_beams=4,
        max_length=512,
        dropout=0.1,
        attention_dropout=0.0,
        activation_dropout=0.0,
        share_encoder_decoder_embeddings=not shape.separate,
        tie_word_embeddings=shape.tied,
    )


def build(
    shape: Shape, out: Path, *, seed: int = 0, weight_std: float = 0.5, train_steps: int = 0
) -> Path:
    """Save a random-weight checkpoint of *shape* with its tokenizer files to *out*.

    ``weight_std`` makes the random model's choices confident (as toolchain/tiny.py
    does); ``train_steps`` instead teaches the model the tiny corpus's code, which makes
    its choices confident enough for INT8 to keep them (only sensible at small widths).
    """
    files = _tokenizers(shape, seed)
    _write_tokenizer(out, shape, files)
    source_spm, target_spm, source, target = files
    torch.manual_seed(seed)
    model = MarianMTModel(marian_config(shape, source, target)).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if not train_steps and param.dim() == 2 and "embed_positions" not in name:
                param.normal_(0.0, weight_std / param.shape[-1] ** 0.5 * 4)
        # Only target pieces are ever emitted, as by a trained model.
        bias = torch.full_like(model.final_logits_bias, -30.0)
        bias[0, target_piece_ids(target_spm, target)] = 0.0
        model.final_logits_bias.copy_(bias)
    if train_steps:
        zh, en = corpus(seed=seed)
        sources, targets = (en, zh) if shape.reverse else (zh, en)
        # The language token the export will put first (>>cmn_Hans<< for Chinese).
        token = pick_target_token(source, "auto", "zh" if shape.reverse else "en")
        prefix = [source[token]] if token else []
        spms = (source_spm, target_spm)
        fit(model, (source, target), spms, sources, targets, train_steps, seed, prefix=prefix)
    model.save_pretrained(out)
    return out
