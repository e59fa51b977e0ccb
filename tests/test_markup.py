"""HTML and XML translation (text/markup.py, text/tagplace.py, serving/formatted.py).

The markup comes back byte for byte except the translated text; inline tags stay around
the words they wrapped; untouched elements are byte-identical; whatever the model does
with the marks, the tag sequence is the source's. Hypothesis generates documents from
the fake engine's alphabet (toolchain.tiny.LEXICON).
"""

from __future__ import annotations

import random

import pytest
from fakes import code_zh_en
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live import zh_en_translator

from serving import Translator
from serving.formatted import translate_formatted
from text.markup import MarkupOptions, fresh_marks, parse_markup, translate_markup
from text.markup_tokens import tokenize
from text.spans import MAX_PLACEHOLDERS
from text.tagplace import placeholders
from toolchain.tiny import LEXICON

HTML = MarkupOptions()
XML = MarkupOptions(xml=True)


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    with zh_en_translator(tmp_path_factory.mktemp("markup")) as built:
        yield built


def fake(texts: list[str]) -> list[str]:
    return [code_zh_en(t) for t in texts]


def through(translator: Translator, doc: str, options: MarkupOptions = HTML) -> str:
    return translate_formatted(translator, [doc], markup=options).texts[0]


def tags(document: str) -> list[str]:
    """The tags of *document*, as written, in order."""
    return [t.raw for t in tokenize(document) if t.kind in ("start", "end", "empty")]


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        "",
        "plain",
        "<p>我<b>你</b>他。</p>",
        "<!DOCTYPE html>\n<html><body><p a=1 b='2' c=\"3\">x &amp; y &foo &#39; < > &</p>",
        "<script>if (a<b) x='</p>';</script><!-- 你 --><![CDATA[x]]><?php x ?>",
        "<p>unclosed <b>bold <i>both",
        "</b>stray<p\n  class=x\n>你</p >  <",
    ],
)
def test_tokens_join_to_the_source(doc):
    assert "".join(t.raw for t in tokenize(doc)) == doc
    segments = parse_markup(doc).segments
    assert parse_markup(doc).render([s.masked for s in segments])[0] == doc


def test_segments_split_at_blocks_and_mark_inline_tags():
    doc = "<ul><li>我<b>你</b>他</li><li>大<br>小</li></ul><p><a href='#'>买卖</a></p>"
    segments = parse_markup(doc).segments
    assert [s.plain for s in segments] == ["我你他", "大", "小", "买卖"]
    first = segments[0]
    assert [m.kind for m in first.marks] == ["open", "close"]
    assert first.masked == f"我{first.marks[0].char}你{first.marks[1].char}他"
    # A pair around all the words stays out of the model input.
    assert segments[3].masked == "买卖" and segments[3].prefix == "<a href='#'>"


def test_whitespace_is_collapsed_inside_and_kept_around():
    doc = "<div>\n  我\n  你 他\n  大\n</div>"
    (segment,) = parse_markup(doc).segments
    assert segment.masked == "我你 他大"
    assert translate_markup([doc], fake)[0] == "<div>\n  i you he big\n</div>"


def test_entities_and_inline_code_are_one_mark_each():
    doc = "<p>我&amp;你<code>a &lt; b 大</code>他&nbsp;。</p>"
    (segment,) = parse_markup(doc).segments
    assert [m.raw for m in segment.marks] == ["&amp;", "<code>a &lt; b 大</code>", "&nbsp;"]
    out = translate_markup([doc], fake)[0]
    assert out == "<p>i &amp; you <code>a &lt; b 大</code> he &nbsp;.</p>"


@pytest.mark.parametrize(
    "kept",
    [
        "<pre>我 <b>你</b>\n  他</pre>",
        "<script>var s = '我';</script>",
        "<style>p::after { content: '我' }</style>",
        '<div translate="no">我<b>你</b></div>',
        '<p class="a notranslate b">我你</p>',
        '<span translate="NO">我</span>',
    ],
)
def test_untouched_elements_are_byte_identical(kept):
    doc = f"<div>大{kept}小</div>"
    out = translate_markup([doc], fake)[0]
    assert kept in out and "big" in out and "small" in out


def test_ignore_tags_and_xml_outline_detection():
    doc = "<doc><title>大</title><para>我<x>你</x>他。<skip>买</skip></para></doc>"
    options = MarkupOptions(xml=True, ignore_tags=frozenset({"skip"}))
    segments = parse_markup(doc, options).segments
    assert [s.plain for s in segments] == ["大", "我你他。"]  # title, para split; x inline
    out = translate_markup([doc], fake, options)[0]
    assert out == "<doc><title>big</title><para>i <x>you</x> he.<skip>买</skip></para></doc>"
    splitting = MarkupOptions(xml=True, splitting_tags=frozenset({"x"}))
    assert [s.plain for s in parse_markup(doc, splitting).segments] == ["大", "我", "你", "他。买"]
    flat = MarkupOptions(xml=True, outline_detection=False)
    assert [s.plain for s in parse_markup(doc, flat).segments] == ["大我你他。买"]


def test_translated_text_is_escaped():
    out = translate_markup(["<p>我</p>"], lambda texts: ["a < b & c > d"])[0]
    assert out == "<p>a &lt; b &amp; c &gt; d</p>"


def test_fresh_marks_avoid_the_texts_own_private_use_characters():
    assert fresh_marks("a\ue100b\ue102", 3) == ["\ue101", "\ue103", "\ue104"]
    doc = "<p>我\ue100<b>你</b></p>"
    (segment,) = parse_markup(doc).segments
    assert all(m.char != "\ue100" for m in segment.marks)
    assert translate_markup([doc], fake)[0] == "<p>i \ue100 <b>you</b></p>"


# --- through the pipeline ---------------------------------------------------------------------


def test_inline_tags_stay_around_their_words(translator):
    doc = '<p><a href="/x?a=1&amp;b=2" title="大">我</a>你<i>他</i>。买<b>卖</b>！</p>'
    assert through(translator, doc) == (
        '<p><a href="/x?a=1&amp;b=2" title="大">I</a> you <i>he</i>. Buy <b>sell</b>!</p>'
    )


def test_a_sentence_that_starts_with_a_tag_gets_its_capital(translator):
    assert through(translator, "<p><b>我</b>你。<i>他</i>好。</p>") == (
        "<p><b>I</b> you. <i>He</i> good.</p>"
    )
    # A Latin word of the source is carried as written.
    assert through(translator, "<p><b>iPhone</b>很好。</p>") == "<p><b>iPhone</b> very good.</p>"


def test_text_without_chinese_comes_back_as_written(translator):
    doc = "<p>Hello   <b>world</b>\n &amp; more</p>"
    assert through(translator, doc) == doc


def test_a_document_is_one_translator_call(translator):
    engine = translator._engine
    before = len(engine.calls)
    docs = ["<p>我你。</p><p>他们。</p>", "<ul><li>大</li><li>小</li></ul>"]
    out = translate_formatted(translator, docs, markup=HTML, use_cache=False)
    assert out.texts == ["<p>I you.</p><p>He they.</p>", "<ul><li>Big</li><li>Small</li></ul>"]
    assert len(engine.calls) - before == 1  # every sentence of both documents, one batch


def test_tags_over_the_placeholder_budget_are_placed_by_position(translator):
    words = zip("我他她们是的", "你好很大小买", strict=True)
    doc = "<p>" + "".join(f"<b>{a}</b>{b}" for a, b in words) + "。</p>"
    (segment,) = parse_markup(doc).segments
    assert placeholders(segment.masked) == 12
    sent = segment.fit_budget(segment.masked)
    assert placeholders(sent) == MAX_PLACEHOLDERS  # one pair left out of the model input
    done = translate_formatted(translator, [doc], markup=HTML)
    assert tags(done.texts[0]) == tags(doc)
    assert done.tags_placed == 2
    assert not any(c in LEXICON for c in done.texts[0])  # no words carried in a joined run


# --- a model that misplaces marks ---------------------------------------------------------------


def _misplace(rng: random.Random, marks: str):
    def translate(texts: list[str]) -> list[str]:
        out = []
        for text in fake(texts):
            chars = list(text)
            for _ in range(3):
                action = rng.choice(["swap", "drop", "double", "keep"])
                at = [i for i, c in enumerate(chars) if c in marks]
                if action == "swap" and len(at) > 1:
                    i, j = rng.sample(at, 2)
                    chars[i], chars[j] = chars[j], chars[i]
                elif action == "drop" and at:
                    chars.pop(rng.choice(at))
                elif action == "double" and at:
                    chars.insert(rng.randrange(len(chars) + 1), chars[rng.choice(at)])
            out.append("".join(chars))
        return out

    return translate


def test_moved_pairs_go_back_together_in_source_order():
    doc = "<p>我<b>你</b>他<i>她</i>。</p>"
    (segment,) = parse_markup(doc).segments
    b, _, i, _ = (m.char for m in segment.marks)
    swapped = code_zh_en(segment.masked).replace(b, "\0").replace(i, b).replace("\0", i)
    out, moved = parse_markup(doc).render([swapped])
    assert tags(out) == tags(doc) and moved == 2
    assert out.count("<b></b>") + out.count("<i></i>") == 1


# --- properties ---------------------------------------------------------------------------------

CHINESE = sorted(LEXICON)
_words = st.lists(
    st.sampled_from([*CHINESE, "，", "。", " ", "\n", "Wi-Fi", "99"]), max_size=6
).map("".join)
_attrs = st.lists(
    st.sampled_from(
        ['href="/a?x=1&amp;y=2"', 'class="c"', "title='大 &amp; 小'", "data-n=3", 'id="k"']
    ),
    max_size=2,
    unique=True,
).map(lambda a: "".join(" " + x for x in a))
_entity = st.sampled_from(["&amp;", "&nbsp;", "&#39;", "&lt;", "&#x4e2d;"])
_untouched = st.builds(
    lambda tag, body: f"<{tag}>{body}</{tag.split()[0]}>",
    st.sampled_from(
        ["code", "pre", 'span translate="no"', 'b class="notranslate"', "script", "style"]
    ),
    st.text(st.sampled_from([*CHINESE[:8], " ", "x", "\n"]), max_size=8),
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def build(tag: str, attrs: str, inner: list[str]) -> str:
        return f"<{tag}{attrs}>{''.join(inner)}</{tag}>"

    inline = st.sampled_from(["b", "i", "a", "span", "em", "strong"])
    block = st.sampled_from(["p", "div", "li", "h2", "td"])
    return st.builds(build, inline | block, _attrs, st.lists(children, max_size=4))


_node = st.recursive(
    _words | _entity | _untouched | st.just("<br>") | st.just('<img src="a.png" alt="大">'),
    _element,
    max_leaves=14,
)
documents = st.lists(_node, min_size=1, max_size=5).map("".join)


def _untouched_in(doc: str) -> list[str]:
    """The untouched elements of a generated document, as written."""
    found = []
    for name in ("code", "pre", "script", "style", 'span translate="no"', 'b class="notranslate"'):
        close = f"</{name.split()[0]}>"
        start = doc.find(f"<{name}>")
        while start >= 0:
            end = doc.index(close, start) + len(close)
            found.append((start, doc[start:end]))
            start = doc.find(f"<{name}>", end)
    return [raw for _, raw in sorted(found)]


def _in_order(pieces: list[str], text: str) -> bool:
    at = 0
    for piece in pieces:
        at = text.find(piece, at)
        if at < 0:
            return False
        at += len(piece)
    return True


@settings(max_examples=150, deadline=None)
@given(documents)
def test_reading_and_writing_back_unchanged_is_the_identity(doc):
    parsed = parse_markup(doc)
    assert "".join(t.raw for t in tokenize(doc)) == doc
    assert parsed.render([s.masked for s in parsed.segments])[0] == doc


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_through_the_pipeline_tags_and_untouched_elements_are_the_sources(translator, doc):
    out = through(translator, doc)
    assert tags(out) == tags(doc)
    assert _in_order(_untouched_in(doc), out)
    entities = [t.raw for t in tokenize(doc) if t.kind == "ref"]
    assert [t.raw for t in tokenize(out) if t.kind == "ref"] == entities


@settings(max_examples=150, deadline=None)
@given(documents, st.randoms(use_true_random=False))
def test_whatever_the_model_does_with_the_marks_the_tags_are_the_sources(doc, rng):
    parsed = parse_markup(doc)
    marks = "".join(m.char for s in parsed.segments for m in s.marks)
    segments = parsed.segments
    outputs = _misplace(rng, marks)([s.masked for s in segments])
    out, _ = parsed.render(outputs)
    assert tags(out) == tags(doc)
    assert _in_order(_untouched_in(doc), out)
    assert not any(c in marks for c in out)
