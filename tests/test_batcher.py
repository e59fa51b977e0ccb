"""The micro-batcher, driven by a fake engine whose first batch can be held on an Event:
results and their order, how items are batched and grouped, engine failures, and the
queue's limits.

Holding the worker inside an engine call is what makes queue states deterministic: while
it waits, everything submitted stays queued, and once released the worker finds it all.
The fake engine and the ``make_batcher`` fixture are in tests/batcher_fakes.py; shutdown,
deadlines, cancellation and several workers are tested in tests/test_batcher_workers.py.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from batcher_fakes import (
    GATE,
    TIMEOUT,
    EngineError,
    FakeEngine,
    hold_worker,
    later,
    make_batcher_fixture,  # noqa: F401 - the make_batcher fixture
    results,
    translate,
)

from serving.batcher import MicroBatcher
from serving.errors import QueueFull, TooManySentences


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
