"""File translation over HTTP: the native endpoints and LibreTranslate's.

- ``POST /translate/file`` (multipart: ``file``, optional ``source`` (a code or ``auto``)
  and ``target``) answers the translated file as a download
  (``Content-Disposition: attachment; filename=...``): ``notes.md`` comes back as
  ``notes.en.md``. With ``Prefer: respond-async`` it answers ``202`` at once with a job
  (``Location`` names it); ``GET /translate/file/<job>`` tells its progress (characters
  done of total) and, once done, where to download it:
  ``GET /translate/file/<job>/download``. The page uses the job form to show progress.
- ``POST /translate_file`` (LibreTranslate: ``file``, ``source``, ``target``) translates
  and answers ``{"translatedFileUrl": ".../download_file/<id>.<name>"}``;
  ``GET /download_file/<id>.<name>`` serves the file. Errors in LibreTranslate's shape.

Limits: an upload of at most ``max_file_bytes`` (the request body limit is raised to
that for these two routes only), at most ``max_file_chars`` characters to translate.
Finished files wait in a bounded in-memory store for an hour (``serving/file_jobs.py``).
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState

from serving import RequestStats, Translator
from serving.documents import (
    FileTooLarge,
    OpenedFile,
    Progress,
    check_characters,
    open_file,
    pick_translator,
    supported_extensions,
    translate_file,
)
from serving.errors import BadRequest, NotFound, ServiceError, UnsupportedMediaType
from serving.file_jobs import DONE, FAILED, FileEntry, FileStore
from web.context import get_registry, get_settings
from web.libretranslate import error_response as libre_error

logger = logging.getLogger(__name__)

bp = Blueprint("files", __name__)

UPLOAD_ENDPOINTS = frozenset({"files.translate_file_view", "libretranslate.translate_file"})
# Room for the multipart framing and the small fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


@bp.record_once
def _attach_store(state: BlueprintSetupState) -> None:
    state.app.extensions["file_store"] = FileStore()


def get_store(app: Flask | None = None) -> FileStore:
    store: FileStore = (app or current_app).extensions["file_store"]
    return store


@bp.before_app_request
def _allow_uploads() -> None:
    """Raise the body limit to ``max_file_bytes`` for the upload routes, before the
    security hook reads the body (``web/security.py``)."""
    if request.endpoint not in UPLOAD_ENDPOINTS or request.method != "POST":
        return
    limit = get_settings().max_file_bytes
    request.max_content_length = limit + FORM_OVERHEAD_BYTES
    if (request.content_length or 0) > limit + FORM_OVERHEAD_BYTES:
        raise _too_large(limit)


def _too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(f"The file exceeds {limit} bytes (the max_file_bytes setting).")


# --- reading an upload -------------------------------------------------------------------


@dataclass
class Upload:
    opened: OpenedFile
    translator: Translator
    target: str  # the code the output file is named after


def read_upload(*, target_required: bool = False) -> Upload:
    """Parse the multipart upload, open the file and pick its translator."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(
            "send the file as multipart/form-data with a 'file' field (curl -F file=@NAME)"
        )
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("Invalid request: missing the 'file' field (multipart/form-data)")
    settings = get_settings()
    data = upload.read(settings.max_file_bytes + 1)
    if len(data) > settings.max_file_bytes:
        raise _too_large(settings.max_file_bytes)
    source = _field("source")
    target = _field("target")
    if target_required and target is None:
        raise BadRequest("Invalid request: missing target parameter")
    opened = open_file(upload.filename, data)
    check_characters(opened, settings.max_file_chars)
    translator = pick_translator(get_registry(), opened, source, target)
    return Upload(opened, translator, translator.direction.target.code)


def _field(name: str) -> str | None:
    value = request.form.get(name)
    return value.strip() if value and value.strip() else None


Run = Callable[[Progress | None], tuple[bytes, RequestStats]]


def _work(upload: Upload, use_cache: bool) -> Run:
    """The translation of *upload*, runnable outside the request (no app context)."""
    settings = get_settings()

    def run(progress: Progress | None = None) -> tuple[bytes, RequestStats]:
        return translate_file(
            upload.translator,
            upload.opened,
            max_chars=settings.max_chars,
            max_items=settings.max_batch_items,
            use_cache=use_cache,
            progress=progress,
        )

    return run


def _use_cache() -> bool:
    return "no-cache" not in request.headers.get("Cache-Control", "").lower()


def _wants_async() -> bool:
    prefer = request.headers.get("Prefer", "")
    return "respond-async" in (p.split("=")[0].strip().lower() for p in prefer.split(","))


def _attachment(data: bytes, filename: str, mimetype: str) -> Response:
    response = send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "no-store"
    if not filename.isascii():
        # werkzeug's plain ``filename=`` drops what is not ASCII ("报告.en.docx" becomes
        # ".en.docx", a hidden file for curl -OJ); give clients without filename* a name.
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{_ascii_name(filename)}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}"
        )
    return response


def _ascii_name(filename: str) -> str:
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    folded = folded.replace('"', "").replace("\\", "")
    stem, dot, rest = folded.partition(".")
    return (stem.strip(" _-") or "document") + dot + rest


# --- native endpoints ------------------------------------------------------------------


@bp.post("/translate/file", endpoint="translate_file_view")
def translate_file_view() -> Response:
    """Translate an uploaded file; the file itself, or a job with ``Prefer: respond-async``."""
    upload = read_upload()
    upload.translator.translate([])  # not ready: 503 now, not in the job
    name = upload.opened.output_name(upload.target)
    run = _work(upload, _use_cache())
    if _wants_async():
        entry = get_store().submit(name, upload.opened.mimetype, lambda p: run(p)[0])
        response = jsonify(success=True, job=_job_json(entry))
        response.status_code = 202
        response.headers["Location"] = url_for("files.file_job", job_id=entry.id)
        response.headers["Preference-Applied"] = "respond-async"
        return response
    data, g.stats = run(None)
    return _attachment(data, name, upload.opened.mimetype)


def _entry(job_id: str) -> FileEntry:
    entry = get_store().get(job_id)
    if entry is None:
        raise NotFound(f"No file translation {job_id[:40]!r}; finished ones are kept an hour.")
    return entry


def _job_json(entry: FileEntry) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": entry.id,
        "state": entry.state,
        "done": entry.done,
        "total": entry.total,
        "progress": 1.0 if entry.state == DONE else entry.done / entry.total if entry.total else 0,
        "filename": entry.filename,
        "status_url": url_for("files.file_job", job_id=entry.id),
    }
    if entry.state == DONE:
        body["download_url"] = url_for("files.download", job_id=entry.id)
    if entry.state == FAILED and entry.error is not None:
        body["error"] = {"code": entry.error.code, "message": entry.error.message}
    return body


@bp.get("/translate/file/<job_id>")
def file_job(job_id: str) -> Response:
    """A file translation's state and progress."""
    return jsonify(success=True, job=_job_json(_entry(job_id)))


@bp.get("/translate/file/<job_id>/download")
def download(job_id: str) -> Response:
    """The translated file of a finished job."""
    entry = _entry(job_id)
    if entry.state == FAILED and entry.error is not None:
        raise entry.error
    if entry.data is None:
        raise NotFound("The file is not translated yet; poll its status_url.")
    return _attachment(entry.data, entry.filename, entry.mimetype)


# --- LibreTranslate --------------------------------------------------------------------


def libre_translate_file() -> Response:
    """LibreTranslate's ``POST /translate_file`` (its view in web/libretranslate.py
    delegates here; that blueprint renders errors in LibreTranslate's shape)."""
    upload = read_upload(target_required=True)
    data, g.stats = _work(upload, _use_cache())(None)
    name = upload.opened.output_name(upload.target)
    entry = get_store().put(name, upload.opened.mimetype, data)
    url = url_for("files.download_file", filename=f"{entry.id}.{name}", _external=True)
    return jsonify(translatedFileUrl=url)


@bp.get("/download_file/<path:filename>")
def download_file(filename: str) -> Response:
    """LibreTranslate's download of a translated file, errors in its shape."""
    try:
        entry = _entry(filename.split(".", 1)[0])
        if entry.data is None:
            raise NotFound("The file is not translated yet.")
        return _attachment(entry.data, entry.filename, entry.mimetype)
    except ServiceError as error:
        return libre_error(error)


def file_formats() -> list[str]:
    """The extensions the file endpoints read (for the page and the OpenAPI document)."""
    return supported_extensions()
