"""Two directions served side by side, chosen by ``source``/``target`` in the request."""

from __future__ import annotations

import pytest
from fakes import FakeEngines

from app import create_app
from config import load_settings
from serving import Translator, TranslatorRegistry
from serving.errors import UnsupportedDirection
from text.languages import CHINESE, ENGLISH, Direction


@pytest.fixture
def registry(settings_overrides, tmp_path):
    settings = load_settings(settings_overrides, environ={})
    engines = FakeEngines()
    translators = [
        Translator(settings, tmp_path / "fake-zh-en", engines, direction=Direction.of("zh", "en")),
        Translator(settings, tmp_path / "fake-en-zh", engines, direction=Direction.of("en", "zh")),
    ]
    built = TranslatorRegistry(translators)
    built.start(background=False)
    assert built.ready
    yield built
    built.close()


@pytest.fixture
def client(settings_overrides, registry):
    return create_app({**settings_overrides, "TESTING": True}, registry=registry).test_client()


def _post(client, **body):
    response = client.post("/translate", json=body)
    return response.status_code, response.get_json()


def test_default_direction_is_zh_en(client):
    assert _post(client, text="我你他。") == (200, {"success": True, "result": "I you he."})


def test_source_and_target_pick_english_to_chinese(client):
    status, body = _post(client, text="I you he. Buy sell!", source="en", target="zh")
    assert status == 200
    # Chinese output: no space between sentences, Chinese end marks, no capitals.
    assert body["result"] == "我你他。买卖！"


def test_target_alone_is_enough(client):
    assert _post(client, text="big.", target="zh")[1]["result"] == "大。"


def test_region_and_case_of_codes_are_ignored(client):
    assert _post(client, text="big.", source="EN-US", target="zh-Hans")[1]["result"] == "大。"


def test_chinese_text_sent_to_en_zh_comes_back_unchanged(client):
    # Nothing in the source language: the model is not asked.
    assert _post(client, text="我你他。", source="en", target="zh")[1]["result"] == "我你他。"


@pytest.mark.parametrize(
    ("source", "target"), [("zh", "fr"), ("ja", "en"), ("zh", "zh"), ("en", "en")]
)
def test_unserved_direction_is_400_listing_the_served_ones(client, source, target):
    status, body = _post(client, text="你好", source=source, target=target)
    assert status == 400
    assert body["error"]["code"] == "unsupported_direction"
    assert "zh-en, en-zh" in body["error"]["message"]


@pytest.mark.parametrize("value", [5, "", [], "   "])
def test_malformed_language_code_is_400(client, value):
    status, body = _post(client, text="你好", source=value)
    assert status == 400 and body["error"]["code"] == "bad_request"


def test_probes_list_both_directions(client):
    ready = client.get("/readyz").get_json()
    assert ready["directions"] == ["zh-en", "en-zh"]
    health = client.get("/healthz").get_json()
    assert set(health["directions"]) == {"zh-en", "en-zh"}


def test_registry_refuses_two_models_for_one_direction(settings_overrides, tmp_path):
    settings = load_settings(settings_overrides, environ={})
    same = [Translator(settings, tmp_path / f"m{i}", FakeEngines()) for i in range(2)]
    with pytest.raises(ValueError, match="zh-en"):
        TranslatorRegistry(same)


def test_registry_get_names_what_is_served(registry):
    assert registry.get().direction == Direction(CHINESE, ENGLISH)
    assert registry.get("en").direction == Direction(ENGLISH, CHINESE)
    with pytest.raises(UnsupportedDirection, match="unknown language 'xx'"):
        registry.get("xx", "en")


@pytest.mark.slow
def test_tiny_real_models_serve_both_directions(real_overrides, tiny_en_zh_dir):
    app = create_app({**real_overrides, "extra_model_dirs": [str(tiny_en_zh_dir)], "TESTING": True})
    registry = app.extensions["registry"]
    try:
        assert registry.wait_ready(120), [t.error for t in registry]
        assert registry.directions == ["zh-en", "en-zh"]
        client = app.test_client()
        status, body = _post(client, text="I you he. Buy sell.", source="en", target="zh")
        assert status == 200
        assert body["result"] == "我你他。买卖。"
        status, body = _post(client, text="我你他。")
        assert status == 200 and body["result"].startswith("I you he")
    finally:
        registry.close()
