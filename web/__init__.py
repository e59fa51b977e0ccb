"""The HTTP layer: app factory, blueprints, request parsing, metrics, probes, logging.

The names below come from ``web.factory`` on first use, not with the package: gunicorn's
arbiter imports ``web.http_worker`` before it forks, and the app (Flask, the pipeline,
per-process state such as ``web.process``'s pid and ``web.requestlog``'s id generator)
must be loaded in each worker, not once in the arbiter.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from web.factory import __version__, create_app, shutdown

__all__ = ["__version__", "create_app", "shutdown"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from web import factory

        return getattr(factory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
