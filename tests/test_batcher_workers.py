"""The micro-batcher's workers: shutdown and draining, expired deadlines and cancelled
futures skipped, and several workers sharing one queue.

As in tests/test_batcher.py, the fake engine (tests/batcher_fakes.py) holds the worker
inside an engine call on an Event, which keeps the queue's states deterministic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Sequence

import pytest
from batcher_fakes import (
    TIMEOUT,
    FakeEngine,
    hold_worker,
    later,
    make_batcher_fixture,  # noqa: F401 - the make_batcher fixture
    results,
    translate,
)
from helpers import wait_until

from serving.batcher import MicroBatcher
from serving.errors import DeadlineExceeded, NotReady


def test_shutdown_drains_queued_work_and_joins(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=3)
    gate = hold_worker(batcher, engine)
    texts = [f"q{n}" for n in range(10)]
    futures = batcher.submit(texts, "o", later())
    batcher.shutdown(wait=False)
    with pytest.raises(NotReady) as info:
        batcher.submit(["refused"], "o", later())
    assert info.value.status == 503
    engine.release.set()
    batcher.shutdown(wait=True, timeout=TIMEOUT)
    assert not batcher.alive
    assert gate.done()
    assert all(future.done() for future in futures)
    assert results(futures) == [translate(t, "o") for t in texts]
    assert "refused" not in engine.seen()
    with pytest.raises(NotReady):
        batcher.submit(["still refused"], "o", later())


def test_shutdown_of_an_idle_batcher(make_batcher):
    batcher = make_batcher(FakeEngine())
    batcher.shutdown(timeout=TIMEOUT)
    assert not batcher.alive
    batcher.shutdown(timeout=TIMEOUT)  # a second call is harmless


def test_submit_before_start_is_not_ready(make_batcher):
    batcher = make_batcher(FakeEngine(), start=False)
    with pytest.raises(NotReady):
        batcher.submit(["a"], "o", later())


def test_expired_deadline_fails_without_reaching_the_engine(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine)
    hold_worker(batcher, engine)
    expired = batcher.submit(["late1", "late2"], "o", time.monotonic() - 1)
    alive = batcher.submit(["ontime"], "o", later())
    engine.release.set()
    for future in expired:
        error = future.exception(timeout=TIMEOUT)
        assert isinstance(error, DeadlineExceeded)
        assert error.status == 504
    assert results(alive) == [translate("ontime", "o")]
    assert not {"late1", "late2"} & engine.seen()


def test_cancelled_futures_are_skipped(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine)
    hold_worker(batcher, engine)
    a, b, c = batcher.submit(["a", "b", "c"], "o", later())
    assert b.cancel()
    engine.release.set()
    assert results([a, c]) == [translate("a", "o"), translate("c", "o")]
    assert b.cancelled()
    assert "b" not in engine.seen()
    assert engine.calls_without_gate() == [(["a", "c"], "o")]


def test_all_cancelled_means_no_engine_call(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine)
    hold_worker(batcher, engine)
    futures = batcher.submit(["a", "b"], "o", later())
    assert all(future.cancel() for future in futures)
    marker = batcher.submit(["m"], "other", later())  # completes after the cancelled ones
    engine.release.set()
    assert results(marker) == [translate("m", "other")]
    assert engine.calls_without_gate() == [(["m"], "other")]


class MeetingEngine(FakeEngine):
    """Every call waits at a barrier: it returns only once *parties* calls are in flight."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=TIMEOUT)

    def __call__(self, texts: Sequence[str], options: Hashable) -> list[str]:
        self.barrier.wait()
        return super().__call__(texts, options)


def test_two_workers_run_two_batches_at_once(make_batcher):
    engine = MeetingEngine(2)  # with one worker the barrier breaks and both batches fail
    batcher = make_batcher(engine, max_batch_size=1, workers=2)
    first = batcher.submit(["a"], "o", later())
    second = batcher.submit(["b"], "o", later())
    assert results(first + second) == [translate("a", "o"), translate("b", "o")]
    assert sorted(engine.calls) == [(["a"], "o"), (["b"], "o")]
    assert batcher.batches == 2


def test_shutdown_with_several_workers_drains_the_queue_and_joins_them_all(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=4, workers=3, name="drain-test")
    gate = hold_worker(batcher, engine)
    texts = [f"w{n}" for n in range(40)]
    futures = batcher.submit(texts, "o", later())
    batcher.shutdown(wait=False)
    engine.release.set()
    batcher.shutdown(wait=True, timeout=TIMEOUT)
    assert not batcher.alive
    assert gate.done()
    assert results(futures) == [translate(t, "o") for t in texts]
    assert batcher.items == len(texts) + 1
    assert not [t for t in threading.enumerate() if t.name.startswith("drain-test-")]


def test_at_least_one_worker_is_required():
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        MicroBatcher(FakeEngine(), 16, 5.0, 100, workers=0)


def test_a_lone_request_does_not_wait_for_the_window(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, max_wait_ms=600_000, workers=2)  # a 10-minute window
    assert results(batcher.submit(["alone"], "o", later())) == [translate("alone", "o")]


def test_while_a_batch_runs_the_next_one_waits_to_fill_up(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=3, max_wait_ms=600_000, workers=2)
    hold_worker(batcher, engine)
    futures = []
    for text in ("x", "y", "z"):
        futures += batcher.submit([text], "o", later())
        # The free worker has taken it: without the window it would now decode it alone.
        wait_until(lambda: batcher.depth == 0, what=f"{text!r} taken off the queue")
    assert results(futures) == [translate(t, "o") for t in ("x", "y", "z")]
    assert engine.calls_without_gate() == [(["x", "y", "z"], "o")]


def test_idle_workers_do_not_split_one_request(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, workers=2)
    texts = [f"s{'x' * n}" for n in range(8)]
    assert results(batcher.submit(texts, "o", later())) == [translate(t, "o") for t in texts]
    assert engine.calls == [(texts, "o")]
