"""Hostile request bodies: whatever a client sends ends in a 400/408/413/415 with the
envelope, never a 500. Table-driven cases, bounded body reading, then a property-based
fuzzer (hypothesis, derandomized) over the parser and ``POST /translate``."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import load_settings
from serving.errors import ServiceError
from web.parsing import MAX_DEPTH, _too_deep, decode_json, parse_translate_request

SETTINGS = load_settings()
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _envelope(response) -> dict:
    body = response.get_json()
    assert body is not None, response.data[:200]
    assert set(body) == {"success", "error"} and body["success"] is False, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["message"], body
    return body["error"]


def _post(client, body: bytes, content_type: str = "application/json"):
    return client.post("/translate", data=body, content_type=content_type)


# --- table-driven -------------------------------------------------------------------------

HOSTILE = {
    "lone high surrogate": b'{"text": "\\ud800"}',
    "lone low surrogate in a key": b'{"text": "a", "\\udfff": 1}',
    "surrogate in options": b'{"text": "a", "options": {"beam_size": "\\ud83d"}}',
    "33 levels": b'{"text": ' + b"[" * MAX_DEPTH + b'"a"' + b"]" * MAX_DEPTH + b"}",
    "100000 levels": b"[" * 100_000 + b"]" * 100_000,
    "unterminated 200000 levels": b'{"text": ' + b"[" * 200_000,
    "5000-digit integer": b'{"text": "a", "options": {"beam_size": 1' + b"0" * 5000 + b"}}",
    "33-digit integer": b'{"text": "a", "options": {"beam_size": -' + b"9" * 33 + b"}}",
    "NaN": b'{"text": "a", "options": {"beam_size": NaN}}',
    "Infinity": b'{"text": ["a", Infinity]}',
    "-Infinity": b'{"text": -Infinity}',
    "float overflow": b'{"text": "a", "options": {"beam_size": 1e999}}',
    "duplicate top-level key": b'{"text": "a", "text": "b"}',
    "duplicate option": b'{"text": "a", "options": {"beam_size": 1, "beam_size": 2}}',
    "byte order mark": b'\xef\xbb\xbf{"text": "a"}',
    "UTF-16": '{"text": "a"}'.encode("utf-16"),
    "encoded surrogate": b'{"text": "\xed\xa0\x80"}',
    "NUL outside a string": b'{"text": "a"}\x00',
    "raw control character in a string": b'{"text": "a\x01b"}',
    "empty body": b"",
    "only whitespace": b" \n\t ",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_json_is_a_400_with_the_envelope(client, body):
    response = _post(client, body)
    assert response.status_code == 400, response.data[:300]
    assert _envelope(response)["code"] == "bad_request"


def test_the_reason_is_named(client):
    cases = {
        b'{"text": "\\ud800"}': "surrogate",
        b'{"text": ' + b"[" * 40 + b"]" * 40 + b"}": f"deeper than {MAX_DEPTH}",
        b'{"text": 1' + b"0" * 5000 + b"}": "digits",
        b'{"text": NaN}': "NaN",
        b'{"text": "a", "text": "b"}': "duplicate key 'text'",
    }
    for body, reason in cases.items():
        assert reason in _envelope(_post(client, body))["message"], body[:40]


def test_accepted_edges_still_work(client):
    pair = json.dumps({"text": "我\ud83d\ude00"}).encode()  # an escaped surrogate *pair*
    assert _post(client, pair).status_code == 200
    nested_32 = {"text": "我。", "options": {"beam_size": 1}}
    assert _post(client, json.dumps(nested_32).encode(), "application/json; charset=UTF-8")
    brackets = json.dumps({"text": "[" * 100 + "{" * 100}).encode()  # inside a string
    assert _post(client, brackets).status_code == 200
    assert _post(client, b'{"text": "a", "options": {"beam_size": 1.0}}').status_code == 400


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ascii", "UTF-7", '"iso-8859-1"'])
def test_a_charset_other_than_utf8_is_415(client, charset):
    response = _post(client, b'{"text": "a"}', f"application/json; charset={charset}")
    assert response.status_code == 415, charset
    error = _envelope(response)
    assert error["code"] == "unsupported_media_type" and "UTF-8" in error["message"]


def test_depth_check_is_linear_and_skips_strings():
    assert not _too_deep(json.dumps(["[" * 1000]), MAX_DEPTH)
    assert not _too_deep('["\\"' + "[" * 100 + '"]', MAX_DEPTH)
    assert _too_deep('["\\\\", ' + "[" * 40 + "]" * 40 + "]", MAX_DEPTH)
    for worst in ("[]" * 131_072, '"' + "\\" * 262_142 + "[", '"\\"' * 87_381, "[" * 262_144):
        started = time.perf_counter()
        _too_deep(worst, MAX_DEPTH)
        assert time.perf_counter() - started < 0.5


# --- streamed bodies ------------------------------------------------------------------------


class _Stream(io.RawIOBase):
    """A request body without Content-Length (chunked), counting what is read of it."""

    def __init__(self, total: int | None, fail: BaseException | None = None) -> None:
        self.left, self.fail, self.read_bytes = total, fail, 0

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:  # the test client measures it
        return 0  # "length 0", and the chunked header makes that no length at all

    def readinto(self, buffer: Any) -> int:
        if self.fail is not None:
            raise self.fail
        size = len(buffer) if self.left is None else min(len(buffer), self.left)
        buffer[:size] = b"x" * size
        self.read_bytes += size
        if self.left is not None:
            self.left -= size
        return size


def _stream_post(client, stream: _Stream):
    return client.post(
        "/translate",
        input_stream=stream,
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize("total", [SETTINGS.max_body_bytes + 1, 10_000_000, None])
def test_a_streamed_body_is_counted_while_read(client, total):
    stream = _Stream(total)
    response = _stream_post(client, stream)
    assert response.status_code == 413 and _envelope(response)["code"] == "payload_too_large"
    assert response.headers["Connection"] == "close"
    assert stream.read_bytes <= SETTINGS.max_body_bytes + 64 * 1024  # stopped at the limit


def test_a_streamed_body_within_the_limit_is_read_whole(client):
    body = json.dumps({"text": "我" * 1000}, ensure_ascii=False).encode()

    class Exact(_Stream):
        def readinto(self, buffer: Any) -> int:
            size = min(len(buffer), len(body) - self.read_bytes)
            buffer[:size] = body[self.read_bytes : self.read_bytes + size]
            self.read_bytes += size
            return size

    response = _stream_post(client, Exact(None))
    assert response.status_code == 200 and response.get_json()["success"] is True


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (TimeoutError("timed out"), 408, "request_timeout"),
        (ConnectionResetError("reset"), 400, "bad_request"),
        (ValueError("Invalid chunk size"), 400, "bad_request"),
    ],
)
def test_a_broken_stream_is_the_clients_fault(client, failure, status, code):
    response = _stream_post(client, _Stream(None, fail=failure))
    assert response.status_code == status and _envelope(response)["code"] == code
    assert response.headers["Connection"] == "close"
    assert str(failure) not in response.get_data(as_text=True)


# --- fuzzing --------------------------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # surrogates and controls included
TEXT = st.text(ANY_CHAR, max_size=12) | st.text(
    st.sampled_from('我你他好。，！ a1[{"\\'), max_size=12
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
REQUESTS = st.fixed_dictionaries(
    {"text": JSON_VALUES | TEXT | st.lists(TEXT, max_size=3)},
    optional={
        "options": st.fixed_dictionaries({}, optional={"beam_size": JSON_VALUES}) | JSON_VALUES,
        "source": JSON_VALUES | st.sampled_from(["zh", "en", "zh-Hans", "EN-US", ""]),
        "target": JSON_VALUES | st.sampled_from(["zh", "en", "de"]),
        "extra": JSON_VALUES,
    },
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "application/json;charset=",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
) | st.text(st.characters(max_codepoint=0xFF, exclude_characters="\r\n"), max_size=40)


def _encode(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _check(response) -> None:
    assert response.status_code < 500, response.data[:300]
    if response.status_code >= 400:
        _envelope(response)


def _not_libretranslate(value: Any) -> bool:
    # A body with "q" and no "text" is LibreTranslate's, answered in its own error shape.
    return not (isinstance(value, dict) and "q" in value and "text" not in value)


@FUZZ
@given(value=JSON_VALUES | REQUESTS, ascii_only=st.booleans())
def test_fuzz_parser_any_json_value(value, ascii_only):
    body = _encode(value, ascii_only)
    try:
        parsed = parse_translate_request("application/json", body, SETTINGS)
    except ServiceError as error:
        assert error.status in (400, 413), error
        json.dumps({"message": error.message}, ensure_ascii=False).encode("utf-8")
    else:
        assert all(isinstance(t, str) for t in parsed.texts)
        "".join(parsed.texts).encode("utf-8")  # no lone surrogate got through


@FUZZ
@given(
    body=st.binary(max_size=300)
    | st.text(ANY_CHAR, max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_fuzz_parser_any_bytes(body):
    try:
        decode_json(body)
    except ServiceError as error:
        assert error.status == 400


@FUZZ
@given(value=REQUESTS | JSON_VALUES, ascii_only=st.booleans(), content_type=CONTENT_TYPES)
def test_fuzz_translate_endpoint_json(client, value, ascii_only, content_type):
    if not _not_libretranslate(value):
        return
    if "json" not in content_type:
        content_type = "application/json" if ascii_only else content_type
    _check(_post(client, _encode(value, ascii_only), content_type))


@FUZZ
@given(body=st.binary(max_size=200), content_type=CONTENT_TYPES)
def test_fuzz_translate_endpoint_bytes(client, body, content_type):
    if b'"q"' in body:
        return
    _check(_post(client, body, content_type))
