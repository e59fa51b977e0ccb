"""Splitting documents into texts to translate and putting them back (text/documents.py,
text/markdown.py): pure functions, checked with a marking "translation"."""

from __future__ import annotations

import pytest

from text.documents import (
    DocumentError,
    decode,
    encode,
    join_long,
    split_document,
    split_long,
    spread,
    token_maker,
)


def mark(texts: list[str]) -> list[str]:
    """A stand-in translation that shows what was sent: each text in angle brackets."""
    return [f"<{t}>" for t in texts]


def roundtrip(kind: str, text: str, **kwargs) -> tuple[list[str], str]:
    doc = split_document(kind, text, **kwargs)
    return doc.texts, doc.render(mark(doc.texts))


# --- plain text ---------------------------------------------------------------------------


def test_plain_paragraphs_are_texts_and_blank_lines_stay():
    texts, out = roundtrip("text", "第一段。\n第二行。\n\n\n  第二段。  \n")
    assert texts == ["第一段。\n第二行。", "第二段。"]
    assert out == "<第一段。\n第二行。>\n\n\n  <第二段。>  \n"


def test_identity_translation_gives_the_file_back():
    source = "甲。\n\n乙\n"
    doc = split_document("text", source)
    assert doc.render(doc.texts) == source


@pytest.mark.parametrize(
    ("data", "encoding", "newline"),
    [
        ("你好\r\n世界".encode(), "utf-8", "\r\n"),
        ("\ufeff你好".encode(), "utf-8-sig", "\n"),
        ("你好".encode("utf-16"), "utf-16", "\n"),
        ("你好，世界".encode("gb18030"), "gb18030", "\n"),
    ],
)
def test_decode_and_encode_keep_the_encoding_and_line_ends(data, encoding, newline):
    decoded = decode(data)
    assert decoded.encoding == encoding and decoded.newline == newline
    assert "\r" not in decoded.text
    assert encode(decoded.text, decoded) == data


def test_undecodable_bytes_are_a_document_error():
    with pytest.raises(DocumentError, match="UTF-8"):
        decode(b"\x80\x80\xff\xfe\x00")


# --- Markdown -----------------------------------------------------------------------------


def test_markdown_code_blocks_and_front_matter_are_untouched():
    source = "---\ntitle: 标题\n---\n说明\n\n```python\nprint('你好')\n```\n\n~~~\n代码\n~~~\n"
    texts, out = roundtrip("markdown", source)
    assert texts == ["说明"]
    assert out == source.replace("说明", "<说明>")


def test_markdown_indented_code_is_untouched_but_list_continuations_are_not():
    texts, _ = roundtrip("markdown", "段落。\n\n    缩进的代码\n\n- 项目\n\n    续段\n")
    assert texts == ["段落。", "项目", "续段"]


def test_markdown_headings_lists_and_quotes_keep_their_markers():
    source = "# 标题 #\n\n- 第一项\n* [ ] 任务\n1. 编号\n> 引用\n> 继续\n"
    texts, out = roundtrip("markdown", source)
    assert texts == ["标题", "第一项", "任务", "编号", "引用继续"]
    assert out == "# <标题> #\n\n- <第一项>\n* [ ] <任务>\n1. <编号>\n> <引用继续>\n"


def test_markdown_inline_code_and_link_targets_are_tokens():
    doc = split_document("markdown", '运行`pip install 包`，见[说明](https://例子.cn/a "标题")。\n')
    assert doc.texts == ["说明", "运行{{md0}}，见{{md1}}。"]
    out = doc.render(["notes", "Run {{md0}}, see {{md1}}."])
    assert out == 'Run `pip install 包`, see [notes](https://例子.cn/a "标题").\n'


def test_markdown_images_reference_links_autolinks_and_footnotes():
    source = "看![图片](img/a.png)和[文档][ref]，<https://x.cn/页>[^1]\n\n[ref]: https://x.cn\n"
    doc = split_document("markdown", source)
    assert doc.texts == ["图片", "文档", "看{{md2}}和{{md3}}，{{md0}}{{md1}}"]
    out = doc.render(["picture", "docs", "See {{md2}} and {{md3}}, {{md0}}{{md1}}"])
    assert out == (
        "See ![picture](img/a.png) and [docs][ref], <https://x.cn/页>[^1]\n\n[ref]: https://x.cn\n"
    )


def test_markdown_emphasis_keeps_its_markers_around_the_translated_inside():
    doc = split_document("markdown", "这是**重要**和*斜体*的~~旧~~通知。\n")
    assert doc.texts == ["重要", "旧", "斜体", "这是{{md0}}和{{md2}}的{{md1}}通知。"]
    out = doc.render(["important", "old", "italic", "This {{md0}}, {{md2}} {{md1}} notice."])
    assert out == "This **important**, *italic* ~~old~~ notice.\n"


def test_markdown_snake_case_is_not_emphasis():
    texts, _ = roundtrip("markdown", "变量 my_long_name 和 a_b\n")
    assert texts == ["变量 my_long_name 和 a_b"]


def test_markdown_tables_translate_cells_and_keep_the_delimiter_row():
    source = "| 名称 | 价格 |\n|:-----|-----:|\n| 苹果 | `5` |\n"
    texts, out = roundtrip("markdown", source)
    assert texts == ["名称", "价格", "苹果", "{{md0}}"]
    assert out == "| <名称> | <价格> |\n|:-----|-----:|\n| <苹果> | <`5`> |\n"


def test_markdown_soft_wrapped_lines_are_one_text_and_hard_breaks_stay():
    texts, out = roundtrip("markdown", "第一句\n接着写。\nAnd more\nwords.  \n下一行\n")
    assert texts == ["第一句接着写。 And more words.", "下一行"]
    assert out == "<第一句接着写。 And more words.>  \n<下一行>\n"


def test_markdown_setext_underlines_rules_and_comments_stay():
    source = "标题\n===\n\n***\n<!-- 注释\n继续 -->\n正文\n"
    texts, out = roundtrip("markdown", source)
    assert texts == ["标题", "正文"]
    assert out == "<标题>\n===\n\n***\n<!-- 注释\n继续 -->\n<正文>\n"


def test_a_lost_token_is_appended_and_a_doubled_one_kept_once():
    doc = split_document("markdown", "运行`ls`。\n")
    assert doc.render(["Run."]) == "Run. `ls`\n"
    assert doc.render(["Run {{md0}} {{md0}}."]) == "Run `ls` .\n"


def test_tokens_never_collide_with_the_text():
    new = token_maker("已有 {{md0}} 和 {{mdx1}}")
    assert new() == "{{mdq0}}"


# --- SubRip ---------------------------------------------------------------------------------


def test_srt_indices_and_timings_stay_and_cues_keep_their_line_breaks():
    source = (
        "1\n00:00:01,000 --> 00:00:02,500\n你好。\n第二行\n\n"
        "2\n00:00:03,000 --> 00:00:04,000 X1:10\n再见！\n"
    )
    texts, out = roundtrip("srt", source)
    assert texts == ["你好。\n第二行", "再见！"]
    assert out == (
        "1\n00:00:01,000 --> 00:00:02,500\n<你好。\n第二行>\n\n"
        "2\n00:00:03,000 --> 00:00:04,000 X1:10\n<再见！>\n"
    )


def test_srt_block_without_text_or_timing():
    texts, out = roundtrip("srt", "1\n00:00:01,000 --> 00:00:02,000\n\n说明文字\n")
    assert texts == ["说明文字"]
    assert out == "1\n00:00:01,000 --> 00:00:02,000\n\n<说明文字>\n"


# --- HTML as text ---------------------------------------------------------------------------


def test_html_blocks_are_texts_inline_tags_stay_inside_and_code_is_kept():
    source = (
        "<html><head><title>标题</title><style>p{color:red}</style></head><body>"
        '<p class="x">这是<b>重要</b>的，运行<code>ls 目录</code>。<br>第二行</p>'
        "<script>var a = '你好';</script><pre>代码</pre><!-- 注释 --><li> </li></body></html>"
    )
    doc = split_document("html", source)
    assert doc.texts == ["标题", "这是<b>重要</b>的，运行{{md0}}。", "第二行"]
    out = doc.render(["Title", "This is <b>important</b>, run {{md0}}.", "Line two"])
    assert out == (
        "<html><head><title>Title</title><style>p{color:red}</style></head><body>"
        '<p class="x">This is <b>important</b>, run <code>ls 目录</code>.<br>Line two</p>'
        "<script>var a = '你好';</script><pre>代码</pre><!-- 注释 --><li> </li></body></html>"
    )


# --- JSON Lines -----------------------------------------------------------------------------


def test_jsonl_translates_every_string_in_order_and_keeps_the_rest():
    source = '{"id": "A1", "title": "红色", "tags": ["新", "热"], "n": 3, "ok": true}\n\n"单"\n'
    doc = split_document("jsonl", source)
    assert doc.texts == ["A1", "红色", "新", "热", "单"]
    out = doc.render(["A1", "red", "new", "hot", "single"])
    assert out == (
        '{"id": "A1", "title": "red", "tags": ["new", "hot"], "n": 3, "ok": true}\n\n"single"\n'
    )


def test_jsonl_fields_limit_what_is_translated():
    source = '{"title": "红色", "sku": "红-1", "meta": {"note": "注"}}\n'
    doc = split_document("jsonl", source, fields=["title", "meta"])
    assert doc.texts == ["红色", "注"]
    assert (
        doc.render(["red", "note"]) == '{"title": "red", "sku": "红-1", "meta": {"note": "note"}}\n'
    )


def test_jsonl_bad_line_names_its_number():
    with pytest.raises(DocumentError, match="line 2"):
        split_document("jsonl", '{"a": "甲"}\n{broken\n')


# --- long texts and styled runs -------------------------------------------------------------


def test_split_long_cuts_at_line_breaks_then_sentence_ends_then_anywhere():
    text = "第一句。第二句！第三句。\n" + "甲" * 25
    pieces = split_long(text, 10)
    assert all(len(p) <= 10 for p, _ in pieces)
    assert "".join(p + (s or "") for p, s in pieces) == text
    assert pieces[0] == ("第一句。第二句！", "")
    joined = join_long([p.upper() for p, _ in pieces], [s for _, s in pieces], " ")
    assert joined.startswith("第一句。第二句！ 第三句。\n甲")


def test_split_long_leaves_a_short_text_whole():
    assert split_long("短", 10) == [("短", None)]


@pytest.mark.parametrize(
    ("text", "weights", "expected"),
    [
        ("This is an important notice.", [2, 2, 3], ["This is ", "an ", "important notice."]),
        ("这是重要的通知", [2, 2, 3], ["这是", "重要", "的通知"]),
        ("one", [5], ["one"]),
        ("ab", [0, 5], ["", "ab"]),
    ],
)
def test_spread_cuts_in_proportion_at_word_ends(text, weights, expected):
    assert spread(text, weights) == expected


@pytest.mark.parametrize(
    ("source", "translations", "expected"),
    [
        ("点击[这里](u)。", ["Here", "Click {{md0}}."], "Click [here](u)."),
        ("[这里](u)很好。", ["Here", "{{md0}} is good."], "[Here](u) is good."),
        ("买[Apple](u)的。", ["Apple", "Buy {{md0}}."], "Buy [Apple](u)."),
        ("用**API**调用。", ["API", "Call with {{md0}}."], "Call with **API**."),
        ("这是**重要**的。", ["Important", "It is {{md0}}."], "It is **important**."),
    ],
)
def test_a_piece_inside_a_sentence_loses_its_sentence_capital(source, translations, expected):
    doc = split_document("markdown", source)
    assert doc.render(translations) == expected
