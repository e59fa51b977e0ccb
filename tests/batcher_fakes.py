"""The fake engine and helpers shared by the micro-batcher tests (tests/test_batcher.py,
tests/test_batcher_workers.py).

The fake engine holds any call containing :data:`GATE` on an Event: holding the worker
inside an engine call is what makes queue states deterministic. The test modules import
the ``make_batcher`` fixture from here as ``make_batcher_fixture``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Sequence

import pytest

from serving.batcher import MicroBatcher

TIMEOUT = 10  # seconds; only reached when something is broken
GATE = "<gate>"


class EngineError(RuntimeError):
    pass


class FakeEngine:
    """Records each call; holds any call containing GATE until ``release`` is set."""

    def __init__(self, fail_options: Hashable = None, bad_count: bool = False) -> None:
        self.calls: list[tuple[list[str], Hashable]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_options = fail_options
        self.bad_count = bad_count
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str], options: Hashable) -> list[str]:
        with self._lock:
            self.calls.append((list(texts), options))
        if GATE in texts:
            self.entered.set()
            assert self.release.wait(TIMEOUT), "test never released the gate"
        if options is not None and options == self.fail_options:
            raise EngineError(f"engine failed on {list(texts)}")
        if self.bad_count:
            return [translate(t, options) for t in texts][1:]
        return [translate(t, options) for t in texts]

    def calls_without_gate(self) -> list[tuple[list[str], Hashable]]:
        with self._lock:
            return [(texts, opts) for texts, opts in self.calls if GATE not in texts]

    def seen(self) -> set[str]:
        with self._lock:
            return {t for texts, _ in self.calls for t in texts}


def translate(text: str, options: Hashable) -> str:
    return f"{options}:{text[::-1]}"


def later() -> float:
    return time.monotonic() + 60


@pytest.fixture(name="make_batcher")
def make_batcher_fixture():
    made: list[tuple[MicroBatcher, FakeEngine]] = []

    def factory(
        engine: FakeEngine,
        *,
        max_batch_size=16,
        max_wait_ms=5.0,
        queue_size=1000,
        start=True,
        workers=1,
        name="batcher",
    ) -> MicroBatcher:
        batcher = MicroBatcher(
            engine, max_batch_size, max_wait_ms, queue_size, name=name, workers=workers
        )
        if start:
            batcher.start()
        made.append((batcher, engine))
        return batcher

    yield factory
    for batcher, engine in made:
        engine.release.set()
        batcher.shutdown(timeout=TIMEOUT)
        assert not batcher.alive


def hold_worker(batcher: MicroBatcher, engine: FakeEngine, options: Hashable = "o"):
    """Put the worker inside an engine call and keep it there until engine.release."""
    [future] = batcher.submit([GATE], options, later())
    assert engine.entered.wait(TIMEOUT)
    assert batcher.depth == 0
    return future


def results(futures) -> list[str]:
    return [future.result(timeout=TIMEOUT) for future in futures]
