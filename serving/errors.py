"""Errors that reach the client: each carries its HTTP status and a stable error code.

Views never build error responses by hand; they raise one of these (or let one rise
from the translator) and ``web/errors.py`` renders it into the JSON envelope
``{"success": false, "error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: an error with a client-facing message, code and status."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class BadRequest(ServiceError):
    status, code = 400, "bad_request"


class UnsupportedDirection(BadRequest):
    """A request named a language pair that no loaded model serves."""

    code = "unsupported_direction"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class MethodNotAllowed(ServiceError):
    status, code = 405, "method_not_allowed"


class PayloadTooLarge(ServiceError):
    status, code = 413, "payload_too_large"


class TextTooLong(ServiceError):
    status, code = 413, "text_too_long"


class TooManySentences(PayloadTooLarge):
    """A request needs more sentences than one client may queue (the sentence budget)."""

    code = "too_many_sentences"


class UnsupportedMediaType(ServiceError):
    status, code = 415, "unsupported_media_type"


class BlockedContent(ServiceError):
    status, code = 422, "blocked_content"


class Unauthorized(ServiceError):
    """No API key, or one this service does not know (when keys are on)."""

    status, code = 401, "unauthorized"


class QueueFull(ServiceError):
    status, code = 503, "queue_full"


class ClientQueueFull(QueueFull):
    """This client holds its whole share of the queue; others may still be admitted.

    A QueueFull, so the compatible APIs answer it as they answer a full queue (429),
    but the client's own fault: 429, not 503.
    """

    status, code = 429, "client_queue_full"


class RateLimited(ServiceError):
    """Over the request rate of this key (or address)."""

    status, code = 429, "rate_limited"


class QuotaExceeded(RateLimited):
    """Over the characters quota of this key (or address)."""

    code = "quota_exceeded"


class NotReady(ServiceError):
    status, code = 503, "not_ready"


class DeadlineExceeded(ServiceError):
    status, code = 504, "deadline_exceeded"


class TranslationFailed(ServiceError):
    """The engine failed on this request's batch; the worker keeps serving others."""

    status, code = 500, "translation_failed"
