"""Who may call the API: optional API keys, each request's client, /metrics' token, CORS.

API keys are off until ``api_keys_file`` (a path) or ``api_keys`` (``TRANSLATOR_API_KEYS``)
names some. Keys are stored hashed, one per line::

    # sha256-hex of the key                                           name   quotas
    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  alice  rate=60/minute

(``zh-en-translator keys`` prints the line for a key, or makes a new key). ``rate`` and
``chars`` override the ``rate_limit`` and ``chars_quota`` settings for that key
(``web/limits.py``). With keys on, every API route (native and LibreTranslate
``/translate``, ``/translate/...``, ``/detect``, ``/translate_file``, ``/suggest``,
DeepL ``/v2/*``) needs a valid key, presented as ``Authorization: Bearer <key>``,
``Authorization: DeepL-Auth-Key <key>``, ``X-API-Key: <key>``, or an ``api_key`` (or
DeepL's ``auth_key``) in the query string, the form or the JSON body. Refused: 401 with
the native envelope, 403 ``{"error"}`` for LibreTranslate, 403 ``{"message"}`` for DeepL.
The probes, ``/metrics`` (see ``metrics_token``), the page, ``/languages``,
``/frontend/settings`` and ``/openapi.json`` need no key.

Every request gets a client identity (:class:`Client`): its key's name when keys are on,
else its address (``trusted_proxy_hops`` reads it from ``X-Forwarded-For``). The batcher
shares its queue fairly among these identities (``serving.batcher.current_client``) and
the rate limits count per identity.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable, Iterator
from contextvars import Token
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, g, jsonify, request
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ROOT, Settings, SettingsError
from serving.batcher import current_client
from serving.errors import ServiceError, Unauthorized
from web.errors import error_response
from web.libretranslate import wants_libretranslate
from web.parsing import decode_json

logger = logging.getLogger(__name__)

_DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
_QUOTA_FIELDS = ("rate", "chars")
_API_PATHS = frozenset({"/translate", "/detect", "/translate_file", "/suggest"})
_API_PREFIXES = ("/translate/", "/v2/")
_LIBRE_PATHS = frozenset({"/detect", "/translate_file", "/suggest"})
_KEY_FIELDS = ("api_key", "auth_key")  # LibreTranslate's, DeepL's legacy one
_HEADER_SCHEMES = ("bearer", "deepl-auth-key")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-Request-ID, Cache-Control"
CORS_EXPOSE_HEADERS = "Retry-After, X-Request-ID"


@dataclass(frozen=True)
class ApiKey:
    digest: str  # SHA-256 hex of the key
    name: str
    rate: str = ""  # "": the rate_limit setting
    chars: str = ""  # "": the chars_quota setting


@dataclass(frozen=True)
class Client:
    """Whose request this is: the fairness and rate-limit identity, and its key."""

    id: str
    key: ApiKey | None = None


def hash_key(key: str) -> str:
    """The SHA-256 hex digest under which *key* is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_key_line(line: str, where: str) -> ApiKey | None:
    """One key line (``digest [name] [rate=...] [chars=...]``); None for blanks and
    comments; SettingsError, naming *where*, for anything else."""
    fields = line.split("#", 1)[0].split()
    if not fields:
        return None
    digest = fields[0].lower()
    if not _DIGEST_RE.match(digest):
        raise SettingsError(
            f"{where}: an API key entry starts with the key's SHA-256 hex digest (64 hex "
            "digits; `zh-en-translator keys KEY` prints it), not the key itself"
        )
    name, quotas = "", dict.fromkeys(_QUOTA_FIELDS, "")
    for item in fields[1:]:
        field, sep, value = item.partition("=")
        if not sep:
            if name:
                raise SettingsError(f"{where}: more than one name ({name!r}, {item!r})")
            name = item
            continue
        if field not in quotas:
            raise SettingsError(f"{where}: unknown field {field!r}; known: rate, chars")
        try:
            parse_many(value)
        except ValueError:
            raise SettingsError(
                f"{where}: {field}={value!r} is not a limit such as 60/minute"
            ) from None
        quotas[field] = value
    return ApiKey(digest, name or digest[:12], quotas["rate"], quotas["chars"])


class KeyRing:
    """The accepted keys, by digest; ``enabled`` once a file or an entry is configured."""

    def __init__(self, keys: Iterable[ApiKey], enabled: bool) -> None:
        self._keys = {key.digest: key for key in keys}
        self.enabled = enabled

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        keys: list[ApiKey] = []
        if settings.api_keys_file:
            path = Path(settings.api_keys_file)
            path = path if path.is_absolute() else ROOT / path
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise SettingsError(f"cannot read api_keys_file {path}: {exc}") from None
            parsed = (parse_key_line(line, f"{path}:{n}") for n, line in enumerate(lines, 1))
            keys += [key for key in parsed if key is not None]
        for n, entry in enumerate(settings.api_keys, 1):
            key = parse_key_line(entry, f"api_keys entry {n}")
            keys += [key] if key is not None else []
        enabled = bool(settings.api_keys_file or settings.api_keys)
        if enabled and not keys:
            logger.warning("API keys are on but none is configured: every API call is refused")
        return cls(keys, enabled)

    def __iter__(self) -> Iterator[ApiKey]:
        return iter(self._keys.values())

    def find(self, presented: str) -> ApiKey | None:
        return self._keys.get(hash_key(presented))


# --- the request ------------------------------------------------------------------------


def is_api_request(req: Request) -> bool:
    """Whether *req* is for an API route (keys, rate limits); probes and pages are not."""
    return req.path in _API_PATHS or req.path.startswith(_API_PREFIXES)


def api_style(req: Request) -> str:
    """Which API's error shape *req* expects: ``deepl``, ``libre`` or ``native``."""
    if req.path.startswith("/v2/"):
        return "deepl"
    if req.path in _LIBRE_PATHS or (req.path == "/translate" and wants_libretranslate(req)):
        return "libre"
    return "native"


def refusal(error: ServiceError, libre_status: int, deepl_status: int) -> Response:
    """*error* in the shape of the API *request* is for, with its Retry-After."""
    style = api_style(request)
    if style == "native":
        return error_response(error)
    if style == "libre":
        response = jsonify(error=error.message)
        response.status_code = libre_status
    else:
        response = jsonify(message=error.message)
        response.status_code = deepl_status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def presented_key(req: Request) -> str | None:
    """The key a request presents: a header, the query string, the form or JSON body."""
    scheme, _, value = req.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() in _HEADER_SCHEMES and value.strip():
        return value.strip()
    if req.headers.get("X-API-Key", "").strip():
        return req.headers["X-API-Key"].strip()
    found = next((req.args[f] for f in _KEY_FIELDS if req.args.get(f)), None)
    if found is None and req.mimetype in _FORMS:
        found = next((req.form[f] for f in _KEY_FIELDS if req.form.get(f)), None)
    if found is None and req.mimetype == "application/json":
        found = _json_key(req.get_data())
    return found


def _json_key(body: bytes) -> str | None:
    if not any(field.encode() in body for field in _KEY_FIELDS):
        return None  # cheap: most bodies never parse twice
    try:
        data = decode_json(body)
    except ServiceError:
        return None  # the view names what is wrong with the body
    if not isinstance(data, dict):
        return None
    found = next((data[f] for f in _KEY_FIELDS if data.get(f)), None)
    return found if isinstance(found, str) else None


def _unauthorized(presented: str | None) -> Response:
    if presented is None:
        message = (
            "An API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
            " (LibreTranslate: api_key; DeepL: 'Authorization: DeepL-Auth-Key <key>')."
        )
    else:
        message = "The API key is not valid."
    response = refusal(Unauthorized(message), 403, 403)
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="zh-en-translator"'
    return response


def metrics_refusal(token: str) -> Response | None:
    """None if *token* is empty or sent as ``Authorization: Bearer``; else a 401."""
    if not token:
        return None
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode("utf-8"), token.encode("utf-8")
    ):
        return None
    response = error_response(Unauthorized("/metrics needs 'Authorization: Bearer <token>'."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


# --- the hooks --------------------------------------------------------------------------


def register_access(app: Flask, settings: Settings) -> KeyRing:
    """Install the proxy fix, the key check and client identity, and CORS.

    Register it after ``register_security``: the key may be in the body it reads.
    """
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    ring = KeyRing.from_settings(settings)
    app.extensions["api_keys"] = ring

    @app.before_request
    def identify_client() -> Response | None:
        key: ApiKey | None = None
        checked = ring.enabled and request.method != "OPTIONS" and is_api_request(request)
        if checked:
            presented = presented_key(request)
            key = ring.find(presented) if presented else None
            if key is None:
                return _unauthorized(presented)
        address = f"addr:{request.remote_addr or '-'}"
        g.client = Client(f"key:{key.name}", key) if key else Client(address)
        g.client_token = current_client.set(g.client.id)
        return None

    @app.teardown_request
    def forget_client(_: BaseException | None = None) -> None:
        token: Token[Any] | None = g.pop("client_token", None)
        if token is not None:
            try:
                current_client.reset(token)
            except ValueError:  # set in another context: forget it anyway
                current_client.set(None)

    register_cors(app, settings.cors_origins)
    logger.info(
        "API keys %s; CORS %s",
        f"on ({len(list(ring))} keys)" if ring.enabled else "off",
        ", ".join(settings.cors_origins) or "off",
    )
    return ring


def register_cors(app: Flask, origins: Iterable[str]) -> None:
    """``Access-Control-Allow-Origin`` for allowed origins only (``*``: any); none at all
    with an empty list. Preflights (OPTIONS) get the methods and headers too."""
    allowed = {origin.rstrip("/") for origin in origins}
    if not allowed:
        return
    anyone = "*" in allowed

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if not origin:
            return response
        if not anyone:
            response.vary.add("Origin")
            if origin.rstrip("/") not in allowed:
                return response
        response.headers["Access-Control-Allow-Origin"] = "*" if anyone else origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        return response
