"""One log line and the metrics of every request, with its request id."""

from __future__ import annotations

import logging
import os
import random
import re
import time
from urllib.parse import quote

from flask import Flask, Response, g, request

from web.metrics import Metrics

logger = logging.getLogger(__name__)
request_log = logging.getLogger("translator.requests")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MAX_LOGGED_CHARS = 512
# Request ids need to be unique, not secret: uuid4 reads os.urandom, a system call that
# gives up the interpreter lock on every request.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)  # forked workers must not share a sequence


def new_request_id() -> str:
    """A random 32-hex-digit id, like ``uuid4().hex``."""
    return f"{_ids.getrandbits(128):032x}"


def safe_token(value: str, limit: int = _MAX_LOGGED_CHARS) -> str:
    """*value* as one space-free, printable-ASCII token: a client's CR, LF, space or
    control character cannot start a forged line or add a forged ``key=value`` field.

    Backslash escapes (``\\n``, ``\\x00``, ``\\u2028``, ``\\x20``), and the backslash
    itself doubled, so the escaping is reversible; cut at *limit* characters.
    """
    escaped = value.encode("unicode_escape").decode("ascii").replace(" ", "\\x20")
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."


def safe_path(path: str, limit: int = _MAX_LOGGED_CHARS) -> str:
    """A request path as logged: percent-encoded again (everything but letters, digits,
    ``/ - . _ ~``), so it reads like the URL the client sent and stays one token."""
    encoded = quote(path, safe="/", errors="surrogatepass")
    return encoded if len(encoded) <= limit else encoded[:limit] + "..."


def register_request_log(app: Flask, metrics: Metrics) -> None:
    """Time each request, echo or make its X-Request-ID, count it and log it."""

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _REQUEST_ID_RE.match(supplied) else new_request_id()

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        stats = g.get("stats")
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        # Label by route, not raw path: unknown paths must not grow the label set.
        route = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(route, str(response.status_code)).inc()
        if stats is not None:
            metrics.latency.observe(elapsed)
            metrics.sentences.inc(stats.sentences)
            metrics.cache_hits.inc(stats.cache_hits)
            metrics.fallbacks.inc(stats.fallbacks)
            metrics.repetition_retries.inc(stats.repetition_retries)
        request_log.info(
            "request_id=%s method=%s path=%s status=%d latency_ms=%.1f sentences=%d "
            "cache_hits=%d fallbacks=%d repetition_retries=%d",
            safe_token(g.get("request_id", "-")),
            safe_token(request.method),
            safe_path(request.path),
            response.status_code,
            elapsed * 1000,
            stats.sentences if stats else 0,
            stats.cache_hits if stats else 0,
            stats.fallbacks if stats else 0,
            stats.repetition_retries if stats else 0,
        )
        return response
