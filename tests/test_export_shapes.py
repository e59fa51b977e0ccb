"""The export on the layouts of opus-mt-en-zh and opus-mt-tc-big-zh-en (toolchain/shapes.py).

The published sizes are checked on configurations only (building those models takes
minutes: ``python -m toolchain.shape_check``). The export itself runs on the same layouts
at width 64: a tc-big-like zh→en model with separate source and target vocabularies of
different sizes, an untied decoder embedding and relu, and an opus-mt-en-zh-like en→zh
model with a joint vocabulary and the ``>>cmn_Hans<<`` language token. Both are trained
for a few steps so that INT8 keeps their choices, exported with the CLI (which verifies
them against PyTorch), served by the engine and compared with transformers' own
tokenizer and model.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from transformers import MarianMTModel, MarianTokenizer

from engine import Engine, ModelDir
from toolchain import export_cli
from toolchain.export_vocab import _merged, has_separate_vocabs, pick_target_token, plan_vocab
from toolchain.shapes import SHAPES, _tokenizers, build, marian_config, pad_spm
from toolchain.tiny import corpus
from toolchain.vocab import train_spm

SMALL = {"d_model": 64, "layers": 2, "heads": 4, "ffn": 128, "max_positions": 128}
TRAIN_STEPS = 150


def _export(ckpt, out, source_lang, target_lang):
    torch.set_num_threads(1)
    argv = [str(ckpt), "--out", str(out), "--precision", "both"]
    code = export_cli.main([*argv, "--source-lang", source_lang, "--target-lang", target_lang])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def tc_big(tmp_path_factory):
    """(checkpoint, model dir) of the tc-big layout at width 64."""
    # </s> away from id 0, as in the tc-bible models.
    tc_big = SHAPES["opus-mt-tc-big-zh-en"]
    shape = tc_big.scaled(**SMALL, source_pieces=300, target_pieces=250, eos_id=7)
    root = tmp_path_factory.mktemp("tc-big")
    torch.set_num_threads(1)
    ckpt = build(shape, root / "checkpoint", train_steps=TRAIN_STEPS)
    return ckpt, _export(ckpt, root / "model", "zh", "en")


@pytest.fixture(scope="module")
def en_zh(tmp_path_factory):
    """(checkpoint, model dir) of the opus-mt-en-zh layout at width 64."""
    shape = SHAPES["opus-mt-en-zh"].scaled(**SMALL, source_pieces=300, joint_size=700)
    root = tmp_path_factory.mktemp("en-zh")
    torch.set_num_threads(1)
    ckpt = build(shape, root / "checkpoint", train_steps=TRAIN_STEPS)
    return ckpt, _export(ckpt, root / "model", "en", "zh")


def _manifest(model_dir):
    return json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))


# --- the published shapes, on their configurations ---------------------------------


def test_opus_mt_en_zh_shape_has_the_published_config():
    shape = SHAPES["opus-mt-en-zh"]
    source_spm, _, vocab, target_vocab = _tokenizers(shape, seed=0)
    assert vocab is target_vocab and len(vocab) == 65_001
    cfg = marian_config(shape, vocab, target_vocab)
    assert cfg.vocab_size == cfg.decoder_vocab_size == 65_001
    assert cfg.pad_token_id == cfg.decoder_start_token_id == vocab["<pad>"] == 65_000
    assert cfg.bad_words_ids == [[65_000]]
    assert (cfg.d_model, cfg.encoder_layers, cfg.decoder_layers) == (512, 6, 6)
    assert (cfg.decoder_attention_heads, cfg.decoder_ffn_dim) == (8, 2048)
    assert cfg.activation_function == "swish" and cfg.scale_embedding
    assert cfg.max_position_embeddings == 512
    assert cfg.share_encoder_decoder_embeddings and cfg.tie_word_embeddings
    # The language tokens are vocabulary entries, not pieces of source.spm.
    assert ">>cmn_Hans<<" in vocab and b">>cmn_Hans<<" not in source_spm


def test_tc_big_shape_has_untied_embeddings_and_separate_vocabularies():
    shape = SHAPES["opus-mt-tc-big-zh-en"]
    _, _, source, target = _tokenizers(shape, seed=0)
    assert (len(source), len(target)) == (32_001, 30_001)
    cfg = marian_config(shape, source, target)
    assert (cfg.d_model, cfg.decoder_attention_heads, cfg.decoder_ffn_dim) == (1024, 16, 4096)
    assert cfg.d_model // cfg.decoder_attention_heads == 64
    assert cfg.activation_function == "relu" and cfg.max_position_embeddings == 1024
    assert not cfg.share_encoder_decoder_embeddings and not cfg.tie_word_embeddings
    # transformers sizes the decoder embedding by vocab_size, the output by decoder_vocab_size
    # (a small width here: the 1024 sinusoidal positions alone take seconds to build).
    small = marian_config(shape.scaled(**SMALL), source, target)
    with torch.device("meta"):
        model = MarianMTModel(small)
    assert model.get_decoder().embed_tokens.weight.shape == (32_001, 64)
    assert model.lm_head.weight.shape == (30_001, 64)
    assert model.final_logits_bias.shape == (1, 30_001)


def test_tc_bible_shape_has_the_published_config():
    shape = SHAPES["opus-mt-tc-bible-big-zhx-en"]
    _, _, vocab, target = _tokenizers(shape, seed=0)
    cfg = marian_config(shape, vocab, target)
    assert vocab is target and len(vocab) == cfg.vocab_size == 58_592
    assert cfg.eos_token_id == vocab["</s>"] == 1979
    assert cfg.pad_token_id == cfg.decoder_start_token_id == vocab["<pad>"] == 58_591
    assert (cfg.d_model, cfg.decoder_attention_heads, cfg.activation_function) == (1024, 16, "relu")
    assert cfg.share_encoder_decoder_embeddings and cfg.tie_word_embeddings


def test_tied_decoder_embedding_needs_equal_vocabularies():
    shape = SHAPES["opus-mt-tc-big-zh-en"].scaled(tied=True)
    with pytest.raises(ValueError, match="equally large"):
        marian_config(shape, {"<pad>": 2, "</s>": 0, "x": 1}, {"<pad>": 1, "</s>": 0})


def test_padded_sentencepiece_model_encodes_as_before():
    zh, _ = corpus(lines=50)
    model = train_spm(zh, 60, character_coverage=1.0)
    padded = pad_spm(model, 500, "t")
    import sentencepiece as spm

    before = spm.SentencePieceProcessor(model_proto=model)
    after = spm.SentencePieceProcessor(model_proto=padded)
    assert after.get_piece_size() == 500
    assert [before.encode(s, out_type=str) for s in zh] == [
        after.encode(s, out_type=str) for s in zh
    ]


# --- vocabulary planning --------------------------------------------------------------


def test_target_token_choice():
    vocab = {"</s>": 0, ">>cmn_Hans<<": 1, ">>yue<<": 2, "a": 3}
    assert pick_target_token(vocab, "auto", "zh") == ">>cmn_Hans<<"
    assert pick_target_token(vocab, ">>yue<<", "zh") == ">>yue<<"
    assert pick_target_token(vocab, "none", "zh") is None
    assert pick_target_token({"</s>": 0, "a": 1}, "auto", "zh") is None
    with pytest.raises(ValueError, match=r"not in vocab\.json"):
        pick_target_token(vocab, ">>jpn<<", "zh")
    # Tokens, but none for the target language: none is used (with a warning).
    assert pick_target_token({">>fra<<": 0, ">>spa<<": 1}, "auto", "zh") is None


def test_merged_vocabulary_keeps_source_ids():
    source = {"</s>": 0, "<unk>": 1, "▁a": 2, "<pad>": 3}
    target = {"</s>": 0, "<unk>": 1, "▁b": 2, "▁a": 3, "<pad>": 4}
    assert _merged(source, target) == {**source, "▁b": 4}


def test_separate_vocabularies_need_the_target_file(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"separate_vocabs": True}))
    with pytest.raises(ValueError, match=r"target_vocab\.json"):
        has_separate_vocabs(tmp_path)


# --- exports at width 64 --------------------------------------------------------------


def test_tc_big_layout_exports_and_agrees_with_pytorch(tc_big):
    _, model_dir = tc_big
    manifest = _manifest(model_dir)
    assert manifest["vocabulary"] == {
        "layout": "separate",
        "source_size": 301,
        "target_size": 251,
        "decoder_embedding": "untied",
        "source_prefix": [],
    }
    assert manifest["architecture"]["activation"] == "relu"
    check = manifest["verification"]
    assert check["fp32"]["identical_ratio"] >= 0.9
    assert check["int8"]["bleu_vs_torch"] >= check["thresholds"]["int8_bleu_vs_torch"] == 50


def test_untied_decoder_embedding_is_its_own_int8_table(tc_big):
    _, model_dir = tc_big
    decoder = onnx.load(str(model_dir / "decoder.onnx"))
    names = {init.name for init in decoder.graph.initializer}
    assert {"emb_w_quantized", "out_w_quantized"} <= names
    assert not names & {"emb_w", "out_w"}
    fp32 = onnx.load(str(model_dir / "fp32" / "decoder.onnx"))
    shapes = {i.name: tuple(i.dims) for i in fp32.graph.initializer}
    rows = json.loads((model_dir / "vocab_rows.json").read_text())["target_rows"]
    assert shapes["emb_w"] == (len(rows), 64) and shapes["out_w"] == (64, len(rows))


def test_tc_big_layout_serves_like_transformers(tc_big):
    ckpt, model_dir = tc_big
    tokenizer = MarianTokenizer.from_pretrained(ckpt)
    model = MarianMTModel.from_pretrained(ckpt).eval()
    plan = plan_vocab(ckpt)
    engine = Engine(ModelDir.load(model_dir, "fp32"), intra_threads=1)
    sentences = corpus(lines=8, seed=5)[0]
    for sentence in sentences:
        text = engine.preprocess(sentence)
        rows = engine.tokenizer.encode(text)
        assert tokenizer(text).input_ids == [plan.model_ids[0][r] for r in rows]
    batch = tokenizer([engine.preprocess(s) for s in sentences], return_tensors="pt", padding=True)
    with torch.no_grad():
        generated = model.generate(**batch, num_beams=1, do_sample=False, max_new_tokens=30)
    expected = tokenizer.batch_decode(generated, skip_special_tokens=True)
    assert engine.translate(sentences) == expected
    int8 = Engine(ModelDir.load(model_dir), intra_threads=1).translate(sentences)
    assert sum(a == b for a, b in zip(int8, expected, strict=True)) >= 6


def test_en_zh_layout_reads_the_language_token_first(en_zh):
    ckpt, model_dir = en_zh
    manifest = _manifest(model_dir)
    assert manifest["vocabulary"]["source_prefix"] == [">>cmn_Hans<<"]
    assert (manifest["source_lang"], manifest["target_lang"]) == ("en", "zh")
    check = manifest["verification"]
    assert check["fp32"]["identical_ratio"] >= 0.9 and check["int8"]["bleu_vs_torch"] >= 50
    tokenizer = MarianTokenizer.from_pretrained(ckpt)
    engine = Engine(ModelDir.load(model_dir, "fp32"), intra_threads=1)
    source_rows = engine.model.rows()[0]
    sentences = corpus(lines=8, seed=7)[1]
    texts = [">>cmn_Hans<< " + engine.preprocess(s) for s in sentences]
    for sentence, text in zip(sentences, texts, strict=True):
        rows = engine.tokenizer.encode(engine.preprocess(sentence))
        language = tokenizer.encoder[">>cmn_Hans<<"]
        assert tokenizer(text).input_ids == [language, *(source_rows[r] for r in rows)]
    model = MarianMTModel.from_pretrained(ckpt).eval()
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        generated = model.generate(**batch, num_beams=1, do_sample=False, max_new_tokens=30)
    expected = tokenizer.batch_decode(generated, skip_special_tokens=True)
    assert engine.translate(sentences) == expected
    ids = np.array([engine.tokenizer.encode(engine.preprocess(sentences[0]))], dtype=np.int64)
    cross = engine.runtime.encoder.run(None, {"input_ids": ids, "attention_mask": ids * 0 + 1})
    assert cross[0].shape[2] == ids.shape[1] + 1  # the language token's position
