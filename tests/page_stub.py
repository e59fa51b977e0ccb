"""A stand-in backend for the browser test of the translation page.

It serves the real ``templates/`` and ``static/`` but answers the API with canned
responses, so the pages can be tested without a model or the real app:
``POST /translate`` (``"EN: "`` + the text for zh→en, ``"ZH: "`` for en→zh, glossary
terms replaced by their translations),
``POST /detect`` (Chinese characters: zh, else en), the file job endpoints
(``POST /translate/file`` with ``Prefer: respond-async``, progress in two polls,
``"EN: "`` + the file's text as the download), ``/docs`` and the real ``/openapi.json``.

``GET /?directions=zh-en`` serves the page with only that direction; ``?demo=1`` as if
the demo model were served.
"""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request

REPO_ROOT = Path(__file__).resolve().parent.parent

MAX_CHARS = 50
MAX_FILE_BYTES = 2048
MODEL_ID = "stub-model"
XSS_RESULT = "<b>bold</b><img src=x onerror=alert(1)>"
QUEUE_FULL_MESSAGE = "The translation queue is full; retry shortly."
PROXY_ERROR_PAGE = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
FILE_FAILED_MESSAGE = "The file translation failed; it has been logged."
UNAPPLIED_TERM = "坏"  # a glossary term the stub reports as found but not applied
# A slow request gives up after this long even if the test never releases it.
SLOW_REQUEST_MAX_WAIT_S = 30
NAMES = {"zh": "Chinese", "en": "English"}
DIRECTIONS = ("zh-en", "en-zh")
FILE_FORMATS = [".docx", ".html", ".jsonl", ".md", ".srt", ".txt"]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def create_app() -> Flask:
    """Build the stub app.

    ``app.config["CALLS"]`` records every text posted to /translate (``"DIRECTIONS"`` the
    ``source-target`` of each, ``"GLOSSARIES"`` the glossaries sent, ``"DETECTS"`` the
    texts sent to /detect, ``"FILES"`` the uploads as ``(name, source, target)``); input
    ``"slow"`` blocks until ``app.config["RELEASE_SLOW"]`` (a ``threading.Event``) is set.
    """
    app = Flask(
        __name__,
        template_folder=str(REPO_ROOT / "templates"),
        static_folder=str(REPO_ROOT / "static"),
    )
    app.config.update(CALLS=[], DIRECTIONS=[], DETECTS=[], FILES=[], GLOSSARIES=[], JOBS={})
    app.config["RELEASE_SLOW"] = threading.Event()

    @app.get("/")
    def index() -> str:
        wanted = request.args.get("directions", ",".join(DIRECTIONS)).split(",")
        return render_template(
            "index.html",
            max_chars=MAX_CHARS,
            model_id=MODEL_ID,
            version="test",
            directions=[_direction(key) for key in wanted],
            demo_model=request.args.get("demo") == "1",
            max_file_bytes=MAX_FILE_BYTES,
            file_formats=FILE_FORMATS,
        )

    @app.get("/docs")
    def docs() -> str:
        return render_template("docs.html", version="test")

    @app.get("/openapi.json")
    def openapi() -> Response:
        from config import load_settings
        from web.openapi import build_spec

        return jsonify(build_spec(load_settings(environ={}), "test"))

    @app.post("/translate")
    def translate() -> Response | tuple[Response, int] | tuple[Response, int, dict[str, str]]:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            return _error(400, "bad_request", 'Send JSON like {"text": "..."}.')
        text = payload["text"]
        app.config["CALLS"].append(text)
        source, target = payload.get("source", "zh"), payload.get("target", "en")
        app.config["DIRECTIONS"].append(f"{source}-{target}")

        if text == "boom":
            return _error(503, "queue_full", QUEUE_FULL_MESSAGE, retry_after=1)
        if text == "html":
            return Response(PROXY_ERROR_PAGE, status=502, mimetype="text/html")
        if text == "slow":
            app.config["RELEASE_SLOW"].wait(SLOW_REQUEST_MAX_WAIT_S)
        if "<script>" in text:
            return jsonify(success=True, result=f"{XSS_RESULT} {text}")
        glossary = payload.get("glossary")
        if isinstance(glossary, dict):
            app.config["GLOSSARIES"].append(glossary)
            for term, translation in glossary.items():
                if term != UNAPPLIED_TERM:
                    text = text.replace(term, translation)
            unapplied = [t for t in glossary if t == UNAPPLIED_TERM and t in text]
            result = f"{target.upper()}: " + text
            return jsonify(success=True, result=result, glossary_unapplied=unapplied)
        return jsonify(success=True, result=f"{target.upper()}: " + text)

    @app.post("/detect")
    def detect() -> Response:
        payload = request.get_json(silent=True) or {}
        text = str(payload.get("q", ""))
        app.config["DETECTS"].append(text)
        return jsonify([{"confidence": 100.0, "language": "zh" if _CJK.search(text) else "en"}])

    _file_routes(app)
    return app


def _direction(key: str) -> dict[str, str]:
    source, target = key.split("-")
    return {
        "key": key,
        "source": source,
        "target": target,
        "source_name": NAMES[source],
        "target_name": NAMES[target],
    }


def _file_routes(app: Flask) -> None:
    jobs: dict[str, dict[str, Any]] = app.config["JOBS"]

    @app.post("/translate/file")
    def translate_file() -> Response | tuple[Response, int, dict[str, str]]:
        upload = request.files.get("file")
        if upload is None or "respond-async" not in request.headers.get("Prefer", ""):
            return _error(400, "bad_request", "send a file, asynchronously")
        name = upload.filename or ""
        app.config["FILES"].append((name, request.form.get("source"), request.form.get("target")))
        if name.endswith(".exe"):
            return _error(415, "unsupported_file_type", "files of type '.exe' cannot be translated")
        stem, _, ext = name.rpartition(".")
        job_id = uuid.uuid4().hex
        jobs[job_id] = {
            "polls": 0,
            "failed": stem == "fail",
            "data": b"EN: " + upload.read(),
            "filename": f"{stem}.{request.form.get('target', 'en')}.{ext}",
        }
        body = jsonify(success=True, job=_job(job_id, jobs[job_id]))
        return body, 202, {"Location": f"/translate/file/{job_id}"}

    @app.get("/translate/file/<job_id>")
    def file_job(job_id: str) -> Response | tuple[Response, int, dict[str, str]]:
        job = jobs.get(job_id)
        if job is None:
            return _error(404, "not_found", "no such job")
        job["polls"] += 1
        return jsonify(success=True, job=_job(job_id, job))

    @app.get("/translate/file/<job_id>/download")
    def download(job_id: str) -> Response:
        job = jobs[job_id]
        return Response(
            job["data"],
            mimetype="text/plain",
            headers={"Content-Disposition": f"attachment; filename={job['filename']}"},
        )


def _job(job_id: str, job: dict[str, Any]) -> dict[str, Any]:
    """Queued, then half done, then done (or failed) on the second poll."""
    polls = job["polls"]
    state = "queued" if polls == 0 else "running" if polls == 1 else "done"
    if state == "done" and job["failed"]:
        state = "failed"
    body: dict[str, Any] = {
        "id": job_id,
        "state": state,
        "done": min(polls, 2) * 50,
        "total": 100,
        "progress": min(polls, 2) / 2,
        "filename": job["filename"],
        "status_url": f"/translate/file/{job_id}",
    }
    if state == "done":
        body["download_url"] = f"/translate/file/{job_id}/download"
    if state == "failed":
        body["error"] = {"code": "translation_failed", "message": FILE_FAILED_MESSAGE}
    return body


def _error(
    status: int, code: str, message: str, retry_after: int | None = None
) -> tuple[Response, int, dict[str, str]]:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    body = jsonify(success=False, error={"code": code, "message": message})
    return body, status, headers
