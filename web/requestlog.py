"""One log line and the metrics of every request, with its request id."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from web.metrics import Metrics

request_log = logging.getLogger("translator.requests")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def register_request_log(app: Flask, metrics: Metrics) -> None:
    """Time each request, echo or make its X-Request-ID, count it and log it."""

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _REQUEST_ID_RE.match(supplied) else uuid.uuid4().hex

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
            g.get("request_id", "-"),
            request.method,
            request.path,
            response.status_code,
            elapsed * 1000,
            stats.sentences if stats else 0,
            stats.cache_hits if stats else 0,
            stats.fallbacks if stats else 0,
            stats.repetition_retries if stats else 0,
        )
        return response
