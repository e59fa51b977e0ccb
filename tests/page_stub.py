"""A stand-in backend for the browser test of the translation page.

It serves the real ``templates/index.html`` and ``static/`` but answers ``POST /translate``
with canned responses, so the page can be tested without a model or the real app.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, Response, jsonify, render_template, request

REPO_ROOT = Path(__file__).resolve().parent.parent

MAX_CHARS = 50
MODEL_ID = "stub-model"
XSS_RESULT = "<b>bold</b><img src=x onerror=alert(1)>"
QUEUE_FULL_MESSAGE = "The translation queue is full; retry shortly."
PROXY_ERROR_PAGE = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
# A slow request gives up after this long even if the test never releases it.
SLOW_REQUEST_MAX_WAIT_S = 30


def create_app() -> Flask:
    """Build the stub app.

    ``app.config["CALLS"]`` records every text posted to /translate; input ``"slow"``
    blocks until ``app.config["RELEASE_SLOW"]`` (a ``threading.Event``) is set.
    """
    app = Flask(
        __name__,
        template_folder=str(REPO_ROOT / "templates"),
        static_folder=str(REPO_ROOT / "static"),
    )
    app.config["CALLS"] = []
    app.config["RELEASE_SLOW"] = threading.Event()

    @app.get("/")
    def index() -> str:
        return render_template("index.html", max_chars=MAX_CHARS, model_id=MODEL_ID, version="test")

    @app.post("/translate")
    def translate() -> Response | tuple[Response, int] | tuple[Response, int, dict[str, str]]:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            return _error(400, "bad_request", 'Send JSON like {"text": "..."}.')
        text = payload["text"]
        app.config["CALLS"].append(text)

        if text == "boom":
            return _error(503, "queue_full", QUEUE_FULL_MESSAGE, retry_after=1)
        if text == "html":
            return Response(PROXY_ERROR_PAGE, status=502, mimetype="text/html")
        if text == "slow":
            app.config["RELEASE_SLOW"].wait(SLOW_REQUEST_MAX_WAIT_S)
        if "<script>" in text:
            return jsonify(success=True, result=f"{XSS_RESULT} {text}")
        return jsonify(success=True, result="EN: " + text)

    return app


def _error(
    status: int, code: str, message: str, retry_after: int | None = None
) -> tuple[Response, int, dict[str, str]]:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    body = jsonify(success=False, error={"code": code, "message": message})
    return body, status, headers
