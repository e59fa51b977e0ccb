"""LibreTranslate compatibility: the real client (libretranslatepy) against a live server.

The server is this app on loopback (werkzeug, port 0, a thread) with two fake directions,
zh→en and en→zh. Raw HTTP (requests) covers what the client library does not send:
JSON bodies, lists, multipart forms, options.
"""

from __future__ import annotations

import json
import urllib.error

import pytest
import requests
from fakes import FakeEngines
from libretranslatepy import LibreTranslateAPI
from live import app_for, live_server, two_directions

from app import create_app
from serving.errors import NotReady, QueueFull, TranslationFailed


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with two_directions(tmp_path_factory.mktemp("libre")) as built:
        yield built


@pytest.fixture(scope="module")
def app(registry):
    return app_for(registry)


@pytest.fixture(scope="module")
def url(app):
    with live_server(app) as base:
        yield base


@pytest.fixture
def lt(url):
    return LibreTranslateAPI(url)


def _post(url, **body):
    response = requests.post(f"{url}/translate", json=body, timeout=10)
    return response.status_code, response.json()


# --- the client library ----------------------------------------------------------------


def test_client_translates_both_directions(lt):
    assert lt.translate("我你他。", "zh", "en") == "I you he."
    assert lt.translate("I you he. Buy sell!", "en", "zh") == "我你他。买卖！"


def test_client_auto_detects_the_source(lt):
    assert lt.translate("我你他。", "auto", "en") == "I you he."
    assert lt.translate("big.", "auto", "zh") == "大。"


def test_client_with_an_api_key_is_served(url):
    assert LibreTranslateAPI(url, api_key="anything").translate("大。", "zh", "en") == "Big."


def test_client_lists_languages(lt):
    assert lt.languages() == [
        {"code": "zh", "name": "Chinese", "targets": ["en"]},
        {"code": "en", "name": "English", "targets": ["zh"]},
    ]


def test_client_detects(lt):
    assert lt.detect("今天天气很好。") == [{"confidence": 100.0, "language": "zh"}]
    assert lt.detect("The weather is nice.") == [{"confidence": 100.0, "language": "en"}]


@pytest.mark.parametrize(("source", "target"), [("zh", "fr"), ("ja", "en"), ("en", "en")])
def test_client_hears_an_unserved_direction_as_400(lt, source, target):
    with pytest.raises(urllib.error.HTTPError) as caught:
        lt.translate("你好", source, target)
    assert caught.value.code == 400
    body = json.loads(caught.value.read())
    assert set(body) == {"error"} and "zh-en, en-zh" in body["error"]


# --- raw HTTP: what the library does not send ---------------------------------------------


def test_json_single_with_auto_reports_the_detected_language(url):
    status, body = _post(url, q="我你他。", source="auto", target="en")
    assert status == 200
    assert body == {
        "translatedText": "I you he.",
        "detectedLanguage": {"confidence": 100.0, "language": "zh"},
    }


def test_json_list_with_auto_detects_each_text(url):
    status, body = _post(url, q=["我你他。", "big.", "42"], source="auto", target="zh")
    assert status == 200
    # "我你他。" is already Chinese: the en→zh translator passes it through.
    assert body["translatedText"] == ["我你他。", "大。", "42"]
    assert body["detectedLanguage"] == [
        {"confidence": 100.0, "language": "zh"},
        {"confidence": 50.0, "language": "en"},
        {"confidence": 0.0, "language": "en"},
    ]


def test_json_list_without_auto_has_no_detected_language(url):
    assert _post(url, q=["我。", "他。"], source="zh", target="en") == (
        200,
        {"translatedText": ["I.", "He."]},
    )


def test_alternatives_are_empty_lists(url):
    assert _post(url, q="大。", source="zh", target="en", alternatives=3)[1] == {
        "translatedText": "Big.",
        "alternatives": [],
    }
    body = _post(url, q=["大。", "小。"], source="zh", target="en", alternatives=2)[1]
    assert body["alternatives"] == [[], []]


def test_multipart_form_and_repeated_q(url):
    form = {"q": (None, "大。"), "source": (None, "zh"), "target": (None, "en")}
    response = requests.post(f"{url}/translate", files=form, timeout=10)
    assert response.status_code == 200 and response.json() == {"translatedText": "Big."}
    response = requests.post(
        f"{url}/translate", data={"q": ["大。", "小。"], "source": "zh", "target": "en"}, timeout=10
    )
    assert response.json() == {"translatedText": ["Big.", "Small."]}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"q": "你好", "source": "zh"}, "target"),
        ({"q": 5, "source": "zh", "target": "en"}, "string"),
        ({"q": "<p>你好</p>", "source": "zh", "target": "en", "format": "xml"}, "html"),
        ({"q": "你好", "source": "zh", "target": "en", "format": "markdown"}, "format"),
        ({"q": "你好", "source": "zh", "target": "en", "alternatives": -1}, "alternatives"),
        ({"q": "好" * 5001, "source": "zh", "target": "en"}, "5000"),
        ({"q": ["好"] * 51, "source": "zh", "target": "en"}, "50"),
    ],
)
def test_bad_parameters_are_400_in_libretranslates_shape(url, body, needle):
    status, answer = _post(url, **body)
    assert status == 400
    assert set(answer) == {"error"} and needle in answer["error"]


def test_native_requests_keep_their_envelope(url):
    assert _post(url, text="我你他。") == (200, {"success": True, "result": "I you he."})
    status, body = _post(url, text="你好", q="ignored")
    assert status == 400 and body["error"]["code"] == "bad_request"  # native: unknown field
    response = requests.post(f"{url}/translate", data={"text": "你好"}, timeout=10)
    assert response.status_code == 415 and response.json()["success"] is False


def test_frontend_settings(url):
    settings = requests.get(f"{url}/frontend/settings", timeout=10).json()
    assert settings["charLimit"] == 5000
    assert settings["keyRequired"] is False and settings["suggestions"] is False
    assert settings["supportedFilesFormat"] == []
    assert settings["language"] == {
        "source": {"code": "zh", "name": "Chinese"},
        "target": {"code": "en", "name": "English"},
    }


def test_file_translation_then_download_and_suggestions_are_not_available(url):
    files = {"file": ("a.txt", "我你他。".encode())}
    response = requests.post(
        f"{url}/translate_file", files=files, data={"source": "auto", "target": "en"}, timeout=10
    )
    assert response.status_code == 200
    download = requests.get(response.json()["translatedFileUrl"], timeout=10)
    assert download.content == b"I you he."
    assert download.headers["Content-Disposition"] == "attachment; filename=a.en.txt"
    response = requests.post(f"{url}/translate_file", files=files, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request: missing target parameter"}
    response = requests.post(f"{url}/suggest", data={"q": "a", "s": "b"}, timeout=10)
    assert response.status_code == 403 and "error" in response.json()


def test_detect_needs_q(url):
    response = requests.post(f"{url}/detect", json={}, timeout=10)
    assert response.status_code == 400 and "q" in response.json()["error"]


# --- server-side failures, in LibreTranslate's statuses --------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (QueueFull("the queue is full", retry_after=1), 429),
        (NotReady("loading", retry_after=5), 503),
        (TranslationFailed("engine failed"), 500),
        (RuntimeError("boom"), 500),
    ],
)
def test_failures_map_to_libretranslates_statuses(app, registry, monkeypatch, error, status):
    translator = registry[0].get("zh", "en")

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(translator, "translate", fail)
    response = app.test_client().post(
        "/translate", json={"q": "你好", "source": "zh", "target": "en"}
    )
    assert response.status_code == status
    assert set(response.get_json()) == {"error"}
    if isinstance(error, QueueFull | NotReady):
        assert response.headers["Retry-After"] == str(error.retry_after)


@pytest.mark.parametrize("body", [b"[" * 100_000, b"{nope", b"\xff\xfe", b'["q"]'])
def test_malformed_json_on_detect_is_400(app, body):
    response = app.test_client().post("/detect", data=body, content_type="application/json")
    assert response.status_code == 400 and set(response.get_json()) == {"error"}


def test_deeply_nested_q_body_goes_to_the_native_parser(app):
    body = b'{"q": ' + b"[" * 100_000 + b"}"
    response = app.test_client().post("/translate", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["success"] is False


def test_a_target_only_language_is_listed_without_targets(settings_overrides):
    one_way = create_app({**settings_overrides, "TESTING": True}, engine_factory=FakeEngines())
    try:
        assert one_way.extensions["registry"].wait_ready(30)
        assert one_way.test_client().get("/languages").get_json() == [
            {"code": "zh", "name": "Chinese", "targets": ["en"]},
            {"code": "en", "name": "English", "targets": []},
        ]
    finally:
        one_way.extensions["registry"].close()


@pytest.mark.parametrize(
    "body",
    [
        b'{"q": "\\ud800", "source": "zh", "target": "en"}',
        b'{"q": ["\\udc00"], "target": "en"}',
        b'{"q": "x", "target": "en", "alternatives": 1' + b"0" * 5000 + b"}",
    ],
)
def test_hostile_libretranslate_bodies_are_400_not_500(app, body):
    for path in ("/translate", "/detect"):
        response = app.test_client().post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.data)


# --- format=html ---------------------------------------------------------------------------------


def test_format_html_keeps_the_markup_and_detects_from_the_text(url):
    q = '<p class="lead intro" data-track="home banner">我<b>你</b>他。<br>大</p>'
    status, body = _post(url, q=q, source="auto", target="en", format="html")
    assert status == 200
    assert (
        body["translatedText"]
        == '<p class="lead intro" data-track="home banner">I <b>you</b> he.<br>Big</p>'
    )
    assert body["detectedLanguage"]["language"] == "zh"
    response = requests.post(
        f"{url}/translate",
        data={
            "q": ["<i>大</i>。", "<b>big</b>"],
            "source": "auto",
            "target": "zh",
            "format": "html",
        },
        timeout=10,
    )
    assert response.json()["translatedText"] == ["<i>大</i>。", "<b>大</b>"]  # into zh
