"""Chinese vs English from script statistics (text.detect)."""

from __future__ import annotations

import pytest

from text.detect import MIN_EVIDENCE, WEIGHTS, Detection, detect, detect_many, script_counts

CASES = [
    # (text, language, confidence)
    ("今天天气很好。", "zh", 1.0),
    ("The weather is nice today.", "en", 1.0),
    ("Ça va très bien, merci.", "en", 1.0),  # accented Latin letters are Latin
    # Mixed: the majority, Chinese characters weighing three letters each.
    ("我用iPhone拍照", "zh", 0.6667),  # 4 x 3 = 12 against 6
    ("Buy the new 手机 today", "en", 0.7),  # 14 against 2 x 3 = 6
    # Digits, punctuation, emoji, URLs, e-mail, tags and entities are not evidence.
    ("满99元包邮！", "zh", 1.0),
    ("请访问 https://example.com/docs/index.html 了解详情", "zh", 1.0),
    ("联系 support@example.com", "zh", 1.0),
    ("<b>你好</b>&nbsp;世界", "zh", 1.0),
    ("Hello 😀 2024!!!", "en", 0.8333),  # 5 letters, short: scaled by 5/6
    # Short texts are guesses.
    ("好", "zh", 0.5),
    ("Hi", "en", 0.3333),
    # A tie goes to Chinese.
    ("好abc", "zh", 0.5),
]


@pytest.mark.parametrize(("text", "language", "confidence"), CASES)
def test_detect(text, language, confidence):
    found = detect(text)
    assert found.language == language
    assert found.confidence == pytest.approx(confidence, abs=1e-4)


@pytest.mark.parametrize("text", ["", "   ", "12345", "😀😀", "!!! ???", "https://example.com"])
def test_nothing_to_detect(text):
    assert detect(text) == Detection(None, 0.0)


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("我用iPhone", {"zh": 2, "en": 6}),
        ("see www.example.com now", {"zh": 0, "en": 6}),
        ("第3章", {"zh": 2, "en": 0}),
    ],
)
def test_script_counts(text, counts):
    assert script_counts(text) == counts


def test_confidence_is_between_zero_and_one():
    for text, *_ in CASES:
        assert 0.0 <= detect(text).confidence <= 1.0


def test_detect_many_keeps_order():
    assert [d.language for d in detect_many(["你好", "hello", "42"])] == ["zh", "en", None]


def test_weights_cover_known_languages():
    assert set(WEIGHTS) == {"zh", "en"}
    assert MIN_EVIDENCE > 0
