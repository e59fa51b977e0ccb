"""Sentence segmentation, whitespace round trips and cutting of over-long sentences."""

from __future__ import annotations

import re

import pytest

from text.languages import CHINESE
from text.segment import Document, Piece, fit_to_model, segment, split_long


def texts(doc: Document) -> list[str]:
    return [piece.text for piece in doc.pieces]


def identity(doc: Document) -> str:
    return doc.join(texts(doc))


def squash(text: str) -> str:
    """*text* without any whitespace, to compare content regardless of where cuts fell."""
    return "".join(text.split())


def toy_tokens(text: str) -> int:
    """A SentencePiece-like count: one token per CJK/punctuation char, one per 3 letters of
    an ASCII word, plus ``</s>``. Monotone on prefixes, like a real tokenizer."""
    count = 1
    for match in re.finditer(r"[A-Za-z0-9]+|\S", text):
        word = match.group()
        count += -(-len(word) // 3) if word.isascii() and word.isalnum() else 1
    return count


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "   ",
        "Hello world.",
        "  Indented sentence. Another one!\n\n  Second paragraph.\n",
        "第一句。 第二句。",
        "\t缩进的段落。\n\n\n第二段。\n",
        "行尾空格。  \n下一行。",
        "One.\n  \n\tTwo?\n",
        "标题\n\n正文第一句。 正文第二句！\n",
        "a\r\nb",
        "No final mark at all",
        "价格是 3.5 元。 访问 https://example.com/a.b 吧。\n",
    ],
)
def test_identity_translation_round_trips(text):
    assert identity(segment(text)) == text


def test_consecutive_chinese_sentences_get_one_space_in_english():
    doc = segment("你好。世界！今天天气怎么样？")
    assert texts(doc) == ["你好。", "世界！", "今天天气怎么样？"]
    assert doc.join(["Hello.", "World!", "How is the weather today?"]) == (
        "Hello. World! How is the weather today?"
    )


def test_join_keeps_paragraphs_and_indentation_around_translations():
    doc = segment("  第一段。第二句。\n\n    第二段。\n")
    assert [piece.gap for piece in doc.pieces] == ["  ", "", "\n\n    "]
    assert doc.tail == "\n"
    assert doc.join(["Para one.", "Sentence two.", "Para two."]) == (
        "  Para one. Sentence two.\n\n    Para two.\n"
    )


def test_join_adds_no_space_around_an_empty_translation():
    doc = segment("一。二。三。")
    assert doc.join(["One.", "", "Three."]) == "One. Three."


def test_join_requires_one_translation_per_piece():
    doc = segment("一。二。")
    with pytest.raises(ValueError):
        doc.join(["only one"])


# --- sentence ends ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好。世界", ["你好。", "世界"]),
        ("真的！假的", ["真的！", "假的"]),
        ("为什么？因为", ["为什么？", "因为"]),
        ("第一；第二", ["第一；", "第二"]),
        ("等等…然后", ["等等…", "然后"]),
        ("等等……然后", ["等等……", "然后"]),
        ("Wait... then", ["Wait...", "then"]),
        ("One. Two", ["One.", "Two"]),
        ("Stop! Go", ["Stop!", "Go"]),
        ("Why? Because", ["Why?", "Because"]),
        ("first; second", ["first;", "second"]),
        ("真的吗？！是的", ["真的吗？！", "是的"]),
        ("第一句.第二句", ["第一句.", "第二句"]),  # ASCII dot straight before Chinese
        ("OK.好的", ["OK.", "好的"]),
        ("Hello world. Second!Third? ok", ["Hello world.", "Second!", "Third?", "ok"]),
    ],
)
def test_sentence_ends(text, expected):
    assert texts(segment(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
        ("「你好。」他说。", ["「你好。」", "他说。"]),
        ("『对！』好", ["『对！』", "好"]),
        ("（括号。）后面", ["（括号。）", "后面"]),
        ("(bracket.) after", ["(bracket.)", "after"]),
        ("“真的吗？”」后面", ["“真的吗？”」", "后面"]),
    ],
)
def test_closing_quotes_and_brackets_stay_on_their_sentence(text, expected):
    assert texts(segment(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "价格是3.5元",
        "The value is 3.5 exactly",
        "访问 https://example.com/a.b?x=1.2 看看",
        "访问 www.example.com 看看",
        "写信给 first.last@example.co.uk 吧",
        "e.g.x is one token",
        "Mr.Smith came",
        "版本 1.2.3 发布",
    ],
)
def test_dots_inside_numbers_urls_and_addresses_do_not_end_a_sentence(text):
    assert texts(segment(text)) == [text]


def test_url_followed_by_sentence_end_still_ends_the_sentence():
    assert texts(segment("见 https://example.com/a. 然后")) == ["见 https://example.com/a.", "然后"]
    assert texts(segment("网址是www.example.com。谢谢")) == ["网址是www.example.com。", "谢谢"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好", True),
        ("Hello 世界", True),
        ("漢字", True),
        ("㐀", True),  # CJK Extension A
        ("\U00020000", True),  # CJK Extension B
        ("Hello, world!", False),
        ("こんにちは", False),  # kana only
        ("。，！", False),  # punctuation is not a character
        ("", False),
    ],
)
def test_has_chinese(text, expected):
    assert CHINESE.has_script(text) is expected


# --- cutting long sentences ----------------------------------------------------------


def test_split_long_returns_short_text_unchanged():
    assert split_long("短句。", len, 10) == ["短句。"]


def test_split_long_cuts_at_commas_first():
    text = "我们今天，去了公园，玩了很久。"
    parts = split_long(text, len, 7)
    assert parts == ["我们今天，", "去了公园，", "玩了很久。"]


def test_split_long_cuts_at_other_clause_marks():
    parts = split_long("甲乙丙、丁戊己：庚辛壬；癸", len, 4)
    assert parts == ["甲乙丙、", "丁戊己：", "庚辛壬；", "癸"]


def test_split_long_falls_back_to_tokens_without_commas():
    text = "这是一个没有任何逗号的非常非常长的句子"
    parts = split_long(text, len, 6)
    assert len(parts) > 1
    assert all(len(part) <= 6 for part in parts)
    assert "".join(parts) == text


def test_split_long_does_not_cut_inside_an_ascii_word_when_a_boundary_exists():
    text = "abc defgh ijklmnop qrs"
    parts = split_long(text, len, 10)
    assert parts == ["abc defgh", "ijklmnop", "qrs"]
    words = set(text.split())
    assert all(set(part.split()) <= words for part in parts)


def test_split_long_does_not_cut_a_latin_word_next_to_chinese():
    text = "我买了一部新的iPhone手机和一台MacBook电脑"
    parts = split_long(text, len, 10)
    assert parts[0] == "我买了一部新的"
    assert all(len(part) <= 10 for part in parts)
    assert squash("".join(parts)) == squash(text)
    joined = " ".join(parts)
    assert "iPhone" in joined
    assert "MacBook" in joined


def test_split_long_cuts_a_word_only_when_nothing_else_fits():
    parts = split_long("abcdefghijklmnopqrstuvwxyz", len, 10)
    assert parts == ["abcdefghij", "klmnopqrst", "uvwxyz"]


@pytest.mark.parametrize("limit", [3, 4, 6, 9, 15])
@pytest.mark.parametrize(
    "text",
    [
        "我们今天，去了公园，玩了很久，然后回家吃饭、洗澡、睡觉：明天还要上班；真累",
        "新款iPhone 15 Pro的价格是7999元，比上一代贵了500元，但是性能提升了20%",
        "Hello world, this is a rather long English sentence with several words in it",
        "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十",
        "mixed中文and English，with逗号, commas and supercalifragilistic words",
    ],
)
def test_split_long_invariants(text, limit):
    parts = split_long(text, toy_tokens, limit)
    assert parts, "at least one part"
    assert all(part and part == part.strip() for part in parts)
    assert all(toy_tokens(part) <= limit for part in parts), parts
    assert squash("".join(parts)) == squash(text)  # no character lost or duplicated


def test_fit_to_model_marks_continuation_pieces():
    doc = segment("短句。\n\n  很长的句子，有好几个部分，必须切开。")
    fitted = fit_to_model(doc, len, 7)
    assert fitted.tail == doc.tail
    assert fitted.pieces == (
        Piece("", "短句。"),
        Piece("\n\n  ", "很长的句子，", False),
        Piece("", "有好几个部分，", True),
        Piece("", "必须切开。", True),
    )
    assert fitted.join(["Short.", "A long sentence,", "with several parts,", "must be cut."]) == (
        "Short.\n\n  A long sentence, with several parts, must be cut."
    )


def test_fit_to_model_leaves_short_pieces_alone():
    doc = segment("一。二。")
    assert fit_to_model(doc, len, 100) == doc


def test_join_for_a_chinese_target_drops_spaces_between_sentences_of_a_line():
    doc = segment("I came. I saw.\n  I won.")
    joined = doc.join(["我来了。", "我看见了。", "我赢了。"], "", keep_inline_gaps=False)
    assert joined == "我来了。我看见了。\n  我赢了。"
