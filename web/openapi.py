"""``GET /openapi.json``: an OpenAPI 3.1 description of the HTTP API.

The native API (``/translate``, the probes), LibreTranslate's endpoints and DeepL's under
``/v2``. Built in code so that the limits in it are the running service's settings.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from config import Settings
from web.context import get_settings
from web.deepl_glossaries import openapi_paths as glossary_paths
from web.deepl_glossaries import openapi_schemas as glossary_schemas
from web.files_openapi import openapi_paths as file_paths

logger = logging.getLogger(__name__)

bp = Blueprint("openapi", __name__)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(schema: Schema, *types: str) -> Schema:
    return {"content": {t: {"schema": schema} for t in types or (JSON,)}}


def _answer(description: str, schema: Schema, media: str = JSON) -> Schema:
    return {"description": description, **_body(schema, media)}


def _errors(schema: Schema, *statuses: int) -> dict[str, Schema]:
    return {str(s): _answer("error", schema) for s in statuses}


def _string_or_list(max_items: int, max_chars: int) -> Schema:
    text = {"type": "string", "maxLength": max_chars}
    return {"oneOf": [text, {"type": "array", "items": text, "maxItems": max_items}]}


def _object(properties: dict[str, Schema], *required: str, closed: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def _native_schemas(s: Settings) -> dict[str, Schema]:
    code = {"type": "string", "description": "language code: zh, en (region ignored)"}
    options = _object({"beam_size": {"type": "integer", "minimum": 1, "maximum": s.max_beam_size}})
    return {
        "TranslateRequest": _object(
            {
                "text": _string_or_list(s.max_batch_items, s.max_chars),
                "source": code,
                "target": code,
                "options": {**options, "additionalProperties": False},
                "format": {
                    "enum": ["text", "html", "xml"],
                    "description": "html, xml: tags, attributes and entities kept as written, "
                    "the text translated, inline tags around the words they wrapped",
                },
                "glossary": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "minLength": 1},
                    "description": "source term → target term, written verbatim",
                },
            },
            "text",
            closed=True,
        ),
        "TranslateResponse": _object(
            {
                "success": {"const": True},
                "result": {"oneOf": [{"type": "string"}, {"type": "array"}]},
                "glossary_unapplied": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "with a glossary: the source terms found but not applied",
                },
            },
            "success",
            "result",
        ),
        "Error": _object(
            {
                "success": {"const": False},
                "error": _object(
                    {"code": {"type": "string"}, "message": {"type": "string"}}, "code", "message"
                ),
            },
            "success",
            "error",
        ),
        "Health": _object({"status": {"type": "string"}}, "status"),
    }


def _libre_schemas(s: Settings) -> dict[str, Schema]:
    detected = _object(
        {
            "confidence": {"type": "number", "minimum": 0, "maximum": 100},
            "language": {"type": "string"},
        },
        "confidence",
        "language",
    )
    language = _object({"code": {"type": "string"}, "name": {"type": "string"}})
    return {
        "LibreTranslateRequest": _object(
            {
                "q": _string_or_list(s.max_batch_items, s.max_chars),
                "source": {"type": "string", "description": "a language code or auto"},
                "target": {"type": "string"},
                "format": {"enum": ["text", "html"], "description": "html: markup kept"},
                "alternatives": {"type": "integer", "minimum": 0},
                "api_key": {"type": "string", "description": "accepted, ignored for now"},
            },
            "q",
            "target",
        ),
        "LibreTranslateResponse": _object(
            {
                "translatedText": {"oneOf": [{"type": "string"}, {"type": "array"}]},
                "detectedLanguage": {"oneOf": [detected, {"type": "array", "items": detected}]},
                "alternatives": {"type": "array"},
            },
            "translatedText",
        ),
        "DetectedLanguage": detected,
        "LibreTranslateError": _object({"error": {"type": "string"}}, "error"),
        "LibreTranslateLanguage": _object(
            {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "targets": {"type": "array", "items": {"type": "string"}},
            },
            "code",
            "name",
            "targets",
        ),
        "FrontendSettings": _object(
            {
                "charLimit": {"type": "integer"},
                "frontendTimeout": {"type": "integer"},
                "apiKeys": {"type": "boolean"},
                "keyRequired": {"type": "boolean"},
                "suggestions": {"type": "boolean"},
                "filesTranslation": {"type": "boolean"},
                "supportedFilesFormat": {"type": "array", "items": {"type": "string"}},
                "language": _object({"source": language, "target": language}),
            },
            "charLimit",
            "keyRequired",
        ),
    }


def _deepl_schemas(s: Settings) -> dict[str, Schema]:
    text = {"type": "string", "maxLength": s.max_chars}
    return {
        "DeepLTranslateRequest": _object(
            {
                "text": {
                    "type": "array",
                    "items": text,
                    "minItems": 1,
                    "maxItems": s.max_batch_items,
                },
                "target_lang": {"enum": ["EN", "EN-GB", "EN-US", "ZH", "ZH-HANS"]},
                "source_lang": {"enum": ["EN", "ZH"], "description": "omitted: detected"},
                "split_sentences": {"enum": ["0", "1", "nonewlines"]},
                "preserve_formatting": {"type": ["boolean", "string"]},
                "formality": {"enum": ["default", "prefer_more", "prefer_less"]},
                "tag_handling": {"enum": ["html", "xml"], "description": "markup kept"},
                "ignore_tags": {"type": ["array", "string"], "description": "kept untouched"},
                "splitting_tags": {"type": ["array", "string"]},
                "non_splitting_tags": {"type": ["array", "string"]},
                "outline_detection": {"type": ["boolean", "string"]},
                "glossary_id": {"type": "string", "description": "needs source_lang"},
            },
            "text",
            "target_lang",
        ),
        "DeepLTranslateResponse": _object(
            {
                "translations": {
                    "type": "array",
                    "items": _object(
                        {
                            "detected_source_language": {"type": "string"},
                            "text": {"type": "string"},
                            "billed_characters": {"type": "integer"},
                        },
                        "detected_source_language",
                        "text",
                    ),
                }
            },
            "translations",
        ),
        "DeepLLanguage": _object(
            {
                "language": {"type": "string"},
                "name": {"type": "string"},
                "supports_formality": {"type": "boolean"},
            },
            "language",
            "name",
        ),
        "DeepLUsage": _object(
            {"character_count": {"type": "integer"}, "character_limit": {"type": "integer"}},
            "character_count",
            "character_limit",
        ),
        "DeepLError": _object({"message": {"type": "string"}}, "message"),
        **glossary_schemas(),
    }


def _native_paths() -> dict[str, Any]:
    either = {"oneOf": [_ref("TranslateRequest"), _ref("LibreTranslateRequest")]}
    failed = {"oneOf": [_ref("Error"), _ref("LibreTranslateError")]}
    translated = {"oneOf": [_ref("TranslateResponse"), _ref("LibreTranslateResponse")]}
    probe = {"200": _answer("ok", _ref("Health")), "503": _answer("not ready", _ref("Error"))}
    return {
        "/translate": {
            "post": {
                "summary": "Translate (native body with text, or LibreTranslate's with q)",
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {"schema": either},
                        FORM: {"schema": _ref("LibreTranslateRequest")},
                        MULTIPART: {"schema": _ref("LibreTranslateRequest")},
                    },
                },
                "responses": {
                    "200": _answer("translated", translated),
                    **_errors(failed, 400, 413, 415, 422, 429, 500, 503, 504),
                },
            }
        },
        "/healthz": {"get": {"summary": "Liveness", "responses": probe}},
        "/readyz": {"get": {"summary": "Readiness", "responses": probe}},
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {"200": _answer("metrics", {"type": "string"}, "text/plain")},
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "responses": {"200": _answer("OpenAPI 3.1", {"type": "object"})},
            }
        },
    }


def _libre_paths() -> dict[str, Any]:
    failed = _ref("LibreTranslateError")
    detect_body = _object({"q": {"type": "string"}, "api_key": {"type": "string"}}, "q")
    return {
        "/languages": {
            "get": {
                "summary": "LibreTranslate: served languages and their targets",
                "responses": {
                    "200": _answer(
                        "languages", {"type": "array", "items": _ref("LibreTranslateLanguage")}
                    )
                },
            }
        },
        "/detect": {
            "post": {
                "summary": "LibreTranslate: detect Chinese or English",
                "requestBody": {"required": True, **_body(detect_body, JSON, FORM, MULTIPART)},
                "responses": {
                    "200": _answer(
                        "detected", {"type": "array", "items": _ref("DetectedLanguage")}
                    ),
                    **_errors(failed, 400),
                },
            }
        },
        "/frontend/settings": {
            "get": {
                "summary": "LibreTranslate: what its web frontend reads",
                "responses": {"200": _answer("settings", _ref("FrontendSettings"))},
            }
        },
        "/translate_file": {
            "post": {
                "summary": "LibreTranslate: file translation (not supported yet: 400)",
                "responses": _errors(failed, 400),
            }
        },
        "/suggest": {
            "post": {
                "summary": "LibreTranslate: suggestions (disabled: 403)",
                "responses": _errors(failed, 403),
            }
        },
    }


def _deepl_paths() -> dict[str, Any]:
    failed = _ref("DeepLError")
    kind = {"name": "type", "in": "query", "schema": {"enum": ["source", "target"]}}
    languages = {
        "summary": "DeepL: source or target languages",
        "parameters": [kind],
        "responses": {
            "200": _answer("languages", {"type": "array", "items": _ref("DeepLLanguage")}),
            **_errors(failed, 400, 403),
        },
    }
    usage = {
        "summary": "DeepL: characters translated since start",
        "responses": {"200": _answer("usage", _ref("DeepLUsage")), **_errors(failed, 403)},
    }
    return {
        "/v2/translate": {
            "post": {
                "summary": "DeepL: translate",
                "requestBody": {
                    "required": True,
                    **_body(_ref("DeepLTranslateRequest"), JSON, FORM, MULTIPART),
                },
                "responses": {
                    "200": _answer("translated", _ref("DeepLTranslateResponse")),
                    **_errors(failed, 400, 403, 413, 429, 500, 503, 504),
                },
            }
        },
        "/v2/languages": {"get": languages, "post": languages},
        "/v2/usage": {"get": usage, "post": usage},
        **glossary_paths(),
    }


def build_spec(settings: Settings, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a service with *settings*."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "zh-en-translator",
            "version": version,
            "description": "Chinese↔English translation: a native JSON API, plus "
            "LibreTranslate- and DeepL-compatible endpoints for existing clients.",
        },
        "paths": {
            **_native_paths(),
            **_libre_paths(),
            **_deepl_paths(),
            **file_paths(settings.max_file_bytes, settings.max_file_chars),
        },
        "components": {
            "schemas": {
                **_native_schemas(settings),
                **_libre_schemas(settings),
                **_deepl_schemas(settings),
            }
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI description of this service."""
    return jsonify(build_spec(get_settings(), str(current_app.config.get("VERSION", "0"))))
