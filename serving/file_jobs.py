"""Translated files waiting to be downloaded, and file translations running in the background.

:class:`FileStore` keeps each entry in memory under a random id: a job that is queued or
running (with its progress), then its finished file or its error. It is bounded: at most
``max_files`` entries and ``max_bytes`` of finished files; a finished entry expires
``ttl_s`` after it finished, and the oldest finished ones make room for new ones. A new
job is refused (QueueFull, 503 with Retry-After) while ``max_pending`` jobs are queued or
running; ``workers`` threads run them.

The store lives in the process that made the entry: with several server processes a
download or a progress poll must reach the same process (one gunicorn worker, the
default, or sticky sessions); the synchronous ``POST /translate/file`` needs neither.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from serving.errors import QueueFull, ServiceError, TranslationFailed

logger = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
RETRY_AFTER_S = 5

Progress = Callable[[int, int], None]
Work = Callable[[Progress], bytes]


@dataclass
class FileEntry:
    """One stored file translation; read its fields under the store's lock (snapshot)."""

    id: str
    filename: str
    mimetype: str
    state: str = QUEUED
    done: int = 0
    total: int = 0
    data: bytes | None = None
    error: ServiceError | None = None
    finished_at: float | None = None
    created_at: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)


class FileStore:
    """See the module docstring."""

    def __init__(
        self,
        *,
        max_files: int = 64,
        max_bytes: int = 64 * 1024 * 1024,
        ttl_s: float = 3600.0,
        workers: int = 2,
        max_pending: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_files, self.max_bytes, self.ttl_s = max_files, max_bytes, ttl_s
        self.max_pending = max_pending
        self._clock = clock
        self._entries: dict[str, FileEntry] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="file-job")

    # --- reading -------------------------------------------------------------------

    def get(self, entry_id: str) -> FileEntry | None:
        """A snapshot of the entry, or None if unknown or expired."""
        with self._lock:
            self._purge()
            entry = self._entries.get(entry_id)
            return None if entry is None else FileEntry(**entry.__dict__)

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._entries)

    # --- adding --------------------------------------------------------------------

    def put(self, filename: str, mimetype: str, data: bytes) -> FileEntry:
        """Store a finished file (LibreTranslate's translate-then-download)."""
        with self._lock:
            self._make_room(len(data))
            entry = self._add(filename, mimetype)
            entry.data, entry.state, entry.finished_at = data, DONE, self._clock()
            return FileEntry(**entry.__dict__)

    def submit(self, filename: str, mimetype: str, work: Work) -> FileEntry:
        """Run ``work(progress)`` in the background; its bytes become the entry's file."""
        with self._lock:
            pending = sum(not e.finished for e in self._entries.values())
            if pending >= self.max_pending:
                raise QueueFull(
                    f"{pending} file translations are running or waiting; retry shortly.",
                    retry_after=RETRY_AFTER_S,
                )
            self._make_room(0)
            entry = self._add(filename, mimetype)
            snapshot = FileEntry(**entry.__dict__)
        # The job runs with the request's context: the client it belongs to
        # (serving.batcher.current_client) is the one that sent the file.
        context = contextvars.copy_context()
        self._pool.submit(context.run, self._run, entry.id, work)
        return snapshot

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- internals (lock held) -----------------------------------------------------

    def _add(self, filename: str, mimetype: str) -> FileEntry:
        entry = FileEntry(uuid.uuid4().hex, filename, mimetype, created_at=self._clock())
        self._entries[entry.id] = entry
        return entry

    def _purge(self) -> None:
        now = self._clock()
        for entry_id, entry in list(self._entries.items()):
            if entry.finished_at is not None and now - entry.finished_at > self.ttl_s:
                del self._entries[entry_id]

    def _stored_bytes(self) -> int:
        return sum(len(e.data) for e in self._entries.values() if e.data is not None)

    def _make_room(self, incoming: int) -> None:
        """Evict the oldest finished entries until one more entry of *incoming* bytes
        fits; QueueFull if it cannot."""
        self._purge()
        if incoming > self.max_bytes:
            raise QueueFull("the translated file is too large to keep for download")
        finished = sorted(
            (e for e in self._entries.values() if e.finished), key=lambda e: e.finished_at or 0
        )
        while finished and (
            len(self._entries) >= self.max_files or self._stored_bytes() + incoming > self.max_bytes
        ):
            del self._entries[finished.pop(0).id]
        if len(self._entries) >= self.max_files:
            raise QueueFull(
                "too many file translations are running; retry shortly.",
                retry_after=RETRY_AFTER_S,
            )

    # --- the job thread ------------------------------------------------------------

    def _run(self, entry_id: str, work: Work) -> None:
        def progress(done: int, total: int) -> None:
            with self._lock:
                entry = self._entries.get(entry_id)
                if entry is not None:
                    entry.done, entry.total = done, total

        with self._lock:
            if entry_id not in self._entries:
                return
            self._entries[entry_id].state = RUNNING
        data: bytes | None = None
        error: ServiceError | None = None
        try:
            data = work(progress)
        except ServiceError as exc:
            error = exc
        except Exception:
            logger.exception("file translation %s failed", entry_id)
            error = TranslationFailed("The file translation failed; it has been logged.")
        self._finish(entry_id, data, error)

    def _finish(self, entry_id: str, data: bytes | None, error: ServiceError | None) -> None:
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is None:
                return
            if data is not None and self._stored_bytes() + len(data) > self.max_bytes:
                error = QueueFull("no room to keep the translated file; retry shortly.")
                data = None
            entry.data, entry.error = data, error
            entry.state = FAILED if error is not None else DONE
            entry.finished_at = self._clock()
            if entry.state == DONE:
                entry.done = entry.total
