"""Parsing and checking of POST /translate bodies."""

from __future__ import annotations

import json

import pytest

from config.settings import load_settings
from engine import GenerationOptions
from serving.errors import BadRequest, PayloadTooLarge, TextTooLong, UnsupportedMediaType
from web.parsing import TranslateRequest, parse_translate_request

JSON = "application/json"


@pytest.fixture(scope="module")
def settings():
    return load_settings(
        {"max_chars": 10, "max_batch_items": 3, "max_beam_size": 4, "default_beam_size": 2},
        environ={},
    )


def parse(body, settings, mimetype: str = JSON) -> TranslateRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return parse_translate_request(mimetype, raw, settings)


def test_single_text(settings):
    request = parse({"text": "你好"}, settings)
    assert request == TranslateRequest(["你好"], False, None)  # the translator's default


def test_list_of_texts(settings):
    request = parse({"text": ["一", "二", "三"]}, settings)
    assert request.texts == ["一", "二", "三"]
    assert request.is_list is True


def test_empty_list_is_a_list(settings):
    request = parse({"text": []}, settings)
    assert request.texts == []
    assert request.is_list is True


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (None, None),
        ({}, None),
        ({"beam_size": 1}, GenerationOptions(beam_size=1)),
        ({"beam_size": 4}, GenerationOptions(beam_size=4)),
    ],
)
def test_beam_size_option(settings, options, expected):
    body = {"text": "你好"} if options is None else {"text": "你好", "options": options}
    assert parse(body, settings).options == expected


def test_source_and_target_are_read(settings):
    request = parse({"text": "hi", "source": "en", "target": "zh"}, settings)
    assert (request.source, request.target) == ("en", "zh")


def test_text_at_the_limit_is_accepted(settings):
    assert parse({"text": "字" * 10}, settings).texts == ["字" * 10]


@pytest.mark.parametrize("mimetype", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_non_json_mimetype_is_415(settings, mimetype):
    with pytest.raises(UnsupportedMediaType) as info:
        parse({"text": "你好"}, settings, mimetype=mimetype)
    assert info.value.status == 415
    assert "application/json" in info.value.message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"{'text': 'x'}", "not valid JSON"),
        (b'{"text": "a",}', "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b'{"text": "\xe4\xbd"}', "not valid UTF-8"),  # truncated multi-byte character
        (b'["text"]', "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"{}", "missing field 'text'"),
        (b'{"options": {}}', "missing field 'text'"),
        (b'{"text": 5}', "must be a string"),
        (b'{"text": null}', "must be a string"),
        (b'{"text": {"zh": "x"}}', "must be a string"),
        (b'{"text": ["ok", 5]}', "text[1] must be a string"),
        (b'{"text": "x", "beam_size": 2}', "unknown field(s): 'beam_size'"),
        (b'{"text": "x", "lang": "zh", "extra": 1}', "unknown field(s): 'extra', 'lang'"),
        (b'{"text": "x", "options": []}', "'options' must be an object"),
        (b'{"text": "x", "options": {"beamsize": 2}}', "unknown option(s): 'beamsize'"),
        (b'{"text": "x", "options": {"beam_size": 0}}', "options.beam_size"),
        (b'{"text": "x", "options": {"beam_size": 5}}', "from 1 to 4"),
        (b'{"text": "x", "options": {"beam_size": -1}}', "options.beam_size"),
        (b'{"text": "x", "options": {"beam_size": true}}', "options.beam_size"),
        (b'{"text": "x", "options": {"beam_size": "2"}}', "options.beam_size"),
        (b'{"text": "x", "options": {"beam_size": 2.0}}', "options.beam_size"),
        (b'{"text": "x", "options": {"beam_size": null}}', "options.beam_size"),
    ],
)
def test_bad_requests_are_400(settings, body, fragment):
    with pytest.raises(BadRequest) as info:
        parse(body, settings)
    assert info.value.status == 400
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("body", "where"),
    [({"text": "字" * 11}, "'text'"), ({"text": ["ok", "x" * 11]}, "text[1]")],
)
def test_text_too_long_is_413_with_the_limit(settings, body, where):
    with pytest.raises(TextTooLong) as info:
        parse(body, settings)
    assert info.value.status == 413
    assert info.value.code == "text_too_long"
    assert where in info.value.message
    assert "11 characters" in info.value.message
    assert "the limit is 10" in info.value.message


def test_too_many_items_is_413_payload_too_large(settings):
    with pytest.raises(PayloadTooLarge) as info:
        parse({"text": ["a", "b", "c", "d"]}, settings)
    assert info.value.status == 413
    assert info.value.code == "payload_too_large"
    assert "4 items" in info.value.message
    assert "the limit is 3" in info.value.message
