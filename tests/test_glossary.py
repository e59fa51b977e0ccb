"""Glossaries (serving/glossary.py): entries, the store, matching, and the target terms
written verbatim through the pipeline, natively (``"glossary"`` on ``POST /translate``).

The DeepL glossary endpoints are tested with the real client in tests/test_deepl.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from live import zh_en_translator

from serving.errors import BadRequest, NotFound, PayloadTooLarge
from serving.formatted import translate_formatted
from serving.glossary import (
    MAX_ENTRIES,
    GlossaryStore,
    TermMatcher,
    check_entries,
    entries_tsv,
    mask_terms,
    parse_entries,
    unmask_terms,
)
from text.markup import MarkupOptions
from toolchain.tiny import LEXICON


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    with zh_en_translator(tmp_path_factory.mktemp("glossary")) as built:
        yield built


def translate(translator, texts, entries, markup=None):
    return translate_formatted(
        translator, texts, markup, TermMatcher(check_entries(entries.items()))
    )


# --- entries ---------------------------------------------------------------------------------


def test_tsv_and_csv_entries():
    assert parse_entries("你好\tHello\n\n 世界 \t world\r\n") == {"你好": "Hello", "世界": "world"}
    csv = '你好,"Hello, you"\n世界,world,zh,en\n'
    assert parse_entries(csv, "csv") == {"你好": "Hello, you", "世界": "world"}


@pytest.mark.parametrize(
    ("text", "fmt", "needle"),
    [
        ("你好Hello", "tsv", "line 1"),
        ("a\tb\tc", "tsv", "line 1"),
        ("a\tb\na\tc", "tsv", "duplicates"),
        ("\tb", "tsv", "empty"),
        ("a\t\x07", "tsv", "U+0007"),
        ("a\t\ue000", "tsv", "U+E000"),
        ("", "tsv", "no entries"),
        ("a,b,c", "csv", "line 1"),
        ("a\tb", "json", "entries_format"),
        ("a\t" + "x" * 300, "tsv", "limit"),
    ],
)
def test_bad_entries_are_named(text, fmt, needle):
    with pytest.raises(BadRequest) as caught:
        parse_entries(text, fmt)
    assert needle in caught.value.message


def test_entry_count_is_bounded():
    with pytest.raises(PayloadTooLarge):
        check_entries((f"词{i}", "w") for i in range(MAX_ENTRIES + 1))


def test_store_create_get_list_delete_and_its_bound():
    store = GlossaryStore(max_glossaries=2)
    first = store.create(" shop ", "zh", "en", {"苹果": "Apple"})
    assert first.name == "shop" and store.get(first.glossary_id) is first
    assert entries_tsv(first) == "苹果\tApple"
    store.create("two", "zh", "en", {"a": "b"})
    with pytest.raises(PayloadTooLarge, match="at most 2"):
        store.create("three", "zh", "en", {"a": "b"})
    store.delete(first.glossary_id)
    assert [g.name for g in store.list()] == ["two"]
    with pytest.raises(NotFound):
        store.get(first.glossary_id)
    with pytest.raises(NotFound):
        store.delete(first.glossary_id)
    with pytest.raises(BadRequest, match="name"):
        store.create("  ", "zh", "en", {"a": "b"})


def test_store_holds_a_bounded_number_of_characters():
    store = GlossaryStore(max_chars=10)
    kept = store.create("a", "zh", "en", {"苹果": "Apple"})  # 7 characters
    with pytest.raises(PayloadTooLarge, match="at most 10 characters"):
        store.create("b", "zh", "en", {"香蕉": "Banana"})
    store.delete(kept.glossary_id)
    store.create("b", "zh", "en", {"香蕉": "Banana"})


# --- matching ---------------------------------------------------------------------------------


def test_longest_term_first_and_whole_latin_words():
    matcher = TermMatcher({"苹果": "apple", "苹果手机": "iPhone", "cat": "Katze"})
    masked = mask_terms("我的苹果手机和苹果，category，cat", matcher)
    (long_mark, short_mark, _) = masked.targets
    assert masked.targets == {long_mark: "iPhone", short_mark: "apple", _: "Katze"}
    assert masked.text.count(long_mark) == 1 and masked.text.count(short_mark) == 1
    assert masked.text.endswith("category，" + list(masked.targets)[2])
    assert masked.unapplied == ()  # 苹果 inside 苹果手机 is covered, not unapplied


def test_terms_inside_spans_or_across_a_taken_term_are_unapplied():
    matcher = TermMatcher({"北京大学": "Peking University", "大学生": "student", "Pro": "PRO"})
    masked = mask_terms("北京大学生用iPhone 15 Pro", matcher)
    assert list(masked.targets.values()) == ["Peking University"]
    assert masked.unapplied == ("大学生", "Pro")


def test_a_repeated_term_overlapping_itself_is_applied():
    masked = mask_terms("哈哈哈", TermMatcher({"哈哈": "haha"}))
    assert list(masked.targets.values()) == ["haha"] and masked.unapplied == ()


def test_unmask_reports_a_lost_mark():
    masked = mask_terms("我爱苹果", TermMatcher({"苹果": "apple"}))
    assert unmask_terms(masked.text.replace("我爱", "I love "), masked) == ("I love apple", [])
    assert unmask_terms("I love", masked) == ("I love", ["苹果"])


def test_terms_that_touch_get_a_space_in_a_spaced_target():
    masked = mask_terms("苹果手机很好", TermMatcher({"苹果": "Apple", "手机": "phone"}))
    apple, phone = masked.targets
    output = f"{apple}{phone}is good, 5{apple}\ue300{phone}"  # \ue300: a tag's mark
    assert (
        unmask_terms(output, masked, spaced=True)[0] == "Apple phone is good, 5 Apple \ue300phone"
    )
    assert unmask_terms(output, masked)[0] == "Applephoneis good, 5Apple\ue300phone"


def test_nfc_terms_match_decomposed_text():
    masked = mask_terms("cafe\u0301很好", TermMatcher(check_entries([("café", "CAFE")])))
    assert list(masked.targets.values()) == ["CAFE"]


# --- through the pipeline ---------------------------------------------------------------------


def test_target_terms_come_out_verbatim(translator):
    done = translate(
        translator,
        ["我买苹果。", "他卖苹果手机，不卖苹果。"],
        {"苹果": "Apple Inc.", "苹果手机": "iPhone"},
    )
    assert done.texts == ["I buy Apple Inc..", "He sell iPhone, not sell Apple Inc.."]
    assert done.unapplied == []


def test_a_sentence_that_is_a_term_keeps_its_case(translator):
    done = translate(translator, ["苹果。"], {"苹果": "apple"})
    assert done.texts == ["apple."]


def test_glossary_in_html_and_a_term_split_by_a_tag(translator):
    done = translate(
        translator, ["<p>我买<b>苹果</b>，苹<i>果</i>。</p>"], {"苹果": "A&B"}, MarkupOptions()
    )
    assert done.texts == ["<p>I buy <b>A&amp;B</b>,苹<i>果</i>.</p>"]
    assert done.unapplied == ["苹果"]


def test_terms_over_the_placeholder_budget_are_translated_freely(translator):
    terms = "我你他她们是的了在有不这"
    done = translate(
        translator, ["大".join(terms) + "。"], {t: f"T{i}" for i, t in enumerate(terms)}
    )
    (out,) = done.texts
    assert done.unapplied == ["我", "你"]  # the shortest first, then in order
    assert out.startswith("I big you big T2 big T3") and not any(c in LEXICON for c in out)


_term_chars = st.sampled_from(sorted(LEXICON)[:12])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(_term_chars, min_size=1, max_size=3), min_size=1, max_size=4, unique=True),
    st.lists(st.text(_term_chars, min_size=1, max_size=8), min_size=1, max_size=3),
)
def test_every_applied_term_is_in_the_output(translator, terms, texts):
    entries = {t: f"T{i}x" for i, t in enumerate(terms)}
    done = translate(translator, [t + "。" for t in texts], entries)
    for text, out in zip(texts, done.texts, strict=True):
        masked = mask_terms(text, TermMatcher(entries))
        for target in masked.targets.values():
            assert target in out


# --- the native API ----------------------------------------------------------------------------


def test_native_glossary_and_its_unapplied_terms(client):
    body = {"text": ["我买苹果。", "我买`苹果`。"], "glossary": {"苹果": "Apple"}}
    response = client.post("/translate", json=body)
    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "result": ["I buy Apple.", "I buy `苹果`."],
        "glossary_unapplied": ["苹果"],
    }


def test_native_html(client):
    response = client.post("/translate", json={"text": "<p>我<b>你</b>。</p>", "format": "html"})
    assert response.get_json() == {"success": True, "result": "<p>I <b>you</b>.</p>"}
    assert "glossary_unapplied" not in response.get_json()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"text": "x", "format": "markdown"}, "'format'"),
        ({"text": "x", "glossary": ["a", "b"]}, "'glossary'"),
        ({"text": "x", "glossary": {"a": 5}}, "target term must be a string"),
        ({"text": "x", "glossary": {"a": ""}}, "empty"),
    ],
)
def test_native_bad_format_or_glossary_is_400(client, body, needle):
    response = client.post("/translate", json=body)
    assert response.status_code == 400
    assert needle in response.get_json()["error"]["message"]
