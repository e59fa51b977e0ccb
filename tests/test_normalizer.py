"""Request-level cleaning and the per-model source preprocessing steps."""

from __future__ import annotations

import unicodedata

import pytest

from text.normalize import KNOWN_STEPS, SourcePreprocessor, clean_input, opus_punct


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("你好，世界", "你好，世界"),
        ("e\u0301", "\u00e9"),  # NFC composes
        ("\u212b", "\u00c5"),  # ANGSTROM SIGN -> A WITH RING
        ("a\r\nb", "a\nb"),
        ("a\rb\r\n\r\nc", "a\nb\n\nc"),
        ("a\tb\nc", "a\tb\nc"),  # tab and newline survive
        ("a\x00b\x07c\x08d", "abcd"),
        ("a\x0bb\x0cc\x1bd\x1fe", "abcde"),
        ("a\x7fb\x85c\x9fd", "abcd"),
        ("\ufeffBOM first", "BOM first"),
        ("zero\u200bwidth\u2060joiner", "zerowidthjoiner"),
        ("👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"),  # ZWJ sequence intact
        ("🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"),  # variation selector kept as well
        ("", ""),
    ],
)
def test_clean_input(raw, expected):
    assert clean_input(raw) == expected


def test_clean_input_output_is_nfc():
    for raw in ["Cafe\u0301", "한국어", "\u1100\u1161", "漢語"]:
        assert unicodedata.is_normalized("NFC", clean_input(raw))


@pytest.mark.parametrize("raw", ["e\x00\u0301", "e\u200b\u0301"])
def test_clean_input_is_nfc_even_after_removing_characters(raw):
    assert clean_input(raw) == "\u00e9"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("你好，世界", "你好,世界"),
        ("甲、乙", "甲,乙"),
        ("你好。世界", "你好. 世界"),
        ("你好。", "你好."),
        ("一。  二．三", "一. 二. 三"),
        ("真的！", "真的!"),
        ("真的？", "真的?"),
        ("注意：小心", "注意:小心"),
        ("比例∶1", "比例:1"),
        ("第一；第二", "第一;第二"),
        ("（括号）", "(括号)"),
        ("《书名》", '"书名"'),
        ("“引用”", '"引用"'),
        ("「引用」", '"引用"'),
        ("’", "'"),
        ("【注】", "[注]"),
        ("〈注〉", "<注>"),
        ("～━", "~-"),
        ("５０％", "50%"),
        ("０１２３４５６７８９", "0123456789"),
        ("１", "1"),  # not '"' as in the original script's typo
        ("等等…", "等等..."),
        ("等等……", "等等......"),
        ("  多余   空格  ", "多余 空格"),
        ("Already ASCII, fine.", "Already ASCII, fine."),
    ],
)
def test_opus_punct(raw, expected):
    assert opus_punct(raw) == expected


def test_source_preprocessor_applies_steps_in_order():
    preprocess = SourcePreprocessor(["t2s", "opus_punct"])
    assert preprocess.steps == ("t2s", "opus_punct")
    assert preprocess("漢語，簡體。") == "汉语,简体."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("漢語", "汉语"),
        ("繁體中文", "繁体中文"),
        ("這是一個測試", "这是一个测试"),
        ("简体不变", "简体不变"),
    ],
)
def test_t2s_converts_traditional_to_simplified(raw, expected):
    assert SourcePreprocessor(["t2s"])(raw) == expected


def test_whitespace_step_collapses_runs():
    assert SourcePreprocessor(["whitespace"])("  a \t b\n\nc  ") == "a b c"


def test_no_steps_is_identity():
    assert SourcePreprocessor([])("  漢語，  ") == "  漢語，  "


def test_unknown_steps_are_rejected_by_name():
    with pytest.raises(ValueError, match="unknown source preprocessing step") as info:
        SourcePreprocessor(["opus_punct", "lowercase", "nfkc"])
    message = str(info.value)
    assert "'lowercase'" in message
    assert "'nfkc'" in message
    for known in KNOWN_STEPS:
        assert known in message  # the message lists what is accepted


def test_known_steps():
    assert {"opus_punct", "t2s", "whitespace"} == KNOWN_STEPS
