"""The file endpoints in ``GET /openapi.json`` (``web/openapi.py`` merges these paths)."""

from __future__ import annotations

import logging
from typing import Any

from serving.documents import MIMETYPES, supported_extensions

logger = logging.getLogger(__name__)

Schema = dict[str, Any]

ENVELOPE: Schema = {"$ref": "#/components/schemas/Error"}
LIBRE_ERROR: Schema = {"$ref": "#/components/schemas/LibreTranslateError"}
# A translated file comes back with its own type (text/plain for .txt, and so on).
BINARY: Schema = {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in sorted(set(MIMETYPES.values()))
}
JOB: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "state": {"enum": ["queued", "running", "done", "failed"]},
        "done": {"type": "integer", "description": "characters translated"},
        "total": {"type": "integer", "description": "characters to translate"},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "filename": {"type": "string"},
        "status_url": {"type": "string"},
        "download_url": {"type": "string", "description": "once done"},
        "error": {"type": "object", "description": "once failed: code and message"},
    },
    "required": ["id", "state", "done", "total", "progress", "filename", "status_url"],
}
JOB_ANSWER: Schema = {"type": "object", "properties": {"success": {"const": True}, "job": JOB}}


def _json(schema: Schema) -> Schema:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(schema: Schema, *statuses: int) -> Schema:
    return {str(s): {"description": "error", **_json(schema)} for s in statuses}


def _file_answer() -> Schema:
    return {"description": "the translated file (attachment)", "content": BINARY}


def _upload(*required: str) -> Schema:
    schema = {
        "type": "object",
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": ", ".join(supported_extensions()),
            },
            "source": {"type": "string", "description": "a language code or auto"},
            "target": {"type": "string", "description": "a language code"},
        },
        "required": ["file", *required],
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def _path_parameter(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _native(limits: str) -> dict[str, Any]:
    prefer = {
        "name": "Prefer",
        "in": "header",
        "schema": {"const": "respond-async"},
        "description": "answer 202 with a job at once; poll its status_url",
    }
    job_id = _path_parameter("job_id")
    return {
        "/translate/file": {
            "post": {
                "summary": "Translate a file; the translated file comes back as a download",
                "description": f"{limits} notes.md comes back as notes.en.md.",
                "parameters": [prefer],
                "requestBody": _upload(),
                "responses": {
                    "200": _file_answer(),
                    "202": {"description": "a job (Prefer: respond-async)", **_json(JOB_ANSWER)},
                    **_errors(ENVELOPE, 400, 413, 415, 429, 500, 503, 504),
                },
            }
        },
        "/translate/file/{job_id}": {
            "get": {
                "summary": "A file translation's state and progress",
                "parameters": [job_id],
                "responses": {
                    "200": {"description": "the job", **_json(JOB_ANSWER)},
                    **_errors(ENVELOPE, 404),
                },
            }
        },
        "/translate/file/{job_id}/download": {
            "get": {
                "summary": "The translated file of a finished job",
                "parameters": [job_id],
                "responses": {
                    "200": _file_answer(),
                    **_errors(ENVELOPE, 404, 500, 503, 504),
                },
            }
        },
    }


def _libre(limits: str) -> dict[str, Any]:
    url = {
        "type": "object",
        "properties": {"translatedFileUrl": {"type": "string"}},
        "required": ["translatedFileUrl"],
    }
    return {
        "/translate_file": {
            "post": {
                "summary": "LibreTranslate: translate a file, then download it",
                "description": limits,
                "requestBody": _upload("target"),
                "responses": {
                    "200": {"description": "where to download the translated file", **_json(url)},
                    **_errors(LIBRE_ERROR, 400, 429, 500, 503),
                },
            }
        },
        "/download_file/{filename}": {
            "get": {
                "summary": "LibreTranslate: download a translated file",
                "parameters": [_path_parameter("filename")],
                "responses": {"200": _file_answer(), **_errors(LIBRE_ERROR, 404)},
            }
        },
    }


def openapi_paths(max_file_bytes: int, max_file_chars: int) -> dict[str, Any]:
    """The native and LibreTranslate file endpoints, with the configured limits."""
    limits = f"At most {max_file_bytes} bytes and {max_file_chars} characters to translate."
    return {**_native(limits), **_libre(limits)}
