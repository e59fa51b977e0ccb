"""The HTTP layer: app factory, blueprints, request parsing, metrics, probes, logging."""

from web.factory import __version__, create_app, shutdown

__all__ = ["__version__", "create_app", "shutdown"]
