"""Rate limits and character quotas per client, with Flask-Limiter.

Two limits, both per client identity (``web/auth.py``: the API key, or the address when
keys are off), shared by every API route (the probes, ``/metrics`` and the page are
exempt):

- ``rate_limit`` (e.g. ``120/minute``; ``""`` = none): requests, every one counted;
- ``chars_quota`` (e.g. ``1000000/day``; ``""`` = none): characters of the texts sent to
  ``/translate`` and ``/v2/translate``, deducted only for answered (200) requests, so a
  refused request costs nothing. A request is refused when it does not fit in what is
  left of the window.

A key line's ``rate=`` and ``chars=`` override both for that key. The counters live in
``rate_limit_storage``: ``memory://`` for one process, ``redis://host:port`` shared by
replicas (fixed windows; a window starts with its first counted hit). If the storage
cannot be reached, requests are served and the failure is logged (failing open: an
outage of the counter store must not take the translator down).

Refusals come in the shape of the API asked, each with ``Retry-After`` (seconds until
the window resets): native 429 ``rate_limited`` / ``quota_exceeded``, LibreTranslate 429
``{"error"}``, DeepL 429 ``{"message"}`` for the rate and 456 for the quota (DeepL's
"quota exceeded").
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import Limit, Limiter
from flask_limiter.errors import RateLimitExceeded

from config import Settings
from serving.errors import QuotaExceeded, RateLimited, ServiceError
from web.auth import Client, KeyRing, is_api_request, refusal
from web.libretranslate import request_params

logger = logging.getLogger(__name__)

CHARS_SCOPE = "chars"
REQUESTS_SCOPE = "requests"
KEY_PREFIX = "zh-en-translator"
DEEPL_QUOTA_STATUS = 456
_TRANSLATE_PATHS = frozenset({"/translate", "/v2/translate"})


def _client() -> Client:
    client: Client | None = g.get("client")
    return client if client is not None else Client(f"addr:{request.remote_addr or '-'}")


def _client_id() -> str:
    return _client().id


def request_chars(params: dict[str, Any], path: str) -> int:
    """Characters a translate request asks for: ``text`` (native, DeepL) or ``q``."""
    field = "text" if path.startswith("/v2/") or "text" in params else "q"
    texts = params.get(field)
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list):
        return 0
    return sum(len(t) for t in texts if isinstance(t, str))


def _chars() -> int:
    """This request's cost against the characters quota (0 but for translating)."""
    if "request_chars" not in g:
        count = 0
        if request.path in _TRANSLATE_PATHS and request.method == "POST":
            try:
                count = request_chars(request_params(request), request.path)
            except ServiceError:
                count = 0  # the view refuses the body; nothing is translated
        g.request_chars = count
    chars: int = g.request_chars
    return chars


class Quotas:
    """The limit strings of the current request's client: its key's, else the settings'."""

    def __init__(self, settings: Settings) -> None:
        self.rate = settings.rate_limit
        self.chars = settings.chars_quota

    def rate_for(self) -> str:
        key = _client().key
        return key.rate if key and key.rate else self.rate

    def chars_for(self) -> str:
        key = _client().key
        return key.chars if key and key.chars else self.chars


def register_limits(app: Flask, settings: Settings, keys: KeyRing) -> Limiter | None:
    """Install Flask-Limiter's check (after the key check) and the 429/456 answers.

    Nothing is installed when no limit is configured anywhere. Register it after
    ``web.auth.register_access``: the limits count per the client identity it sets.
    """
    per_key = any(key.rate or key.chars for key in keys)
    if not (settings.rate_limit or settings.chars_quota or per_key):
        return None
    quotas = Quotas(settings)
    limiter = Limiter(
        _client_id,
        default_limits=[
            Limit(quotas.rate_for, scope=REQUESTS_SCOPE, shared=True),
            Limit(
                quotas.chars_for,
                scope=CHARS_SCOPE,
                shared=True,
                cost=_chars,
                deduct_when=lambda response: response.status_code == 200,
            ),
        ],
        storage_uri=settings.rate_limit_storage,
        strategy="fixed-window",
        key_prefix=KEY_PREFIX,
        headers_enabled=False,
        swallow_errors=True,
    )
    limiter.request_filter(lambda: request.method == "OPTIONS" or not is_api_request(request))
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter

    # Registered for the 429 code, so it wins over the blueprints' catch-all handlers.
    @app.errorhandler(RateLimitExceeded)
    def limit_refused(error: RateLimitExceeded) -> Response:
        return _refused(limiter, error)

    logger.info(
        "rate limits: %s per client, characters %s, in %s",
        settings.rate_limit or "none",
        settings.chars_quota or "none",
        settings.rate_limit_storage.split("@")[-1],  # no password in the log
    )
    return limiter


def _retry_after(limiter: Limiter) -> int:
    current = limiter.current_limit
    if current is None:
        return 1
    try:
        reset_at = current.window.reset_time
    except Exception:  # the storage went away meanwhile
        logger.exception("rate limit window unreadable")
        return 1
    return max(1, math.ceil(reset_at - time.time()))


def _refused(limiter: Limiter, error: RateLimitExceeded) -> Response:
    retry = _retry_after(limiter)
    limit = error.limit.limit
    who = "this API key" if _client().key else "this address"
    if error.limit.scope == CHARS_SCOPE:
        quota = QuotaExceeded(
            f"Character quota exceeded: {limit.amount} characters per "
            f"{_window(limit)} for {who}; this request has {_chars()}. "
            f"Retry in {retry} s.",
            retry_after=retry,
        )
        return refusal(quota, 429, DEEPL_QUOTA_STATUS)
    rate = RateLimited(
        f"Too many requests: {limit.amount} per {_window(limit)} for {who}. Retry in {retry} s.",
        retry_after=retry,
    )
    return refusal(rate, 429, 429)


def _window(limit: Any) -> str:
    multiples = int(limit.multiples)
    granularity = str(limit.GRANULARITY.name)
    return granularity if multiples == 1 else f"{multiples} {granularity}s"
