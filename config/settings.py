"""Service settings: defaults in config/settings.json, overrides from the environment.

Every key of the JSON file can be overridden by ``TRANSLATOR_<KEY>`` (upper case), e.g.
``TRANSLATOR_PORT=8080``. Values are checked once at startup; a bad one stops the service
with a message that names the key, instead of failing later under load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "config" / "settings.json"
ENV_PREFIX = "TRANSLATOR_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting is missing, unknown or out of range."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    model_dir: str
    # More model directories, each serving the direction its manifest names.
    extra_model_dirs: tuple[str, ...]
    precision: str
    max_chars: int
    max_body_bytes: int
    max_batch_items: int
    # Uploads to the file endpoints (POST /translate/file, /translate_file).
    max_file_bytes: int
    max_file_chars: int
    max_beam_size: int
    max_sentence_tokens: int
    default_beam_size: int
    max_batch_size: int
    max_wait_ms: float
    batch_workers: int
    # Engine worker processes (each its own interpreter and Engine); 0 decodes in-process.
    engine_processes: int
    queue_size: int
    request_timeout_s: float
    cache_size: int
    intra_op_threads: int
    inter_op_threads: int
    intra_op_spinning: bool
    http_threads: int
    blocked_words: tuple[str, ...]
    log_level: str
    log_dir: str
    log_file_max_bytes: int
    log_file_backups: int
    graceful_timeout_s: int
    # Safe to expose: fair queue shares, API keys, rate and character quotas, /metrics, CORS.
    client_queue_share: float
    api_keys_file: str
    api_keys: tuple[str, ...]
    rate_limit: str
    chars_quota: str
    rate_limit_storage: str
    metrics_token: str
    cors_origins: tuple[str, ...]
    trusted_proxy_hops: int
    # Seconds a SIGTERM'd process keeps serving, /readyz already 503, before intake stops.
    drain_pause_s: float

    @property
    def model_path(self) -> Path:
        return _resolve(self.model_dir)

    @property
    def model_paths(self) -> tuple[Path, ...]:
        """Every model directory to serve, the default direction's first."""
        return (self.model_path, *(_resolve(d) for d in self.extra_model_dirs))

    @property
    def log_path(self) -> Path:
        return _resolve(self.log_dir)

    @property
    def engine_threads(self) -> int:
        """ONNX Runtime intra-op threads of one decoding call.

        0 in the config shares the usable cores among the batch workers, which decode at
        the same time: two workers on two cores get one thread each, since a second
        thread per call then only adds the hand-offs between them.
        """
        if self.intra_op_threads:
            return self.intra_op_threads
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        return max(1, cores // self.batch_workers)


def _resolve(directory: str) -> Path:
    path = Path(directory)
    return path if path.is_absolute() else ROOT / path


# key -> (minimum, maximum) for numbers; every int/float key must be listed.
_RANGES: dict[str, tuple[float, float]] = {
    "port": (1, 65535),
    "max_chars": (1, 1_000_000),
    "max_body_bytes": (1024, 64 * 1024 * 1024),
    "max_batch_items": (1, 1000),
    "max_file_bytes": (1024, 256 * 1024 * 1024),
    "max_file_chars": (1, 10_000_000),
    "max_beam_size": (1, 16),
    "max_sentence_tokens": (8, 4096),
    "default_beam_size": (1, 16),
    "max_batch_size": (1, 256),
    "max_wait_ms": (0, 1000),
    "batch_workers": (1, 64),
    "engine_processes": (0, 64),
    "queue_size": (1, 1_000_000),
    "request_timeout_s": (0.1, 3600),
    "cache_size": (0, 10_000_000),
    "intra_op_threads": (0, 1024),
    "inter_op_threads": (1, 1024),
    "http_threads": (1, 1024),
    "log_file_max_bytes": (1024, 1 << 40),
    "log_file_backups": (0, 1000),
    "graceful_timeout_s": (1, 3600),
    "client_queue_share": (0.001, 1),
    "trusted_proxy_hops": (0, 16),
    "drain_pause_s": (0, 120),
}
# String settings where "" means "off" (every other string must be non-empty).
_OPTIONAL_STRINGS = {"api_keys_file", "rate_limit", "chars_quota", "metrics_token"}
_CHOICES = {"precision": ("int8", "fp32"), "log_level": LOG_LEVELS}


def _convert(key: str, kind: Any, value: Any) -> Any:
    """Coerce *value* (from JSON, Python or an env string) to the field's type."""
    from_env = isinstance(value, str) and kind is not str
    if kind is int:
        if isinstance(value, bool) or (not from_env and not isinstance(value, int)):
            raise SettingsError(f"setting {key!r} must be an integer, got {value!r}")
        try:
            return int(value)
        except ValueError:
            raise SettingsError(f"setting {key!r} must be an integer, got {value!r}") from None
    if kind is float:
        if isinstance(value, bool) or (not from_env and not isinstance(value, int | float)):
            raise SettingsError(f"setting {key!r} must be a number, got {value!r}")
        try:
            return float(value)
        except ValueError:
            raise SettingsError(f"setting {key!r} must be a number, got {value!r}") from None
    if kind is bool:
        return _convert_bool(key, value)
    if kind is str:
        return _convert_str(key, value)
    # tuple[str, ...]: a JSON list, or a comma-separated string from the environment
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip().startswith("[") else value.split(",")
        except json.JSONDecodeError as exc:
            raise SettingsError(f"setting {key!r} is not a valid JSON list: {exc}") from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"setting {key!r} must be a list of strings, got {value!r}")
    return tuple(v.strip() for v in value if v.strip())


_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _convert_str(key: str, value: Any) -> str:
    if key in _OPTIONAL_STRINGS and isinstance(value, str) and not value.strip():
        return ""
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"setting {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _convert_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    raise SettingsError(f"setting {key!r} must be true or false, got {value!r}")


def _check(values: dict[str, Any]) -> None:
    for key, (low, high) in _RANGES.items():
        if not low <= values[key] <= high:
            raise SettingsError(
                f"setting {key!r} must be between {low:g} and {high:g}, got {values[key]!r}"
            )
    for key, choices in _CHOICES.items():
        if values[key] not in choices:
            raise SettingsError(
                f"setting {key!r} must be one of {', '.join(choices)}, got {values[key]!r}"
            )
    if values["default_beam_size"] > values["max_beam_size"]:
        raise SettingsError("setting 'default_beam_size' must not exceed 'max_beam_size'")


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    path: Path = DEFAULT_FILE,
) -> Settings:
    """Merge the JSON defaults, ``TRANSLATOR_*`` variables and *overrides*, then validate."""
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from None
    kinds = {f.name: str(f.type) for f in fields(Settings)}
    types = {"int": int, "float": float, "bool": bool, "str": str, "tuple[str, ...]": tuple}
    unknown = sorted(set(raw) - set(kinds))
    if unknown:
        raise SettingsError(f"unknown setting(s) in {path}: {', '.join(unknown)}")
    environ = os.environ if environ is None else environ
    for key in kinds:
        env_value = environ.get(ENV_PREFIX + key.upper())
        if env_value is not None:
            raw[key] = env_value
    for key, value in (overrides or {}).items():
        if key not in kinds:
            raise SettingsError(f"unknown setting {key!r}")
        raw[key] = value
    missing = sorted(set(kinds) - set(raw))
    if missing:
        raise SettingsError(f"missing setting(s): {', '.join(missing)}")
    values = {key: _convert(key, types[kinds[key]], raw[key]) for key in kinds}
    values["log_level"] = values["log_level"].upper()
    values["precision"] = values["precision"].lower()
    _check(values)
    return Settings(**values)
