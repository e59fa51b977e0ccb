"""DeepL compatibility: the official client (PyPI ``deepl``) against a live server.

The server is this app on loopback (werkzeug, port 0, a thread) with two fake
directions, zh→en and en→zh. Cases the client retries with back-off (429, 5xx) are
checked with Flask's test client instead, so no test waits.
"""

from __future__ import annotations

import deepl
import pytest
import requests
from live import app_for, live_server, two_directions

from serving.errors import NotReady, QueueFull


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with two_directions(tmp_path_factory.mktemp("deepl")) as built:
        yield built


@pytest.fixture(scope="module")
def app(registry):
    return app_for(registry)


@pytest.fixture(scope="module")
def url(app):
    with live_server(app) as base:
        yield base


@pytest.fixture
def translator(url):
    return deepl.Translator("any-key:fx", server_url=url)


# --- the client library ---------------------------------------------------------------------


def test_translate_one_text_with_detection(translator):
    result = translator.translate_text("我你他。", target_lang="EN-GB")
    assert result.text == "I you he."
    assert result.detected_source_lang == "ZH"
    assert result.billed_characters == 4


def test_translate_a_list_detects_each_text(translator):
    results = translator.translate_text(["我你他。", "big.", "买卖！"], target_lang="EN-US")
    assert [r.text for r in results] == ["I you he.", "big.", "Buy sell!"]
    assert [r.detected_source_lang for r in results] == ["ZH", "EN", "ZH"]


@pytest.mark.parametrize("target", ["ZH", "ZH-HANS", "zh-hans"])
def test_translate_into_chinese(translator, target):
    result = translator.translate_text("I you he. Buy sell!", target_lang=target)
    assert result.text == "我你他。买卖！"
    assert result.detected_source_lang == "EN"


def test_explicit_source_and_accepted_options(translator):
    result = translator.translate_text(
        "big.",
        source_lang="EN",
        target_lang="ZH",
        split_sentences="nonewlines",
        preserve_formatting=True,
        formality="prefer_less",
        ignore_tags=["x"],
        context="ignored",
    )
    assert result.text == "大。" and result.detected_source_lang == "EN"


def test_languages(translator):
    sources = translator.get_source_languages()
    assert [(s.code, s.name) for s in sources] == [("ZH", "Chinese"), ("EN", "English")]
    targets = translator.get_target_languages()
    assert [t.code for t in targets] == ["EN-GB", "EN-US", "ZH", "ZH-HANS"]
    assert all(t.supports_formality is False for t in targets)


def test_usage_counts_translated_characters(translator):
    before = translator.get_usage().character.count
    translator.translate_text(["我你他。", "大。"], target_lang="EN-GB")
    usage = translator.get_usage()
    assert usage.character.count == before + 6
    assert usage.character.valid and not usage.any_limit_reached


def test_unknown_glossaries_are_404(translator):
    with pytest.raises(deepl.GlossaryNotFoundException):
        translator.get_glossary("abc")
    with pytest.raises(deepl.GlossaryNotFoundException):
        translator.delete_glossary("abc")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"target_lang": "DE"}, "target_lang"),
        ({"target_lang": "EN-GB", "source_lang": "FR"}, "source_lang"),
        ({"target_lang": "EN-GB", "tag_handling": "markdown"}, "tag_handling"),
        ({"target_lang": "EN-GB", "formality": "more"}, "formality"),
        ({"target_lang": "EN-GB", "source_lang": "ZH", "glossary": "g1"}, "glossar"),
    ],
)
def test_bad_requests_raise_deepl_exception(translator, kwargs, needle):
    with pytest.raises(deepl.DeepLException) as caught:
        translator.translate_text("你好", **kwargs)
    assert caught.value.http_status_code == 400
    assert "Bad request" in str(caught.value) and needle in str(caught.value)


def test_too_many_texts_is_413(translator):
    with pytest.raises(deepl.DeepLException) as caught:
        translator.translate_text(["你好"] * 51, target_lang="EN-GB")
    assert caught.value.http_status_code == 413
    assert "Too many texts" in str(caught.value)


# --- raw HTTP ------------------------------------------------------------------------------


def test_form_body_and_plain_en_target(url):
    response = requests.post(
        f"{url}/v2/translate",
        data={"text": ["大。", "小。"], "target_lang": "EN"},
        headers={"Authorization": "DeepL-Auth-Key k"},
        timeout=10,
    )
    assert response.status_code == 200
    assert [t["text"] for t in response.json()["translations"]] == ["Big.", "Small."]


def test_no_authorization_header_is_accepted(url):
    response = requests.post(
        f"{url}/v2/translate", json={"text": ["大。"], "target_lang": "EN-US"}, timeout=10
    )
    assert response.status_code == 200
    assert response.json() == {
        "translations": [{"detected_source_language": "ZH", "text": "Big.", "billed_characters": 2}]
    }


def test_a_foreign_authorization_scheme_is_403(url):
    response = requests.get(f"{url}/v2/usage", headers={"Authorization": "Bearer abc"}, timeout=10)
    assert response.status_code == 403 and "message" in response.json()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"target_lang": "EN-GB"}, 400),
        ({"text": [], "target_lang": "EN-GB"}, 400),
        ({"text": ["你好"]}, 400),
        ({"text": [5], "target_lang": "EN-GB"}, 400),
        ({"text": ["你好"], "target_lang": "EN-GB", "tag_handling": {}}, 400),
        ({"text": ["你好"], "target_lang": "EN-GB", "tag_handling": ["html"]}, 400),
        ({"text": ["好" * 5001], "target_lang": "EN-GB"}, 413),
        ({"text": ["你好"], "target_lang": "EN-GB", "split_sentences": "2"}, 400),
    ],
)
def test_bad_bodies_in_deepls_shape(url, body, status):
    response = requests.post(f"{url}/v2/translate", json=body, timeout=10)
    assert response.status_code == status
    assert set(response.json()) == {"message"}


def test_languages_type_and_unknown_paths(url):
    response = requests.post(f"{url}/v2/languages", data={"type": "target"}, timeout=10)
    assert [x["language"] for x in response.json()] == ["EN-GB", "EN-US", "ZH", "ZH-HANS"]
    response = requests.get(f"{url}/v2/languages?type=nope", timeout=10)
    assert response.status_code == 400 and "type" in response.json()["message"]
    response = requests.get(f"{url}/v2/document", timeout=10)
    assert response.status_code == 404 and "message" in response.json()


def test_body_over_the_limit_is_413(url):
    big = {"text": ["好" * 4000] * 30, "target_lang": "EN-GB"}
    response = requests.post(f"{url}/v2/translate", json=big, timeout=10)
    assert response.status_code == 413 and "message" in response.json()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (QueueFull("the queue is full", retry_after=1), 429),
        (NotReady("loading", retry_after=5), 503),
    ],
)
def test_busy_and_loading_map_to_deepls_statuses(app, registry, monkeypatch, error, status):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(registry[0].get("zh", "en"), "translate", fail)
    response = app.test_client().post("/v2/translate", json={"text": ["你好"], "target_lang": "EN"})
    assert response.status_code == status
    assert set(response.get_json()) == {"message"}
    assert response.headers["Retry-After"] == str(error.retry_after)


@pytest.mark.parametrize("body", [b"[" * 100_000, b"{nope", b"\xff\xfe", b"[1, 2]"])
def test_malformed_json_is_400(app, body):
    response = app.test_client().post("/v2/translate", data=body, content_type="application/json")
    assert response.status_code == 400 and set(response.get_json()) == {"message"}


# --- tag handling and glossaries ---------------------------------------------------------------


def test_tag_handling_html_keeps_the_markup(translator):
    source = '<p class="lead intro" data-track="home banner">我<b>你</b>他。<code>大</code></p>'
    result = translator.translate_text(source, target_lang="EN-US", tag_handling="html")
    assert (
        result.text
        == '<p class="lead intro" data-track="home banner">I <b>you</b> he.<code>大</code></p>'
    )
    assert result.detected_source_lang == "ZH"  # from the text, not the markup's letters


def test_tag_handling_xml_with_tag_lists(translator):
    source = "<doc><t>大</t><para>我<x>你</x>。<keep>他</keep></para></doc>"
    result = translator.translate_text(
        source, source_lang="ZH", target_lang="EN-GB", tag_handling="xml", ignore_tags="keep"
    )
    assert result.text == "<doc><t>Big</t><para>I <x>you</x>.<keep>他</keep></para></doc>"
    result = translator.translate_text(
        source, source_lang="ZH", target_lang="EN-GB", tag_handling="xml", splitting_tags=["x"]
    )
    assert result.text.startswith("<doc><t>Big</t><para>I<x>You</x>")  # x splits sentences


def test_glossary_lifecycle_with_the_client(translator):
    entries = {"苹果": "Apple", "手机": "handset"}
    glossary = translator.create_glossary("shop", "ZH", "EN-US", entries)
    try:
        assert glossary.ready and glossary.entry_count == 2
        assert (glossary.source_lang, glossary.target_lang) == ("ZH", "EN")
        assert translator.get_glossary(glossary.glossary_id).name == "shop"
        assert glossary.glossary_id in [g.glossary_id for g in translator.list_glossaries()]
        assert translator.get_glossary_entries(glossary) == entries
        result = translator.translate_text(
            "我买苹果手机。", source_lang="ZH", target_lang="EN-US", glossary=glossary
        )
        assert result.text == "I buy Apple handset."
        result = translator.translate_text(
            "<p>我买<b>苹果</b>。</p>",
            source_lang="ZH",
            target_lang="EN-GB",
            glossary=glossary.glossary_id,
            tag_handling="html",
        )
        assert result.text == "<p>I buy <b>Apple</b>.</p>"
    finally:
        translator.delete_glossary(glossary)
    with pytest.raises(deepl.GlossaryNotFoundException):
        translator.get_glossary(glossary.glossary_id)


def test_glossary_from_csv_and_the_language_pairs(translator):
    pairs = {(p.source_lang, p.target_lang) for p in translator.get_glossary_languages()}
    assert pairs == {("zh", "en"), ("en", "zh")}
    glossary = translator.create_glossary_from_csv("csv", "EN", "ZH", csv_data='big,"巨"\n')
    try:
        result = translator.translate_text(
            "big small.", source_lang="EN", target_lang="ZH", glossary=glossary
        )
        assert result.text == "巨小。"
    finally:
        translator.delete_glossary(glossary)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "g", "source_lang": "ZH", "target_lang": "DE", "entries": "a\tb"}, "pair"),
        ({"name": "g", "source_lang": "ZH", "target_lang": "EN", "entries": "a b"}, "line 1"),
        ({"name": "", "source_lang": "ZH", "target_lang": "EN", "entries": "a\tb"}, "name"),
        ({"name": "g", "source_lang": "ZH", "target_lang": "EN"}, "entries"),
        (
            {
                "name": "g",
                "source_lang": "ZH",
                "target_lang": "EN",
                "entries": "a,b",
                "entries_format": "xlsx",
            },
            "entries_format",
        ),
    ],
)
def test_bad_glossaries_are_400(url, body, needle):
    response = requests.post(f"{url}/v2/glossaries", json=body, timeout=10)
    assert response.status_code == 400 and needle in response.json()["message"]


def test_translating_with_a_glossary_needs_its_languages(url, translator):
    glossary = translator.create_glossary("g", "ZH", "EN-GB", {"大": "huge"})
    try:
        base = {"text": ["大。"], "target_lang": "EN-US", "glossary_id": glossary.glossary_id}
        response = requests.post(f"{url}/v2/translate", json=base, timeout=10)
        assert response.status_code == 400 and "source_lang" in response.json()["message"]
        wrong = {**base, "source_lang": "EN", "target_lang": "ZH"}
        response = requests.post(f"{url}/v2/translate", json=wrong, timeout=10)
        assert response.status_code == 400 and "zh→en" in response.json()["message"]
        right = {**base, "source_lang": "ZH"}
        response = requests.post(f"{url}/v2/translate", data=right, timeout=10)
        assert response.json()["translations"][0]["text"] == "huge."
    finally:
        translator.delete_glossary(glossary)
