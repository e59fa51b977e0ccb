"""The process's lifecycle as the probes see it: serving, or draining before it stops.

gunicorn's worker (``web.http_worker``) calls :func:`begin_drain` when it gets SIGTERM:
from then on ``/readyz`` answers 503 so that load balancers take this process out of
rotation, while it keeps serving for ``drain_pause_s`` before it stops taking
connections. One flag per process: each gunicorn worker drains on its own signal.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)

_draining = threading.Event()


def begin_drain() -> None:
    """Mark this process as draining; idempotent. Called from a signal handler, so it
    only sets the flag: no logging (a handler's lock may be held by the code it
    interrupted); the caller logs once back on its event loop."""
    _draining.set()


def draining() -> bool:
    """True once :func:`begin_drain` was called in this process."""
    return _draining.is_set()


def end_drain() -> None:
    """Serve as before (for tests that drain an app in their own process)."""
    _draining.clear()
