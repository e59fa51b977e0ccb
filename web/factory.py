"""The application factory: settings, logging, translators, metrics and blueprints."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import ROOT, Settings, load_settings
from serving import EngineFactory, TranslatorRegistry, load_engine
from web import api, deepl, files, libretranslate, openapi, pages, probes
from web.auth import register_access
from web.errors import register_error_handlers
from web.lifecycle import draining
from web.limits import register_limits
from web.logs import configure_logging, flush_logging
from web.metrics import Metrics
from web.requestlog import register_request_log
from web.security import register_security

__version__ = "0.1.0"

logger = logging.getLogger(__name__)

_registries: list[TranslatorRegistry] = []


def create_app(
    config_overrides: Mapping[str, Any] | None = None,
    *,
    engine_factory: EngineFactory = load_engine,
    registry: TranslatorRegistry | None = None,
) -> Flask:
    """Build the app. Lower-case keys of *config_overrides* are service settings
    (``config/settings.json``), upper-case keys Flask config (``TESTING`` ...).

    The translators load in the background with *engine_factory*, unless a started
    *registry* is given.
    """
    overrides = dict(config_overrides or {})
    flask_config = {k: overrides.pop(k) for k in list(overrides) if k.isupper()}
    settings: Settings = load_settings(overrides)
    log_file = configure_logging(
        settings.log_level,
        settings.log_path,
        settings.log_file_max_bytes,
        settings.log_file_backups,
    )
    # templates/ and static/ sit at the top of the project, beside app.py.
    app = Flask(__name__, root_path=str(ROOT))
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, VERSION=__version__)
    app.config.update(flask_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # UTF-8 out, emoji included
    metrics = Metrics()
    if registry is None:
        registry = TranslatorRegistry.from_settings(settings, engine_factory, metrics.observe_batch)
        registry.start(background=True)
    _registries.append(registry)
    served = registry
    metrics.watch(lambda: served.queue_depth, lambda: float(served.ready and not draining()))
    app.extensions["metrics"] = metrics
    app.extensions["settings"] = settings
    app.extensions["registry"] = registry
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(probes.bp)
    app.register_blueprint(libretranslate.bp)
    app.register_blueprint(deepl.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(files.bp)
    register_error_handlers(app)
    register_request_log(app, metrics)
    register_security(app)  # after the request log: refused requests are logged too
    keys = register_access(app, settings)  # after security: a key may be in the body
    register_limits(app, settings, keys)  # after the key check: limits count per client
    logger.info(
        "service %s starting: %s, logs in %s",
        __version__,
        ", ".join(f"{t.direction} from {t.model_path}" for t in registry),
        log_file,
    )
    return app


def shutdown() -> None:
    """Drain and stop every translator of this process (gunicorn calls it on SIGTERM)."""
    while _registries:
        _registries.pop().close()
    flush_logging()
