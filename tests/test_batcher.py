"""The micro-batcher, driven by a fake engine whose first batch can be held on an Event.

Holding the worker inside an engine call is what makes queue states deterministic: while
it waits, everything submitted stays queued, and once released the worker finds it all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import wait_until

from serving.batcher import MicroBatcher
from serving.errors import DeadlineExceeded, NotReady, QueueFull, TooManySentences

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


@pytest.fixture
def make_batcher():
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


def test_results_come_back_in_submission_order(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine)
    texts = ["ccc", "a", "bbbbb", "dd"]
    assert results(batcher.submit(texts, "o", later())) == [translate(t, "o") for t in texts]


def test_concurrent_submitters_get_their_own_results_and_items_are_batched(make_batcher):
    threads, per_thread, max_batch = 8, 20, 16
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=max_batch)
    gate = hold_worker(batcher, engine)
    submitted = threading.Barrier(threads + 1)

    def client(index: int) -> tuple[list[str], list[str]]:
        texts = [f"{index}-{'x' * ((index + j) % 7)}-{j}" for j in range(per_thread)]
        futures = batcher.submit(texts, "o", later())
        submitted.wait(TIMEOUT)
        return texts, results(futures)

    with ThreadPoolExecutor(threads) as pool:
        jobs = [pool.submit(client, n) for n in range(threads)]
        submitted.wait(TIMEOUT)  # every client has queued everything
        assert batcher.depth == threads * per_thread
        engine.release.set()
        for job in jobs:
            texts, got = job.result(timeout=TIMEOUT)
            assert got == [translate(t, "o") for t in texts]
    assert gate.result(timeout=TIMEOUT) == translate(GATE, "o")

    calls = engine.calls_without_gate()
    # All 160 items were waiting when the worker resumed: full batches, no more calls.
    assert len(calls) == threads * per_thread // max_batch
    assert all(len(texts) == max_batch for texts, _ in calls)
    assert sorted(t for texts, _ in calls for t in texts) == sorted(
        f"{i}-{'x' * ((i + j) % 7)}-{j}" for i in range(threads) for j in range(per_thread)
    )
    assert batcher.items == threads * per_thread + 1
    assert batcher.batches == len(calls) + 1


def test_concurrent_submitters_without_holding_the_worker(make_batcher):
    threads, per_thread = 8, 20
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=5, max_wait_ms=1)
    start = threading.Barrier(threads)

    def client(index: int) -> None:
        start.wait(TIMEOUT)
        for j in range(0, per_thread, 4):  # several small requests per thread
            texts = [f"{index}/{j + k}" for k in range(4)]
            assert results(batcher.submit(texts, "o", later())) == [
                translate(t, "o") for t in texts
            ]

    with ThreadPoolExecutor(threads) as pool:
        for job in [pool.submit(client, n) for n in range(threads)]:
            job.result(timeout=TIMEOUT)
    calls = engine.calls_without_gate()
    assert sum(len(texts) for texts, _ in calls) == threads * per_thread
    assert max(len(texts) for texts, _ in calls) <= 5


@pytest.mark.parametrize(("max_batch_size", "items", "sizes"), [(4, 10, [4, 4, 2]), (3, 3, [3])])
def test_batch_size_never_exceeds_the_maximum(make_batcher, max_batch_size, items, sizes):
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=max_batch_size)
    hold_worker(batcher, engine)
    futures = batcher.submit([f"item{n}" for n in range(items)], "o", later())
    engine.release.set()
    assert results(futures) == [translate(f"item{n}", "o") for n in range(items)]
    assert [len(texts) for texts, _ in engine.calls_without_gate()] == sizes


def test_items_in_one_engine_call_are_sorted_by_length(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine)
    hold_worker(batcher, engine)
    first = batcher.submit(["ccc", "a", "bbbbbb"], "o", later())
    second = batcher.submit(["dd", "eeeee"], "o", later())
    engine.release.set()
    assert results(first) == [translate(t, "o") for t in ["ccc", "a", "bbbbbb"]]
    assert results(second) == [translate(t, "o") for t in ["dd", "eeeee"]]
    assert engine.calls_without_gate() == [(["a", "dd", "ccc", "eeeee", "bbbbbb"], "o")]


def test_items_are_grouped_by_options(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine)
    hold_worker(batcher, engine)
    a = batcher.submit(["a1", "a22"], "A", later())
    b = batcher.submit(["b1"], "B", later())
    a2 = batcher.submit(["a3"], "A", later())
    engine.release.set()
    assert results(a) == [translate("a1", "A"), translate("a22", "A")]
    assert results(b) == [translate("b1", "B")]
    assert results(a2) == [translate("a3", "A")]
    calls = engine.calls_without_gate()
    assert len(calls) == 2
    assert sorted(calls, key=lambda call: str(call[1])) == [
        (["a1", "a3", "a22"], "A"),
        (["b1"], "B"),
    ]


def test_failing_batch_fails_only_its_own_futures(make_batcher, caplog):
    engine = FakeEngine(fail_options="bad")
    batcher = make_batcher(engine)
    hold_worker(batcher, engine, options="good")
    bad = batcher.submit(["x", "y"], "bad", later())
    good = batcher.submit(["z"], "good", later())
    with caplog.at_level(logging.ERROR, logger="utils.batcher"):
        engine.release.set()
        errors = [future.exception(timeout=TIMEOUT) for future in bad]
        assert results(good) == [translate("z", "good")]
    assert all(isinstance(error, EngineError) for error in errors)
    assert "engine call failed" in caplog.text
    # The worker survived: the next batch succeeds.
    assert batcher.alive
    assert results(batcher.submit(["after"], "good", later())) == [translate("after", "good")]


def test_failure_in_one_batch_does_not_leak_into_the_next(make_batcher):
    engine = FakeEngine(fail_options="bad")
    batcher = make_batcher(engine)
    [failed] = batcher.submit(["boom"], "bad", later())
    assert isinstance(failed.exception(timeout=TIMEOUT), EngineError)
    assert results(batcher.submit(["fine", "too"], "ok", later())) == [
        translate("fine", "ok"),
        translate("too", "ok"),
    ]
    assert batcher.alive


def test_wrong_number_of_results_fails_the_batch(make_batcher):
    engine = FakeEngine(bad_count=True)
    batcher = make_batcher(engine)
    futures = batcher.submit(["a", "b"], "o", later())
    for future in futures:
        error = future.exception(timeout=TIMEOUT)
        assert isinstance(error, RuntimeError)
        assert "1 results for 2 inputs" in str(error)
    assert batcher.alive


def test_worker_survives_a_base_exception_from_the_engine():
    class Fatal(BaseException):
        pass

    calls = []

    def engine(texts, options):
        calls.append(list(texts))
        if "fatal" in texts:
            raise Fatal
        return [translate(t, options) for t in texts]

    batcher = MicroBatcher(engine, 4, 1, 100)
    batcher.start()
    try:
        [doomed] = batcher.submit(["fatal"], "o", later())
        assert isinstance(doomed.exception(timeout=TIMEOUT), RuntimeError)
        assert batcher.alive
        assert results(batcher.submit(["next"], "o", later())) == [translate("next", "o")]
    finally:
        batcher.shutdown(timeout=TIMEOUT)
    assert not batcher.alive


def test_full_queue_refuses_at_once(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=2, queue_size=3)
    hold_worker(batcher, engine)
    queued = batcher.submit(["a", "b", "c"], "o", later())
    assert batcher.depth == 3
    with pytest.raises(QueueFull) as info:
        batcher.submit(["d"], "o", later())
    assert info.value.retry_after == 1
    assert info.value.status == 503
    assert "3 sentences" in info.value.message
    assert batcher.depth == 3  # nothing of the refused request was queued
    engine.release.set()
    assert results(queued) == [translate(t, "o") for t in "abc"]
    assert "d" not in engine.seen()


def test_request_that_would_overflow_a_nonempty_queue_is_refused(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, queue_size=3)
    hold_worker(batcher, engine)
    first = batcher.submit(["a"], "o", later())
    with pytest.raises(QueueFull):
        batcher.submit(["b", "c", "d"], "o", later())  # 1 + 3 > 3
    second = batcher.submit(["e", "f"], "o", later())  # 1 + 2 == 3 fits exactly
    assert batcher.depth == 3
    engine.release.set()
    assert results(first + second) == [translate(t, "o") for t in "aef"]


def test_request_bigger_than_the_whole_queue_is_413_even_into_an_empty_queue(make_batcher):
    engine = FakeEngine()
    batcher = make_batcher(engine, max_batch_size=2, queue_size=3)
    hold_worker(batcher, engine)
    assert batcher.request_budget == 3
    with pytest.raises(TooManySentences) as info:
        batcher.submit([f"s{n}" for n in range(5)], "o", later())  # 5 > 3, queue empty
    assert info.value.status == 413
    assert "5 sentences" in info.value.message
    assert "at most 3" in info.value.message
    assert batcher.depth == 0
    fits = batcher.submit(["a", "b", "c"], "o", later())  # the whole queue is fine
    engine.release.set()
    assert results(fits) == [translate(t, "o") for t in "abc"]


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
