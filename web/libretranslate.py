"""LibreTranslate compatibility: an unmodified LibreTranslate client works against this service.

``POST /translate`` is shared with the native API: ``web/api.py`` hands a request to
:func:`translate_response` when its body (JSON, URL-encoded or multipart form) has
``q`` and no ``text``. The rest are this blueprint's: ``GET /languages``,
``POST /detect``, ``GET /frontend/settings``, ``POST /translate_file`` and
``POST /suggest`` (the last two answer that they are not available).

What is and is not supported yet:

- ``q``: a string or a list of strings (JSON); in a form, one ``q`` field is a string
  and repeated ``q`` fields are a list.
- ``source``: a code, or ``auto`` (also when missing): each text's language is
  detected from its script (:mod:`text.detect`) and reported in ``detectedLanguage``.
- ``format``: ``text``, or ``html``: tags, attributes and entities come back as they
  were, the text between them is translated sentence by sentence, inline tags around
  the words they wrapped (``text/markup.py``); the language of an ``auto`` HTML text is
  detected from its text, not its markup.
- ``alternatives``: an integer ≥ 0; no n-best yet, so the ``alternatives`` lists are empty.
- ``api_key``: accepted and ignored (keys are not implemented yet).

Errors have LibreTranslate's shape, ``{"error": "..."}``: 400 for bad parameters
(including texts over the limit), 429 when the queue is full, 503 while the model
loads, 500 for failures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from flask import Blueprint, Request, Response, g, jsonify, request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException

from config import Settings
from serving import RequestStats, Translator
from serving.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    NotReady,
    PayloadTooLarge,
    QueueFull,
    ServiceError,
)
from serving.formatted import translate_formatted
from serving.glossary import TermMatcher
from text.detect import Detection, detect
from text.languages import LANGUAGES
from text.markup import MarkupOptions, parse_markup
from web.context import get_registry, get_settings
from web.parsing import decode_json

logger = logging.getLogger(__name__)

bp = Blueprint("libretranslate", __name__)

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class LibreRequest:
    texts: list[str]
    is_list: bool
    source: str | None  # None: auto-detect
    target: str
    alternatives: int
    html: bool = False


# --- routing from POST /translate -----------------------------------------------------


def wants_libretranslate(req: Request) -> bool:
    """True if a ``POST /translate`` body is LibreTranslate's: it has ``q`` and no ``text``."""
    if req.mimetype == "application/json":
        body = req.get_data()
        if b'"q"' not in body:  # cheap: native bodies never parse twice
            return False
        try:
            data = decode_json(body)
        except BadRequest:
            return False  # the native parser names the problem
        return isinstance(data, dict) and "q" in data and "text" not in data
    if req.mimetype in _FORMS:
        return "q" in req.form and "text" not in req.form
    return False


def translate_response() -> Response:
    """Answer a LibreTranslate ``POST /translate``, errors in LibreTranslate's shape."""
    try:
        return _translate()
    except (ServiceError, HTTPException) as error:
        return error_response(error)
    except Exception:
        logger.exception("unhandled error on LibreTranslate %s", request.path)
        return error_response(ServiceError("An internal error occurred; it has been logged."))


def _translate() -> Response:
    req = parse_libre_request(request_params(request), get_settings())
    markup = MarkupOptions() if req.html else None
    detections = detect_each(req.texts, markup) if req.source is None else None
    if detections is None:
        sources: list[str | None] = [req.source] * len(req.texts)
    else:
        sources = auto_sources(detections, req.target)
    results, translators, g.stats = translate_from(sources, req.texts, req.target, markup)
    body: dict[str, Any] = {"translatedText": results if req.is_list else results[0]}
    if detections is not None:
        found = [_detected(d, t) for d, t in zip(detections, translators, strict=True)]
        body["detectedLanguage"] = found if req.is_list else found[0]
    if req.alternatives > 0:
        body["alternatives"] = [[] for _ in results] if req.is_list else []
    return jsonify(body)


def _detected(detection: Detection, translator: Translator) -> dict[str, Any]:
    language = detection.language or translator.direction.source.code
    return {"confidence": round(detection.confidence * 100, 1), "language": language}


# --- shared with the DeepL blueprint ----------------------------------------------------


def detect_each(texts: Sequence[str], markup: MarkupOptions | None = None) -> list[Detection]:
    """The language of each text; of markup, from the text a reader sees."""
    if markup is not None:
        return [detect(parse_markup(t, markup).text) for t in texts]
    return [detect(t) for t in texts]


def auto_sources(detections: Sequence[Detection], target: str) -> list[str | None]:
    """The source to ask the registry for, per text: None where the detected language is
    the target's or none was found (the translator into *target* then passes the text's
    target-language parts through unchanged)."""
    into = get_registry().get(None, target)  # an unserved target fails here
    target_code = into.direction.target.code
    return [d.language if d.language not in (None, target_code) else None for d in detections]


def translate_from(
    sources: Sequence[str | None],
    texts: Sequence[str],
    target: str,
    markup: MarkupOptions | None = None,
    glossary: TermMatcher | None = None,
) -> tuple[list[str], list[Translator], RequestStats]:
    """Translate ``texts[i]`` from ``sources[i]`` into *target*, one call per direction,
    as markup (if *markup*) and with *glossary* (serving/formatted.py).

    Returns the results, the translator of each text and the request's summed stats.
    """
    registry = get_registry()
    chosen = [registry.get(source, target) for source in sources]
    use_cache = "no-cache" not in request.headers.get("Cache-Control", "").lower()
    results = [""] * len(texts)
    total = RequestStats()
    for translator in {t.direction.key: t for t in chosen}.values():
        indices = [i for i, t in enumerate(chosen) if t is translator]
        done = translate_formatted(
            translator, [texts[i] for i in indices], markup, glossary, use_cache=use_cache
        )
        out, stats = done.texts, done.stats
        for i, result in zip(indices, out, strict=True):
            results[i] = result
        for field in fields(RequestStats):
            setattr(total, field.name, getattr(total, field.name) + getattr(stats, field.name))
    return results, chosen, total


# --- parsing ---------------------------------------------------------------------------


def request_params(req: Request) -> dict[str, Any]:
    """The body's fields: a JSON object, or a form (a repeated field becomes a list)."""
    if req.mimetype == "application/json":
        data = decode_json(req.get_data())
        if not isinstance(data, dict):
            raise BadRequest(f"the request body must be a JSON object, got {type(data).__name__}")
        return data
    # Query string and form; request.values leaves a GET's form out, clients send one.
    values = CombinedMultiDict([req.args, req.form])
    return {k: v[0] if len(v) == 1 else v for k, v in values.lists()}


def parse_libre_request(params: dict[str, Any], settings: Settings) -> LibreRequest:
    """Check LibreTranslate's ``/translate`` parameters (``api_key`` is ignored for now)."""
    if "q" not in params:
        raise BadRequest("Invalid request: missing q parameter")
    raw = params["q"]
    is_list = isinstance(raw, list)
    texts = raw if is_list else [raw]
    if len(texts) > settings.max_batch_items:
        raise BadRequest(
            f"Invalid request: q has {len(texts)} items; "
            f"the limit is {settings.max_batch_items} per request"
        )
    max_chars = settings.max_chars
    for i, text in enumerate(texts):
        where = f"q[{i}]" if is_list else "q"
        if not isinstance(text, str):
            raise BadRequest(f"Invalid request: {where} must be a string")
        if len(text) > max_chars:
            raise BadRequest(
                f"Invalid request: {where} has {len(text)} characters; the limit is {max_chars}"
            )
    target = params.get("target")
    if not isinstance(target, str) or not target.strip():
        raise BadRequest("Invalid request: missing target parameter")
    source = params.get("source", "auto")
    if not isinstance(source, str) or not source.strip():
        raise BadRequest("Invalid request: source must be a language code or 'auto'")
    fmt = params.get("format", "text")
    if fmt not in ("text", "html"):
        raise BadRequest(f"Invalid request: format must be 'text' or 'html', got {fmt!r}")
    auto = source.strip().lower() == "auto"
    alternatives = _alternatives(params.get("alternatives"))
    return LibreRequest(
        texts, is_list, None if auto else source, target, alternatives, fmt == "html"
    )


def _alternatives(raw: Any) -> int:
    if raw is None or raw == "":
        return 0
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    raise BadRequest(f"Invalid request: alternatives must be an integer >= 0, got {raw!r}")


# --- the other endpoints ----------------------------------------------------------------


@bp.get("/languages")
def languages() -> Response:
    """Each language of a served direction with the targets it translates into (a
    language that is only ever a target has none; the frontend still needs its name)."""
    targets: dict[str, list[str]] = {}
    for translator in get_registry():
        direction = translator.direction
        targets.setdefault(direction.source.code, []).append(direction.target.code)
        targets.setdefault(direction.target.code, [])
    return jsonify(
        [{"code": c, "name": LANGUAGES[c].name, "targets": t} for c, t in targets.items()]
    )


@bp.post("/detect")
def detect_language() -> Response:
    """``[{"confidence": 0..100, "language": code}]`` for ``q``."""
    text = request_params(request).get("q")
    if not isinstance(text, str):
        raise BadRequest("Invalid request: missing q parameter (a string)")
    if len(text) > get_settings().max_chars:
        raise BadRequest(f"Invalid request: q is over {get_settings().max_chars} characters")
    found = detect(text)
    language = found.language or get_registry().default.direction.source.code
    return jsonify([{"confidence": round(found.confidence * 100, 1), "language": language}])


@bp.get("/frontend/settings")
def frontend_settings() -> Response:
    """What LibreTranslate's web frontend reads to set itself up."""
    direction = get_registry().default.direction
    return jsonify(
        charLimit=get_settings().max_chars,
        frontendTimeout=500,
        apiKeys=False,
        keyRequired=False,
        suggestions=False,
        filesTranslation=False,
        supportedFilesFormat=[],
        language={
            "source": {"code": direction.source.code, "name": direction.source.name},
            "target": {"code": direction.target.code, "name": direction.target.name},
        },
    )


@bp.post("/translate_file")
def translate_file() -> Response:
    """Translate an uploaded file; ``{"translatedFileUrl": ...}`` (see web/files.py)."""
    from web import files  # files imports this module's error_response

    return files.libre_translate_file()


@bp.post("/suggest")
def suggest() -> Response:
    response = jsonify(error="Suggestions are disabled on this server.")
    response.status_code = 403
    return response


# --- errors ------------------------------------------------------------------------------


def _as_service_error(error: ServiceError | HTTPException) -> ServiceError:
    if isinstance(error, ServiceError):
        return error
    kinds: dict[int, type[ServiceError]] = {
        404: NotFound,
        405: MethodNotAllowed,
        413: PayloadTooLarge,
    }
    code = error.code or 500
    kind = kinds.get(code, BadRequest if code < 500 else ServiceError)
    return kind(error.description or f"HTTP {code}")


def error_response(error: ServiceError | HTTPException) -> Response:
    """``{"error": message}`` with the status LibreTranslate would answer."""
    service_error = _as_service_error(error)
    if isinstance(service_error, QueueFull):
        status = 429
    elif service_error.status in (404, 405):
        status = service_error.status
    elif service_error.status < 500:
        status = 400
    elif isinstance(service_error, NotReady):
        status = 503
    else:
        status = 500
    if status >= 500:
        logger.warning("%s: %s", service_error.code, service_error.message)
    response = jsonify(error=service_error.message)
    response.status_code = status
    if service_error.retry_after is not None:
        response.headers["Retry-After"] = str(service_error.retry_after)
    return response


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    return error_response(error)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return error_response(error)
