"""Parse and check the body of ``POST /translate`` into a :class:`TranslateRequest`.

Strict on purpose: a misspelt option ("beamsize") is an error the client hears about,
not a setting silently ignored. Total, too: whatever bytes a client sends end in a
:class:`TranslateRequest` or in a 400/408/413/415 ``ServiceError``, never in another
exception (``tests/test_parsing_hostile.py`` fuzzes it). The JSON rules beyond RFC 8259's
grammar:

- no ``NaN``, ``Infinity``, ``-Infinity`` and no number that overflows a float (``1e999``);
- integers of at most ``MAX_INT_DIGITS`` digits (Python refuses to convert more than
  4300 with a ValueError of its own);
- at most ``MAX_DEPTH`` nested arrays/objects, checked before parsing, so the parser
  never recurses deep;
- no duplicate keys in an object (rejected, not "last one wins");
- no lone UTF-16 surrogate escapes (``"\\ud800"``): they have no UTF-8 form, so nothing
  can be said back about them;
- ``Content-Type: application/json`` with no ``charset`` or ``charset=utf-8``; any other
  charset is a 415 (JSON is UTF-8, RFC 8259 section 8.1).
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import IO, Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from config import Settings
from engine import GenerationOptions
from serving.errors import (
    BadRequest,
    PayloadTooLarge,
    ServiceError,
    TextTooLong,
    UnsupportedMediaType,
)
from serving.glossary import check_entries
from web.errors import RequestTimeout

logger = logging.getLogger(__name__)

_TOP_LEVEL = {"text", "options", "source", "target", "format", "glossary"}
FORMATS = ("text", "html", "xml")
_OPTIONS = {"beam_size"}
JSON_MIMETYPE = "application/json"
MAX_DEPTH = 32
MAX_INT_DIGITS = 32
_UTF8 = {"utf-8", "utf8"}
_READ_CHUNK = 64 * 1024
# A JSON string, or an unterminated one up to the end; what is left are the brackets.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A \uD800-\uDFFF escape: only then can a parsed string hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _Rejected(Exception):
    """Raised from inside json.loads by the hooks below; becomes a BadRequest."""


@dataclass(frozen=True)
class TranslateRequest:
    texts: list[str]
    is_list: bool
    # None: the translator's default options (the configured default beam).
    options: GenerationOptions | None = None
    # Language codes; None leaves the choice to the registry (default zh→en).
    source: str | None = None
    target: str | None = None
    # "text", or "html"/"xml": markup kept, its text translated (text/markup.py).
    format: str = "text"
    # Source term → target term, written verbatim (serving/glossary.py); None: none.
    glossary: dict[str, str] | None = None


def check_content_type(mimetype: str, params: Mapping[str, str]) -> None:
    """Refuse a JSON body in any charset but UTF-8 (415), before the body is read."""
    if mimetype != JSON_MIMETYPE and not mimetype.endswith("+json"):
        return
    charset = params.get("charset")
    if charset is not None and charset.strip().lower() not in _UTF8:
        raise UnsupportedMediaType(
            f"JSON must be UTF-8: send 'Content-Type: application/json' or "
            f"'application/json; charset=utf-8', not charset {_show(charset)}"
        )


def read_body(request: Request, limit: int) -> bytes:
    """Read the whole body once and leave it to ``request.get_data()``; at most *limit*
    bytes, or PayloadTooLarge.

    With a ``Content-Length`` werkzeug checks it against ``max_content_length`` before
    reading. A body without one (chunked) is counted here while it is read: werkzeug
    would cut it at the limit without a word. Raise RequestTimeout (408) if the client
    stalls, BadRequest if the stream breaks (a malformed chunk, a dropped connection).
    """
    try:
        if request.content_length is None and request.environ.get("wsgi.input_terminated"):
            data = _read_at_most(request.environ["wsgi.input"], limit + 1)
            if len(data) > limit:
                raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
            request.environ["wsgi.input"] = io.BytesIO(data)  # what get_data() reads next
        return request.get_data(cache=True)
    except (ServiceError, HTTPException):
        raise
    except TimeoutError:
        raise RequestTimeout("the request body did not arrive in time") from None
    except Exception as exc:  # the server's stream failed: the client's bytes are at fault
        logger.info("request body unreadable: %s", type(exc).__name__)
        raise BadRequest(
            "the request body could not be read (connection dropped or malformed chunked encoding)"
        ) from None


def _read_at_most(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = stream.read(min(left, _READ_CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _show(value: Any, limit: int = 40) -> str:
    """A client value for an error message: repr (ASCII-safe for surrogates), cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _names(keys: list[str], most: int = 5) -> str:
    shown = ", ".join(_show(k) for k in keys[:most])
    return shown + (f" and {len(keys) - most} more" if len(keys) > most else "")


def _too_deep(text: str, limit: int) -> bool:
    """Whether *text* nests arrays/objects deeper than *limit*, brackets inside strings
    not counted. Linear: an unterminated string runs to the end instead of failing, so
    the string pattern never rescans; the rest is C-level (about 30 ms for 256 KiB)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Rejected(f"duplicate key {_show(key)} in an object")
            seen.add(key)
    return data


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _Rejected(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _Rejected(f"the number {_show(literal)} is out of range")
    return value


def _constant(name: str) -> Any:
    raise _Rejected(f"{name} is not a JSON value")


def decode_json(body: bytes) -> Any:
    """Parse a request body by the rules in the module docstring; BadRequest if broken."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
    if _too_deep(text, MAX_DEPTH):
        raise BadRequest(f"the request body nests deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the request body is not valid JSON: {exc.msg} at position {exc.pos}"
        ) from None
    except _Rejected as exc:
        raise BadRequest(f"the request body is not accepted: {exc}") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(
                "the request body has a lone UTF-16 surrogate escape (\\ud800-\\udfff); "
                "send text as UTF-8 or as escaped surrogate pairs"
            ) from None
    return data


def _check_text(text: Any, where: str, max_chars: int) -> str:
    if not isinstance(text, str):
        raise BadRequest(f"{where} must be a string, got {type(text).__name__}")
    if len(text) > max_chars:
        raise TextTooLong(
            f"{where} has {len(text)} characters; the limit is {max_chars} per text. "
            "Split the text into several requests or items."
        )
    return text


def _options(raw: Any, settings: Settings) -> GenerationOptions | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequest(f"'options' must be an object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _OPTIONS)
    if unknown:
        raise BadRequest(
            f"unknown option(s): {_names(unknown)}; known: {', '.join(sorted(_OPTIONS))}"
        )
    if "beam_size" not in raw:
        return None
    beam = raw["beam_size"]
    if (
        isinstance(beam, bool)
        or not isinstance(beam, int)
        or not 1 <= beam <= settings.max_beam_size
    ):
        raise BadRequest(
            f"'options.beam_size' must be an integer from 1 to {settings.max_beam_size}, "
            f"got {_show(beam)}"
        )
    return GenerationOptions(beam_size=beam)


def parse_translate_request(mimetype: str, body: bytes, settings: Settings) -> TranslateRequest:
    """Validate a request body; raise the ServiceError that describes the first problem."""
    if mimetype != JSON_MIMETYPE:
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {_show(mimetype or 'none')}"
        )
    data = decode_json(body)
    if not isinstance(data, dict):
        raise BadRequest(f"the request body must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise BadRequest(
            f"unknown field(s): {_names(unknown)}; expected 'text' and optional "
            "'source', 'target', 'options', 'format' and 'glossary'"
        )
    if "text" not in data:
        raise BadRequest("missing field 'text' (a string or a list of strings)")
    raw = data["text"]
    options = _options(data.get("options"), settings)
    source, target = _language(data, "source"), _language(data, "target")
    fmt, glossary = _format(data.get("format")), _glossary(data.get("glossary"))
    if isinstance(raw, list):
        if len(raw) > settings.max_batch_items:
            raise PayloadTooLarge(
                f"'text' has {len(raw)} items; the limit is {settings.max_batch_items} per request"
            )
        texts = [_check_text(t, f"text[{i}]", settings.max_chars) for i, t in enumerate(raw)]
        return TranslateRequest(texts, True, options, source, target, fmt, glossary)
    text = _check_text(raw, "'text'", settings.max_chars)
    return TranslateRequest([text], False, options, source, target, fmt, glossary)


def _format(value: Any) -> str:
    if value is None:
        return "text"
    if value not in FORMATS:
        raise BadRequest(f"'format' must be one of {', '.join(FORMATS)}, got {_show(value)}")
    return str(value)


def _glossary(value: Any) -> dict[str, str] | None:
    """A request's glossary: an object of source term → target term (may be empty)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest(
            f"'glossary' must be an object of source term → target term, got {_show(value)}"
        )
    return check_entries(value.items(), "glossary entry")


def _language(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadRequest(
            f"'{key}' must be a language code such as 'zh' or 'en', got {_show(value)}"
        )
    return value
