"""Per-request hardening: security headers, a bounded body read, OPTIONS and closing.

- Every response carries :data:`SECURITY_HEADERS` (a view may set its own values first).
  The page needs nothing but its own origin: ``templates/index.html`` has no inline
  script, style or event handler, and ``static/translate.js``, ``direction.js`` and
  ``controls.js`` touch the DOM through ``textContent`` and ``setAttribute`` only, so
  ``default-src 'self'`` holds. The policy adds ``base-uri 'none'`` and ``form-action
  'self'``, which ``default-src`` does not cover.
- Before a view runs, the body of a POST/PUT/PATCH to a known route is read once, bounded
  by ``max_body_bytes`` (``web/parsing.read_body``) and with a JSON charset other than
  UTF-8 refused; views then get it from the request's cache.
- ``OPTIONS`` answers Flask's automatic response (the ``Allow`` header) as 204 No Content.
- An error answered while the body was still unread (413, 408, 404/405 with a body, a
  415 charset) says ``Connection: close``: the rest of the body is not worth reading,
  and the connection is not safe to reuse. gunicorn's worker (``web.http_worker``) honours it.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from web.parsing import check_content_type, read_body

logger = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _has_body() -> bool:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return bool(request.content_length) or chunked


def _as_no_content(response: Response) -> None:
    """Flask's automatic OPTIONS answer (200, empty, ``Allow``) as a 204."""
    if response.status_code == 200 and not response.is_streamed and not response.get_data():
        response.status_code = 204
        response.headers.pop("Content-Type", None)
        response.headers.pop("Content-Length", None)


def register_security(app: Flask) -> None:
    """Install the body guard (before each view) and the response hardening (after).

    Register it after the request log, so a request refused here is still timed,
    given its request id and logged.
    """

    @app.before_request
    def read_request_body() -> None:
        g.body_read = False
        if request.method not in _BODY_METHODS or request.url_rule is None:
            return  # a 404/405 answers without reading (and then closes)
        check_content_type(request.mimetype, request.mimetype_params)
        # A view's blueprint may raise its own limit first (web/files.py: uploads).
        read_body(request, request.max_content_length or app.config["MAX_CONTENT_LENGTH"])
        g.body_read = True

    @app.after_request
    def harden_response(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.method == "OPTIONS":
            _as_no_content(response)
        if response.status_code >= 400 and _has_body() and not g.get("body_read", False):
            response.headers["Connection"] = "close"
        return response
