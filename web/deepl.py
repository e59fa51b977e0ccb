"""DeepL compatibility under ``/v2``: the official DeepL client libraries work against this service.

``deepl.Translator(auth_key, server_url="http://host:port")`` can translate, list
languages and read usage. What is and is not supported yet:

- ``POST /v2/translate`` (JSON or form): ``text`` (a list of up to ``max_batch_items``,
  50, strings; a single string too), ``target_lang`` (``EN``, ``EN-US``, ``EN-GB``,
  ``ZH``, ``ZH-HANS``, for the served directions), ``source_lang`` (optional: each
  text's language is detected from its script). ``split_sentences`` and
  ``preserve_formatting`` are checked and otherwise ignored (the pipeline always splits
  sentences and keeps line breaks); ``context``, ``model_type``,
  ``tag_handling_version`` and ``show_billed_characters`` are ignored; a ``formality``
  other than ``default``/``prefer_*`` is a 400.
- ``tag_handling`` ``html`` or ``xml``: tags, attributes and entities come back as they
  were and the text between them is translated, inline tags around the words they
  wrapped (``text/markup.py``); ``ignore_tags`` are kept untouched with their content,
  ``splitting_tags`` / ``non_splitting_tags`` say which tags split sentences,
  ``outline_detection`` (XML, default on) guesses the rest: a tag inside text does not.
  Without ``tag_handling`` the tag lists are ignored.
- ``glossary_id`` (or ``glossary_ids``): a glossary of ``web/deepl_glossaries.py``; its
  target terms come out verbatim (best effort: terms that could not be applied are not
  reported here; the native API's ``glossary_unapplied`` lists them).
- ``GET|POST /v2/languages`` (``type=source|target``), ``GET|POST /v2/usage``:
  characters sent to ``/v2/translate`` since the process started.
- Glossaries: ``POST|GET /v2/glossaries``, ``GET|DELETE /v2/glossaries/<id>``,
  ``GET /v2/glossaries/<id>/entries``, ``GET /v2/glossary-language-pairs``
  (``web/deepl_glossaries.py``), kept in memory per process.
- Auth: any ``Authorization: DeepL-Auth-Key ...`` is accepted, and so is none; any
  other ``Authorization`` is a 403 (keys are not implemented yet).

Errors have DeepL's shape ``{"message": "..."}``: 400 bad request, 403 authorization,
404, 413 too many or too long texts or body, 429 queue full, 500, 503 not ready, 504.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from config import Settings
from serving.errors import BadRequest, NotFound, PayloadTooLarge, QueueFull, ServiceError
from text.languages import LANGUAGES
from text.markup import MarkupOptions
from web import deepl_glossaries
from web.context import get_registry, get_settings
from web.deepl_glossaries import request_glossary
from web.libretranslate import auto_sources, detect_each, request_params, translate_from

logger = logging.getLogger(__name__)

bp = Blueprint("deepl", __name__, url_prefix="/v2")

# DeepL's target codes of each language, with DeepL's names; the first is the default.
TARGET_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (("EN-GB", "English (British)"), ("EN-US", "English (American)"), ("EN", "English")),
    "zh": (("ZH", "Chinese (simplified)"), ("ZH-HANS", "Chinese (simplified)")),
}
# Listed by /v2/languages?type=target; "EN" is accepted but deprecated by DeepL.
_UNLISTED = {"EN"}
_AUTH_RE = re.compile(r"^DeepL-Auth-Key\s+\S+")
_TAG_PARAMS = {"html", "xml"}
_SPLIT_SENTENCES = {"0", "1", "nonewlines"}
_FORMALITIES = {"default", "prefer_more", "prefer_less"}
CHARACTER_LIMIT = 1_000_000_000_000


class Usage:
    """Characters translated through ``/v2/translate`` since the app started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.characters = 0

    def add(self, count: int) -> None:
        with self._lock:
            self.characters += count


@bp.record_once
def _attach_usage(state: BlueprintSetupState) -> None:
    state.app.extensions["deepl_usage"] = Usage()


def _usage() -> Usage:
    usage: Usage = current_app.extensions["deepl_usage"]
    return usage


@bp.before_request
def _check_auth() -> None:
    header = request.headers.get("Authorization")
    if header is not None and not _AUTH_RE.match(header):
        raise _Forbidden("Authorization failure: send 'Authorization: DeepL-Auth-Key <key>'")


class _Forbidden(ServiceError):
    status, code = 403, "forbidden"


# --- translate ---------------------------------------------------------------------------


@bp.route("/translate", methods=["GET", "POST"])
def translate() -> Response:
    """Translate ``text`` into ``target_lang``, detecting the source unless given."""
    params = request_params(request)
    texts = _texts(params.get("text"), get_settings())
    target = _target(params.get("target_lang"))
    source = _source(params.get("source_lang"))
    markup = _check_options(params)
    glossary = request_glossary(params, source, target)
    detections = detect_each(texts, markup) if source is None else None
    sources = auto_sources(detections, target) if detections else [source] * len(texts)
    results, translators, g.stats = translate_from(sources, texts, target, markup, glossary)
    _usage().add(sum(len(t) for t in texts))
    found = [d.language for d in detections] if detections else [source] * len(texts)
    translations = [
        {
            "detected_source_language": (language or t.direction.source.code).upper(),
            "text": result,
            "billed_characters": len(text),
        }
        for text, result, language, t in zip(texts, results, found, translators, strict=True)
    ]
    return jsonify(translations=translations)


def _texts(raw: Any, settings: Settings) -> list[str]:
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts:
        raise BadRequest("Parameter 'text' not specified (one or more strings).")
    if len(texts) > settings.max_batch_items:
        raise PayloadTooLarge(
            f"Too many texts: {len(texts)}; the limit is {settings.max_batch_items} per request."
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise BadRequest(f"Parameter 'text' item {i} is not a string.")
        if len(text) > settings.max_chars:
            raise PayloadTooLarge(
                f"Text {i} has {len(text)} characters; the limit is {settings.max_chars}."
            )
    return texts


def _target(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("Parameter 'target_lang' not specified.")
    code = raw.strip().upper()
    for language, codes in _served_targets().items():
        if code in (c for c, _ in codes):
            return language
    listed = ", ".join(c for codes in _served_targets().values() for c, _ in codes)
    raise BadRequest(f"Value for 'target_lang' not supported: {raw!r}; supported: {listed}.")


def _source(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    code = raw.strip().lower().split("-")[0] if isinstance(raw, str) else None
    if code not in _served_sources():
        listed = ", ".join(c.upper() for c in _served_sources())
        raise BadRequest(f"Value for 'source_lang' not supported: {raw!r}; supported: {listed}.")
    return code


def _check_options(params: dict[str, Any]) -> MarkupOptions | None:
    """Reject what would be silently wrong; accept the rest of DeepL's options. The
    markup options, if ``tag_handling`` asks for them."""
    split = params.get("split_sentences")
    if split is not None and str(split) not in _SPLIT_SENTENCES:
        raise BadRequest(f"Value for 'split_sentences' not supported: {split!r}.")
    formality = params.get("formality")
    if formality not in (None, "", *_FORMALITIES):
        raise BadRequest(f"'formality' {formality!r} is not supported for this target_lang.")
    tags = params.get("tag_handling")
    if tags in (None, ""):
        return None
    if not isinstance(tags, str) or tags not in _TAG_PARAMS:
        raise BadRequest(f"Value for 'tag_handling' not supported: {tags!r}; use html or xml.")
    outline = params.get("outline_detection", True)
    if outline not in (True, False, "0", "1", "true", "false"):
        raise BadRequest(f"Value for 'outline_detection' not supported: {outline!r}.")
    return MarkupOptions(
        xml=tags == "xml",
        ignore_tags=_tags(params, "ignore_tags"),
        splitting_tags=_tags(params, "splitting_tags"),
        non_splitting_tags=_tags(params, "non_splitting_tags"),
        outline_detection=outline in (True, "1", "true"),
    )


def _tags(params: dict[str, Any], key: str) -> frozenset[str]:
    """A tag list: a JSON list, a comma-separated string, or repeated form fields."""
    raw = params.get(key)
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    if not all(isinstance(item, str) for item in items):
        raise BadRequest(f"Parameter '{key}' must be tag names (a list or comma-separated).")
    return frozenset(t.strip().lower() for item in items for t in item.split(",") if t.strip())


# --- languages, usage, glossaries ----------------------------------------------------------


def _served_sources() -> list[str]:
    return list(dict.fromkeys(t.direction.source.code for t in get_registry()))


def _served_targets() -> dict[str, tuple[tuple[str, str], ...]]:
    targets = dict.fromkeys(t.direction.target.code for t in get_registry())
    return {c: TARGET_CODES.get(c, ((c.upper(), LANGUAGES[c].name),)) for c in targets}


@bp.route("/languages", methods=["GET", "POST"])
def languages() -> Response:
    """Source (default) or target languages, in DeepL's shape."""
    kind = request_params(request).get("type", "source")
    if kind == "source":
        return jsonify(
            [{"language": c.upper(), "name": LANGUAGES[c].name} for c in _served_sources()]
        )
    if kind != "target":
        raise BadRequest(f"Value for 'type' not supported: {kind!r}; use 'source' or 'target'.")
    listed = [
        {"language": code, "name": name, "supports_formality": False}
        for codes in _served_targets().values()
        for code, name in codes
        if code not in _UNLISTED
    ]
    return jsonify(listed)


@bp.route("/usage", methods=["GET", "POST"])
def usage() -> Response:
    return jsonify(character_count=_usage().characters, character_limit=CHARACTER_LIMIT)


bp.register_blueprint(deepl_glossaries.bp)  # /v2/glossaries..., under this auth and errors


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    raise NotFound(f"{request.method} /v2/{rest} is not available on this server.")


# --- errors ----------------------------------------------------------------------------------


def _status(error: ServiceError) -> int:
    if isinstance(error, QueueFull):
        return 429
    if error.status in (415, 422):
        return 400
    return error.status


def error_response(error: ServiceError | HTTPException) -> Response:
    """``{"message": ...}`` with the status DeepL would answer."""
    if isinstance(error, HTTPException):
        status = error.code or 500
        response = jsonify(message=error.description or f"HTTP {status}")
        response.status_code = status
        return response
    if error.status >= 500:
        logger.warning("%s: %s", error.code, error.message)
    response = jsonify(message=error.message)
    response.status_code = _status(error)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    return error_response(error)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return error_response(error)
