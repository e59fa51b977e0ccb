"""The Flask application: ``create_app`` wires settings, logging, translator and routes.

Run it with ``make serve`` (gunicorn, see gunicorn.conf.py) or, for development,
``python app.py``.
"""

from __future__ import annotations

import atexit
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from routes import api, health, pages
from translator import Translator
from utils.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UnsupportedMediaType,
)
from utils.logs import configure_logging, flush_logging
from utils.metrics import Metrics
from utils.settings import Settings, load_settings

__version__ = "0.1.0"

logger = logging.getLogger(__name__)
request_log = logging.getLogger("translator.requests")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HTTP_ERRORS: dict[int, type[ServiceError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}
_translators: list[Translator] = []


def _error_response(error: ServiceError) -> Response:
    response = jsonify(success=False, error={"code": error.code, "message": error.message})
    response.status_code = error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        if error.status >= 500:
            logger.warning("%s: %s", error.code, error.message)
        return _error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        kind = _HTTP_ERRORS.get(error.code or 500, ServiceError)
        messages = {
            404: f"No route for {request.path}; the API is POST /translate.",
            405: f"{request.method} is not allowed on {request.path}.",
            413: f"The request body exceeds {app.config['MAX_CONTENT_LENGTH']} bytes.",
        }
        response = _error_response(kind(messages.get(error.code or 0, error.description or "")))
        if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(ServiceError("An internal error occurred; it has been logged."))


def _register_request_log(app: Flask, metrics: Metrics) -> None:
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
        request_log.info(
            "request_id=%s method=%s path=%s status=%d latency_ms=%.1f sentences=%d cache_hits=%d",
            g.get("request_id", "-"),
            request.method,
            request.path,
            response.status_code,
            elapsed * 1000,
            stats.sentences if stats else 0,
            stats.cache_hits if stats else 0,
        )
        return response


def create_app(
    config_overrides: Mapping[str, Any] | None = None, translator: Translator | None = None
) -> Flask:
    """Build the app. Lower-case keys of *config_overrides* are service settings
    (``config/settings.json``), upper-case keys Flask config (``TESTING`` ...)."""
    overrides = dict(config_overrides or {})
    flask_config = {k: overrides.pop(k) for k in list(overrides) if k.isupper()}
    settings: Settings = load_settings(overrides)
    log_file = configure_logging(
        settings.log_level,
        settings.log_path,
        settings.log_file_max_bytes,
        settings.log_file_backups,
    )
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, VERSION=__version__)
    app.config.update(flask_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # UTF-8 out, emoji included
    if translator is None:
        translator = Translator(settings)
        translator.start(background=True)
    _translators.append(translator)
    metrics = Metrics()
    metrics.watch(
        lambda: translator.batcher.depth if translator.batcher else 0,
        lambda: float(translator.ready),
    )
    translator.on_batch = metrics.observe_batch
    app.extensions["metrics"] = metrics
    app.extensions["settings"] = settings
    app.extensions["translator"] = translator
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    _register_error_handlers(app)
    _register_request_log(app, metrics)
    logger.info(
        "service %s starting: model %s, logs in %s", __version__, settings.model_path, log_file
    )
    return app


@atexit.register
def shutdown() -> None:
    """Drain and stop every translator of this process (gunicorn calls it on SIGTERM)."""
    while _translators:
        _translators.pop().close()
    flush_logging()


if __name__ == "__main__":
    development = create_app()
    dev_settings: Settings = development.extensions["settings"]
    development.run(host=dev_settings.host, port=dev_settings.port, threaded=True)
