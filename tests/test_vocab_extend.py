"""Whole-word source pieces (toolchain/vocab_extend.py) and their warm start, on invented data."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import sentencepiece as spm
import torch
from safetensors.torch import load_file
from transformers import MarianMTModel

from toolchain import checkpoints, vocab_extend
from toolchain.tiny import build_checkpoint
from toolchain.trainer import TrainConfig, marian_config
from toolchain.vocab import train_spm, write_tokenizer_files

CHARS = "你好像世界打开文件我们说来去大小"
GLOSSES = {
    "你好": "hello; hi",
    "打开": "to open",
    "世界": "world",
    "你": "you",
    "好": "good; well",
    "打": "to hit; to open (a box)",
    "开": "to open; to start",
    "世": "life; age",
    "界": "boundary",
    "像": "to resemble",
    "好像": "to seem",
}
SMALL = TrainConfig(
    d_model=16, encoder_layers=1, decoder_layers=1, heads=2, ffn=32, max_positions=64
)  # fmt: skip


@pytest.fixture(scope="module")
def source_spm() -> bytes:
    """Characters one by one, plus the frequent 好像 as a piece of its own."""
    rng = random.Random(4)
    lines = ["".join(rng.choice(CHARS) for _ in range(8)) + "好像" for _ in range(300)]
    return train_spm(lines, len(CHARS) + 8, character_coverage=1.0, user_symbols=())


def _pieces(blob: bytes, text: str) -> list[str]:
    return spm.SentencePieceProcessor(model_proto=blob).encode(text, out_type=str)


def test_words_whose_pieces_do_not_explain_them_are_chosen(source_spm: bytes) -> None:
    processor = spm.SentencePieceProcessor(model_proto=source_spm)
    assert vocab_extend.split_pieces(processor, "你好") == ["你", "好"]
    ranking = ["的", "打开", "你好", "世界", "好像"]
    words = vocab_extend.noncompositional_words(source_spm, GLOSSES, ranking, top=5)
    # 打开 "to open" is what 打 and 开 say; 好像 is a piece already; 的 is one character.
    assert words == ["你好", "世界"]
    assert vocab_extend.noncompositional_words(source_spm, GLOSSES, ranking, top=2) == []


def test_added_words_stay_whole_where_no_better_piece_fits(source_spm: bytes) -> None:
    assert "好像" in _pieces(source_spm, "我好像")
    extended = vocab_extend.extend_source_spm(source_spm, ["你好", "世界"])
    assert _pieces(extended, "你好世界") == ["▁你好", "世界"]
    assert _pieces(extended, "我说你好") == ["▁", "我", "说", "你好"]
    # 好像 outscores the added word: 你好像 is still 你 + 好像.
    assert _pieces(extended, "我你好像") == ["▁", "我", "你", "好像"]
    size = spm.SentencePieceProcessor(model_proto=source_spm).get_piece_size()
    assert spm.SentencePieceProcessor(model_proto=extended).get_piece_size() == size + 4
    assert vocab_extend.extend_source_spm(extended, ["你好"]) == extended


def test_cli_writes_the_vocabulary_and_the_word_list(source_spm: bytes, tmp_path: Path) -> None:
    ckpt, corpus, out = tmp_path / "ckpt", tmp_path / "corpus", tmp_path / "out"
    write_tokenizer_files(
        ckpt, source_spm, train_spm(["hello world"] * 20, 20, character_coverage=1.0)
    )
    corpus.mkdir()
    rows = "".join(f"{en}\t{zh}\tdict\n" for zh, en in GLOSSES.items())
    (corpus / "train.tsv").write_text(rows + "Hello\t你好\tui\n", encoding="utf-8")
    (corpus / "zh_frequency.txt").write_text("你好\n打开\n", encoding="utf-8")
    vocab_extend.main(["--checkpoint", str(ckpt), "--corpus", str(corpus), "--out", str(out)])
    assert (out / vocab_extend.WORDS_FILE).read_text(encoding="utf-8") == "你好\n"
    vocab = json.loads((out / "vocab.json").read_text(encoding="utf-8"))
    assert {"你好", "▁你好"} <= set(vocab) and list(vocab)[-1] == "<pad>"


def test_warm_start_builds_a_new_word_from_the_rows_it_replaces(tmp_path: Path) -> None:
    old_dir = build_checkpoint(tmp_path / "old", d_model=16, layers=1, heads=2, ffn=32)
    old_source = (old_dir / "source.spm").read_bytes()
    word = "国家"
    parts = vocab_extend.split_pieces(spm.SentencePieceProcessor(model_proto=old_source), word)
    assert len(parts) == 2
    new_dir = tmp_path / "new"
    extended = vocab_extend.extend_source_spm(old_source, [word])
    vocab = write_tokenizer_files(new_dir, extended, (old_dir / "target.spm").read_bytes())
    model = MarianMTModel(marian_config(vocab, SMALL))
    counts = checkpoints.warm_start(model, old_dir, vocab, new_dir / "source.spm")
    assert counts["composed_rows"] == 2
    old_vocab = json.loads((old_dir / "vocab.json").read_text(encoding="utf-8"))
    old_emb = load_file(str(old_dir / "model.safetensors"))["model.shared.weight"].float()
    split = _pieces(old_source, word)  # the sentence-start split, "▁国" + "家" or the like
    expected = old_emb[[old_vocab[p] for p in split]].mean(dim=0)
    emb = model.get_input_embeddings().weight
    assert torch.allclose(emb[vocab["▁" + word]], expected, atol=1e-6)
    assert torch.count_nonzero(emb[vocab["<pad>"]]) == 0
    # Without the run's source model, nothing is composed: the old behaviour.
    plain = checkpoints.warm_start(MarianMTModel(marian_config(vocab, SMALL)), old_dir, vocab)
    assert "composed_rows" not in plain
