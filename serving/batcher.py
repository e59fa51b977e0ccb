"""The micro-batcher: worker threads run the engine on batches for every request thread.

Request threads :meth:`MicroBatcher.submit` sentences and wait on the returned futures.
One worker at a time takes a batch off the queue: the first waiting item plus whatever
else is queued, up to ``max_batch_size``. While another batch is being decoded it also
waits up to ``max_wait_ms`` for more (the cores are busy anyway, and a fuller batch is
cheaper per sentence); when the engine is idle it starts at once, so a lone request
never waits for company that is not coming. It groups the batch by generation options,
sorts each group by length (rows of similar length waste less padding) and makes one
engine call per group. A failing call fails only the futures of that call, is logged with
its exception, and the worker goes on. The queue is bounded: when it is full, ``submit``
refuses at once with :class:`~serving.errors.QueueFull` instead of letting latency grow.
:meth:`shutdown` stops intake, lets the workers finish what is queued, and joins them.

With ``workers`` > 1 several batches are decoded at once on one shared engine. A small
model's decoding step leaves cores idle (thread hand-offs between tiny ops, the Python
search loop between steps); a second batch in flight fills them. A lone client still
gets one whole batch to itself, so its latency does not change.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from serving.errors import DeadlineExceeded, NotReady, QueueFull

logger = logging.getLogger(__name__)

RunBatch = Callable[[list[str], Hashable], Sequence[str]]


@dataclass(eq=False)
class WorkItem:
    text: str
    options: Hashable
    deadline: float
    future: Future = field(default_factory=Future)


_STOP = object()  # sentinel, one per worker: wakes it and says the queue has been drained


class MicroBatcher:
    """Collect sentences from many threads into batched engine calls on worker threads."""

    def __init__(
        self,
        run_batch: RunBatch,
        max_batch_size: int,
        max_wait_ms: float,
        queue_size: int,
        name: str = "batcher",
        on_batch: Callable[[int, float], None] | None = None,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._run_batch = run_batch
        self._on_batch = on_batch  # (sentences, seconds) after each successful engine call
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self._queue: queue.Queue = queue.Queue()  # bounded by submit, see below
        self.capacity = queue_size
        self._lock = threading.Lock()  # held by submit() while it queues one request
        self._take = threading.Lock()  # held by the worker taking a batch off the queue
        self._running = 0  # batches being decoded
        self._closing = False
        self._threads = [
            threading.Thread(target=self._worker, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    @property
    def alive(self) -> bool:
        """True while every worker runs: a dead worker means a bug, not a smaller pool."""
        return all(thread.is_alive() for thread in self._threads)

    @property
    def depth(self) -> int:
        """Sentences waiting in the queue."""
        return self._queue.qsize()

    def submit(self, texts: Sequence[str], options: Hashable, deadline: float) -> list[Future]:
        """Queue *texts* as one unit; raise QueueFull or NotReady instead of waiting."""
        with self._lock:
            if self._closing:
                raise NotReady("The service is shutting down.", retry_after=1)
            if not self.alive:
                # A dead worker does not come back: no Retry-After, the probes fail it.
                raise NotReady("The translation worker is not running.")
            depth = self._queue.qsize()
            # One request bigger than the whole queue is still admitted into an empty
            # queue; otherwise a long document could never be translated at all.
            if depth and depth + len(texts) > self.capacity:
                raise QueueFull(
                    f"The translation queue is full ({self.capacity} sentences); retry shortly.",
                    retry_after=1,
                )
            items = [WorkItem(t, options, deadline) for t in texts]
            for item in items:
                self._queue.put_nowait(item)
        return [item.future for item in items]

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Refuse new work, finish the queued work, and (if *wait*) join the workers."""
        with self._lock:
            if not self._closing:
                self._closing = True
                for _ in self._threads:
                    self._queue.put(_STOP)
        if not wait:
            return
        end = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(None if end is None else max(0.0, end - time.monotonic()))

    def _collect(self, first: WorkItem) -> tuple[list[WorkItem], bool]:
        """*first* plus queued items; True as the second value if the stop sentinel came."""
        batch = [first]
        if self._running and self._gather(batch, time.monotonic() + self.max_wait):
            return batch, True
        # submit() queues a request's sentences under this lock, so draining under it takes
        # all of a request or none of it, never the first half of one still being queued.
        with self._lock:
            return batch, self._gather(batch, None)

    def _gather(self, batch: list[WorkItem], until: float | None) -> bool:
        """Append queued items until *batch* is full and, with *until*, until that time
        (otherwise until the queue is empty); return True on the stop sentinel."""
        while len(batch) < self.max_batch_size:
            try:
                if until is None:
                    item = self._queue.get_nowait()
                else:
                    remaining = until - time.monotonic()
                    if remaining <= 0:
                        return False
                    item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            batch.append(item)
        return False

    def _worker(self) -> None:
        while True:
            with self._take:
                item = self._queue.get()
                if item is _STOP:
                    break
                batch, stop = self._collect(item)
                with self._lock:
                    self._running += 1
            try:
                self._process(batch)
            except BaseException:  # never let a bug kill a worker silently
                logger.exception("batch bookkeeping failed")
                for work in batch:
                    if not work.future.done():
                        work.future.set_exception(RuntimeError("batch failed"))
            finally:
                with self._lock:
                    self._running -= 1
            if stop:
                break
        logger.info(
            "batch worker %s stopped (%d batches in all)",
            threading.current_thread().name,
            self.batches,
        )

    def _process(self, batch: list[WorkItem]) -> None:
        now = time.monotonic()
        groups: dict[Hashable, list[WorkItem]] = {}
        for work in batch:
            if not work.future.set_running_or_notify_cancel():
                continue  # the caller gave up on it (deadline or disconnect)
            if work.deadline <= now:
                work.future.set_exception(
                    DeadlineExceeded("The request deadline passed in the queue.")
                )
                continue
            groups.setdefault(work.options, []).append(work)
        for options, works in groups.items():
            works.sort(key=lambda w: len(w.text))
            self._call(options, works)

    def _call(self, options: Hashable, works: list[WorkItem]) -> None:
        started = time.perf_counter()
        try:
            results = self._run_batch([w.text for w in works], options)
            if len(results) != len(works):
                raise RuntimeError(
                    f"engine returned {len(results)} results for {len(works)} inputs"
                )
        except Exception as exc:
            logger.exception("engine call failed for a batch of %d", len(works))
            for work in works:
                work.future.set_exception(exc)
            return
        for work, result in zip(works, results, strict=True):
            work.future.set_result(result)
        with self._lock:
            self.batches += 1
            self.items += len(works)
        if self._on_batch is not None:
            self._on_batch(len(works), time.perf_counter() - started)
        logger.debug("batch of %d in %.1f ms", len(works), (time.perf_counter() - started) * 1000)
