"""Parse and check the body of ``POST /translate`` into a :class:`TranslateRequest`.

Strict on purpose: a misspelt option ("beamsize") is an error the client hears about,
not a setting silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from config import Settings
from engine import GenerationOptions
from serving.errors import BadRequest, PayloadTooLarge, TextTooLong, UnsupportedMediaType

_TOP_LEVEL = {"text", "options", "source", "target"}
_OPTIONS = {"beam_size"}


@dataclass(frozen=True)
class TranslateRequest:
    texts: list[str]
    is_list: bool
    # None: the translator's default options (the configured default beam).
    options: GenerationOptions | None = None
    # Language codes; None leaves the choice to the registry (default zh→en).
    source: str | None = None
    target: str | None = None


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
            f"unknown option(s): {', '.join(unknown)}; known: {', '.join(sorted(_OPTIONS))}"
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
            f"got {beam!r}"
        )
    return GenerationOptions(beam_size=beam)


def parse_translate_request(mimetype: str, body: bytes, settings: Settings) -> TranslateRequest:
    """Validate a request body; raise the ServiceError that describes the first problem."""
    if mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {mimetype or 'none'!r}"
        )
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the request body is not valid JSON: {exc.msg} at position {exc.pos}"
        ) from None
    if not isinstance(data, dict):
        raise BadRequest(f"the request body must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(unknown)}; expected 'text' and optional "
            "'source', 'target' and 'options'"
        )
    if "text" not in data:
        raise BadRequest("missing field 'text' (a string or a list of strings)")
    raw = data["text"]
    options = _options(data.get("options"), settings)
    source, target = _language(data, "source"), _language(data, "target")
    if isinstance(raw, list):
        if len(raw) > settings.max_batch_items:
            raise PayloadTooLarge(
                f"'text' has {len(raw)} items; the limit is {settings.max_batch_items} per request"
            )
        texts = [_check_text(t, f"text[{i}]", settings.max_chars) for i, t in enumerate(raw)]
        return TranslateRequest(texts, True, options, source, target)
    text = _check_text(raw, "'text'", settings.max_chars)
    return TranslateRequest([text], False, options, source, target)


def _language(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadRequest(f"'{key}' must be a language code such as 'zh' or 'en', got {value!r}")
    return value
