"""The micro-batcher: worker threads run the engine on batches for every request thread.

Request threads :meth:`MicroBatcher.submit` sentences and wait on the returned futures.
One worker at a time takes a batch off the queue, up to ``max_batch_size`` sentences.
While another batch is being decoded it also waits up to ``max_wait_ms`` for more (the
cores are busy anyway, and a fuller batch is cheaper per sentence); when the engine is
idle it starts at once, so a lone request never waits for company that is not coming. It
groups the batch by generation options, sorts each group by length (rows of similar
length waste less padding) and makes one engine call per group. A failing call fails
only the futures of that call, is logged with its exception, and the worker goes on.
:meth:`shutdown` stops intake, lets the workers finish what is queued, and joins them.

Fair admission: every sentence carries its client (an API key or an address, see
:data:`current_client`). The queue keeps one FIFO per client and a batch takes the
clients' sentences round-robin, one each per turn, so a client with 50 sentences queued
gets no more of a batch than one with a single sentence, and never makes it wait behind
all 50. The queue is bounded twice, and ``submit`` refuses at once instead of letting
latency grow:

- a client may hold at most ``client_share`` of the queue (:attr:`client_capacity`):
  past that its request is refused with :class:`~serving.errors.ClientQueueFull` (429)
  while others are still admitted (the translator feeds a request bigger than that in
  slices, each once the previous one is done);
- the whole queue holds ``queue_size`` sentences: past that
  :class:`~serving.errors.QueueFull` (503), the service is full;
- one request may need at most :attr:`request_budget` sentences, the whole queue: a
  bigger one is refused with :class:`~serving.errors.TooManySentences` (413) whatever
  the load, never admitted because the queue happened to be empty.

With ``workers`` > 1 several batches are decoded at once on one shared engine. A small
model's decoding step leaves cores idle (thread hand-offs between tiny ops, the Python
search loop between steps); a second batch in flight fills them. A lone client still
gets one whole batch to itself, so its latency does not change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass, field

from serving.errors import (
    ClientQueueFull,
    DeadlineExceeded,
    NotReady,
    QueueFull,
    TooManySentences,
)

logger = logging.getLogger(__name__)

RunBatch = Callable[[list[str], Hashable], Sequence[str]]

# Who the sentences submitted from this thread (or context) belong to: the web layer sets
# it for each request (API key or address); None is the process itself (warm-up, tools).
current_client: ContextVar[Hashable] = ContextVar("current_client", default=None)


@dataclass(eq=False)
class WorkItem:
    text: str
    options: Hashable
    deadline: float
    client: Hashable = None
    future: Future = field(default_factory=Future)


class FairQueue:
    """One FIFO per client, served round-robin: one item per client per turn.

    Not thread-safe: the batcher holds its lock around every call.
    """

    def __init__(self) -> None:
        # Insertion order is the rotation: the client served last moves to the back.
        self._queues: dict[Hashable, deque[WorkItem]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def queued(self, client: Hashable) -> int:
        """Items *client* has waiting."""
        waiting = self._queues.get(client)
        return len(waiting) if waiting else 0

    @property
    def clients(self) -> int:
        return len(self._queues)

    def put(self, client: Hashable, items: Sequence[WorkItem]) -> None:
        self._queues.setdefault(client, deque()).extend(items)
        self._size += len(items)

    def take(self, count: int) -> list[WorkItem]:
        """Up to *count* items, round-robin over the clients with work waiting."""
        taken: list[WorkItem] = []
        while len(taken) < count and self._queues:
            client = next(iter(self._queues))
            waiting = self._queues.pop(client)
            taken.append(waiting.popleft())
            if waiting:
                self._queues[client] = waiting  # to the back of the rotation
        self._size -= len(taken)
        return taken


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
        client_share: float = 1.0,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if not 0 < client_share <= 1:
            raise ValueError(f"client_share must be in (0, 1], got {client_share}")
        self._run_batch = run_batch
        self._on_batch = on_batch  # (sentences, seconds) after each successful engine call
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.capacity = queue_size
        # What one client may hold queued, and so the most one request may need.
        self.client_capacity = max(1, int(queue_size * client_share))
        self._pending = FairQueue()
        self._lock = threading.Lock()  # guards _pending, _running, _closing and counters
        self._changed = threading.Condition(self._lock)  # work queued, or closing
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
        return len(self._pending)

    @property
    def request_budget(self) -> int:
        """The most sentences one request may need: what the whole queue holds."""
        return self.capacity

    def queued_for(self, client: Hashable) -> int:
        """Sentences *client* has waiting."""
        with self._lock:
            return self._pending.queued(client)

    def submit(
        self,
        texts: Sequence[str],
        options: Hashable,
        deadline: float,
        client: Hashable = None,
    ) -> list[Future]:
        """Queue *texts* as one unit of *client*'s (default: :data:`current_client`);
        raise TooManySentences, ClientQueueFull, QueueFull or NotReady instead of waiting."""
        if client is None:
            client = current_client.get()
        with self._lock:
            self._admit(len(texts), client)
            items = [WorkItem(t, options, deadline, client) for t in texts]
            self._pending.put(client, items)
            self._changed.notify_all()
        return [item.future for item in items]

    def check_room(self, client: Hashable = None) -> None:
        """Raise ClientQueueFull at once if *client* (default: :data:`current_client`)
        cannot queue a single sentence more: refused before any work is done for it."""
        if client is None:
            client = current_client.get()
        with self._lock:
            if self.client_capacity < self.capacity:
                self._refuse_over_share(self._pending.queued(client), 1)

    def _refuse_over_share(self, queued: int, count: int) -> None:
        if queued + count > self.client_capacity:
            raise ClientQueueFull(
                f"You have {queued} sentences queued; one client may queue at most "
                f"{self.client_capacity}. Retry when your requests finished.",
                retry_after=1,
            )

    def _admit(self, count: int, client: Hashable) -> None:
        """Raise the error that refuses *count* more sentences of *client*, if any."""
        if self._closing:
            raise NotReady("The service is shutting down.", retry_after=1)
        if not self.alive:
            # A dead worker does not come back: no Retry-After, the probes fail it.
            raise NotReady("The translation worker is not running.")
        if count > self.request_budget:
            raise TooManySentences(
                f"This request needs {count} sentences translated; one request may need at "
                f"most {self.request_budget}. Split it into smaller requests."
            )
        if self.client_capacity < self.capacity:
            self._refuse_over_share(self._pending.queued(client), count)
        if len(self._pending) + count > self.capacity:
            raise QueueFull(
                f"The translation queue is full ({self.capacity} sentences); retry shortly.",
                retry_after=1,
            )

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Refuse new work, finish the queued work, and (if *wait*) join the workers."""
        with self._lock:
            self._closing = True
            self._changed.notify_all()
        if not wait:
            return
        end = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(None if end is None else max(0.0, end - time.monotonic()))

    def _next_batch(self) -> list[WorkItem] | None:
        """Wait for work and take a batch of it; None once closing and drained."""
        with self._changed:
            while not self._pending and not self._closing:
                self._changed.wait()
            if not self._pending:
                return None
            batch = self._pending.take(self.max_batch_size)
            if self._running:
                # Another batch is being decoded: wait a little for company.
                self._fill(batch, time.monotonic() + self.max_wait)
            self._running += 1
            return batch

    def _fill(self, batch: list[WorkItem], until: float) -> None:
        """Add what gets queued to *batch* until it is full or *until* (lock held)."""
        while len(batch) < self.max_batch_size and not self._closing:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            if not self._pending:
                self._changed.wait(remaining)
            batch += self._pending.take(self.max_batch_size - len(batch))

    def _worker(self) -> None:
        while True:
            with self._take:  # one worker at a time waits for work and takes a batch
                batch = self._next_batch()
            if batch is None:
                break
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
