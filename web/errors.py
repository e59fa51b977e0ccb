"""Render every error, ours or Flask's, into the one JSON envelope."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from serving.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UnsupportedMediaType,
)
from web.requestlog import safe_path, safe_token

logger = logging.getLogger(__name__)


class RequestTimeout(ServiceError):
    """The client stopped sending its request body (the server's read timed out)."""

    status, code = 408, "request_timeout"


_HTTP_ERRORS: dict[int, type[ServiceError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    408: RequestTimeout,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def error_response(error: ServiceError) -> Response:
    """``{"success": false, "error": {"code", "message"}}`` with the error's status."""
    response = jsonify(success=False, error={"code": error.code, "message": error.message})
    response.status_code = error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the handlers for ServiceError, HTTP errors and anything unexpected."""

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        if error.status >= 500:
            logger.warning("%s: %s", error.code, error.message)
        return error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        kind = _HTTP_ERRORS.get(error.code or 500, ServiceError)
        path = safe_path(request.path, 200)  # as sent, percent-encoded, cut
        messages = {
            404: f"No route for {path}; the API is POST /translate.",
            405: f"{safe_token(request.method, 40)} is not allowed on {path}.",
            413: f"The request body exceeds {app.config['MAX_CONTENT_LENGTH']} bytes.",
        }
        response = error_response(kind(messages.get(error.code or 0, error.description or "")))
        valid = getattr(error, "valid_methods", None)
        if error.code == 405 and valid:
            response.headers["Allow"] = ", ".join(valid)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception(
            "unhandled error on %s %s", safe_token(request.method), safe_path(request.path)
        )
        return error_response(ServiceError("An internal error occurred; it has been logged."))
