"""DeepL's glossary endpoints under ``/v2`` (a blueprint nested in ``web/deepl.py``).

``deepl.Translator.create_glossary`` and friends work against these: a glossary is
``name``, ``source_lang``, ``target_lang`` (a served direction; regions ignored) and
``entries`` in ``entries_format`` ``tsv`` (default) or ``csv``. It is kept in this
process's memory (``serving/glossary.py``: bounded, gone on restart) and used by
``POST /v2/translate`` with ``glossary_id`` (``source_lang`` required, languages must
match), its target terms written verbatim. Terms that could not be applied are not
reported (DeepL's answer has no place for them); the native API reports them.

- ``POST /v2/glossaries`` → 201 with the glossary's information;
- ``GET /v2/glossaries``, ``GET /v2/glossaries/<id>``, ``DELETE /v2/glossaries/<id>`` (204);
- ``GET /v2/glossaries/<id>/entries``: the entries as TSV (``text/tab-separated-values``);
- ``GET /v2/glossary-language-pairs``: the served directions.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from serving.errors import BadRequest
from serving.glossary import (
    Glossary,
    GlossaryNotFound,
    GlossaryStore,
    TermMatcher,
    entries_tsv,
    parse_entries,
)
from web.context import get_registry
from web.libretranslate import request_params

logger = logging.getLogger(__name__)

bp = Blueprint("glossaries", __name__)


@bp.record_once
def _attach_store(state: BlueprintSetupState) -> None:
    state.app.extensions["glossaries"] = GlossaryStore()


def get_store() -> GlossaryStore:
    store: GlossaryStore = current_app.extensions["glossaries"]
    return store


def _pairs() -> list[tuple[str, str]]:
    return list(
        dict.fromkeys((t.direction.source.code, t.direction.target.code) for t in get_registry())
    )


def _language(raw: Any, name: str) -> str:
    code = raw.strip().lower().split("-")[0] if isinstance(raw, str) else ""
    if not code:
        raise BadRequest(f"Parameter '{name}' not specified.")
    return code


def _info(glossary: Glossary) -> dict[str, Any]:
    created = glossary.created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "glossary_id": glossary.glossary_id,
        "name": glossary.name,
        "ready": True,
        "source_lang": glossary.source_lang,
        "target_lang": glossary.target_lang,
        "creation_time": created,
        "entry_count": len(glossary.entries),
    }


@bp.post("/glossaries")
def create_glossary() -> tuple[Response, int]:
    params = request_params(request)
    source = _language(params.get("source_lang"), "source_lang")
    target = _language(params.get("target_lang"), "target_lang")
    if (source, target) not in _pairs():
        served = ", ".join(f"{s}→{t}" for s, t in _pairs())
        raise BadRequest(f"Unsupported glossary language pair {source}→{target}; served: {served}.")
    entries = params.get("entries")
    if not isinstance(entries, str):
        raise BadRequest("Parameter 'entries' not specified (TSV or CSV text).")
    fmt = params.get("entries_format") or "tsv"
    name = params.get("name")
    if not isinstance(name, str):
        raise BadRequest("Parameter 'name' not specified.")
    glossary = get_store().create(name, source, target, parse_entries(entries, str(fmt)))
    return jsonify(_info(glossary)), 201


@bp.get("/glossaries")
def list_glossaries() -> Response:
    return jsonify(glossaries=[_info(g) for g in get_store().list()])


@bp.get("/glossaries/<glossary_id>")
def get_glossary(glossary_id: str) -> Response:
    return jsonify(_info(get_store().get(glossary_id)))


@bp.delete("/glossaries/<glossary_id>")
def delete_glossary(glossary_id: str) -> Response:
    get_store().delete(glossary_id)
    return Response(status=204)


@bp.get("/glossaries/<glossary_id>/entries")
def glossary_entries(glossary_id: str) -> Response:
    body = entries_tsv(get_store().get(glossary_id))
    return Response(body, mimetype="text/tab-separated-values")


@bp.get("/glossary-language-pairs")
def glossary_language_pairs() -> Response:
    pairs = [{"source_lang": s, "target_lang": t} for s, t in _pairs()]
    return jsonify(supported_languages=pairs)


def request_glossary(params: dict[str, Any], source: str | None, target: str) -> TermMatcher | None:
    """The glossary a ``/v2/translate`` request names (``glossary_id``, or DeepL's
    ``glossary_ids``: merged, the first one's term wins), checked against its languages."""
    raw = params.get("glossary_id") or params.get("glossary_ids")
    if raw in (None, "", []):
        return None
    ids = raw if isinstance(raw, list) else str(raw).split(",")
    if source is None:
        raise BadRequest("Use of a glossary requires the source_lang parameter to be specified.")
    entries: dict[str, str] = {}
    for glossary_id in ids:
        if not isinstance(glossary_id, str):
            raise BadRequest("Parameter 'glossary_id' must be a string.")
        try:
            glossary = get_store().get(glossary_id.strip())
        except GlossaryNotFound:
            raise BadRequest(f"Invalid glossary_id: no glossary {glossary_id[:64]!r}.") from None
        if (glossary.source_lang, glossary.target_lang) != (source, target):
            raise BadRequest(
                f"Glossary {glossary.glossary_id} is for {glossary.source_lang}→"
                f"{glossary.target_lang}, the request translates {source}→{target}."
            )
        if len(ids) == 1:
            return glossary.matcher
        entries = {**glossary.entries, **entries}
    return TermMatcher(entries)


# --- OpenAPI (web/openapi.py) ----------------------------------------------------------------

_JSON = "application/json"
_ERROR = {"$ref": "#/components/schemas/DeepLError"}
_INFO = {"$ref": "#/components/schemas/DeepLGlossary"}


def _answer(description: str, schema: dict[str, Any], media: str = _JSON) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _answer("error", _ERROR) for s in statuses}


def openapi_schemas() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "DeepLGlossary": {
            "type": "object",
            "properties": {
                "glossary_id": text,
                "name": text,
                "ready": {"type": "boolean"},
                "source_lang": text,
                "target_lang": text,
                "creation_time": {"type": "string", "format": "date-time"},
                "entry_count": {"type": "integer"},
            },
            "required": ["glossary_id", "name", "source_lang", "target_lang", "entry_count"],
        },
        "DeepLGlossaryRequest": {
            "type": "object",
            "properties": {
                "name": text,
                "source_lang": text,
                "target_lang": text,
                "entries": {**text, "description": "one entry a line: source<TAB>target"},
                "entries_format": {"enum": ["tsv", "csv"]},
            },
            "required": ["name", "source_lang", "target_lang", "entries"],
        },
    }


def openapi_paths() -> dict[str, Any]:
    ident = {"name": "glossary_id", "in": "path", "required": True, "schema": {"type": "string"}}
    listed = {"type": "object", "properties": {"glossaries": {"type": "array", "items": _INFO}}}
    pair = {"type": "object", "properties": {"source_lang": {}, "target_lang": {}}}
    pairs = {
        "type": "object",
        "properties": {"supported_languages": {"type": "array", "items": pair}},
    }
    form = {"$ref": "#/components/schemas/DeepLGlossaryRequest"}
    body = {t: {"schema": form} for t in (_JSON, "application/x-www-form-urlencoded")}
    return {
        "/v2/glossaries": {
            "get": {
                "summary": "DeepL: the glossaries kept in memory",
                "responses": {"200": _answer("glossaries", listed), **_errors(403)},
            },
            "post": {
                "summary": "DeepL: create a glossary (TSV or CSV entries)",
                "requestBody": {"required": True, "content": body},
                "responses": {"201": _answer("created", _INFO), **_errors(400, 403, 413)},
            },
        },
        "/v2/glossaries/{glossary_id}": {
            "parameters": [ident],
            "get": {
                "summary": "DeepL: one glossary",
                "responses": {"200": _answer("glossary", _INFO), **_errors(403, 404)},
            },
            "delete": {
                "summary": "DeepL: delete a glossary",
                "responses": {"204": {"description": "deleted"}, **_errors(403, 404)},
            },
        },
        "/v2/glossaries/{glossary_id}/entries": {
            "parameters": [ident],
            "get": {
                "summary": "DeepL: a glossary's entries",
                "responses": {
                    "200": _answer("TSV", {"type": "string"}, "text/tab-separated-values"),
                    **_errors(403, 404),
                },
            },
        },
        "/v2/glossary-language-pairs": {
            "get": {
                "summary": "DeepL: the language pairs glossaries can have",
                "responses": {"200": _answer("pairs", pairs), **_errors(403)},
            }
        },
    }
