"""Engine worker processes: generation runs outside the web process's interpreter lock.

The per-token search loop of :mod:`engine.search` is Python: in the web process it
shares one GIL with the HTTP threads and Flask, and two batch workers decoding at once
take turns on it. :class:`ProcessEngine` keeps the tokenizer and the model's source
preprocessing here (the segmenter counts tokens per sentence, cheaply) and sends each
``translate`` call to one of N child processes, each with its own interpreter and its own
:class:`~engine.Engine` (:mod:`engine.worker`). A call goes to the child with the
fewest batches in flight; a child decodes ``slots`` batches at once on threads sharing
one copy of the model, so one child can serve every batch worker.

Children are fresh interpreters (``python -m engine.worker``), never forks: forking
a threaded web worker copies locks that no thread will ever release. A child
reports ready before the pool counts as loaded; one that cannot load fails the load with
its reason. A child that dies fails the batches it had in flight, and only those
(:class:`~serving.errors.TranslationFailed`), and is restarted in the background. A child
whose parent died reads end-of-file on its pipe and exits: no orphans.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from multiprocessing.connection import Connection

from engine import GenerationOptions, ModelDir, ModelLoadError
from engine.tokenizer import Tokenizer
from engine.worker import (
    ERROR,
    READY,
    ChildConfig,
    ChildFactory,
    build_engine,
)
from serving.errors import NotReady, TranslationFailed
from text.normalize import SourcePreprocessor

logger = logging.getLogger(__name__)

# A child imports numpy, onnxruntime and the model afresh; a big model on a busy host
# takes seconds, but a load that never ends must fail the readiness, not hang it.
LOAD_TIMEOUT_S = 120.0


# glibc gives each decoding thread a heap arena of its own that keeps its peak: two are
# enough for the child's few threads and hold its memory to what one model needs.
def _child_env() -> dict[str, str]:
    return {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}


# How long a child gets to leave after its sentinel (or to report its exit status).
STOP_TIMEOUT_S = 5.0
_GREEDY = GenerationOptions()


def _end(process: subprocess.Popen[bytes], timeout: float, name: str) -> None:
    """Wait for *process* to exit; terminate it, then kill it, if it does not."""
    for stop in (None, process.terminate, process.kill):
        if stop is not None:
            logger.warning("%s (pid %s) did not stop; sending %s", name, process.pid, stop.__name__)
            stop()
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait()


class ChildDied(Exception):
    """An engine process went away with a batch in flight."""

    def __init__(self, message: str, generation: int) -> None:
        super().__init__(message)
        self.generation = generation


class _Child:
    """One engine process, the parent's end of its pipe, and the replies it awaits."""

    def __init__(self, index: int, config: ChildConfig) -> None:
        self.name = f"engine-{index}"
        self._config = config
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._send = threading.Lock()
        self._pending: dict[int, Future[list[str]]] = {}
        self._ids = itertools.count()
        self._ended = 0  # the generation whose pipe the reader saw end
        # Counts (re)starts: a death reported for an older process must not restart a new one.
        self.generation = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        # Its pipe's end counts as death even before the process is reaped.
        alive = self._process is not None and self._process.poll() is None
        return alive and self._ended != self.generation

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def spawn(self) -> None:
        """Start the process and send it its configuration; :meth:`wait_ready` reads
        its handshake."""
        parent_end, child_end = socket.socketpair()
        with child_end:
            process = subprocess.Popen(
                [sys.executable, "-m", "engine.worker", str(child_end.fileno())],
                pass_fds=(child_end.fileno(),),
                stdin=subprocess.DEVNULL,
                env=_child_env(),
            )
        # (Our copy of the child's end is closed: the child's death reads as EOF.)
        conn = Connection(parent_end.detach())
        self._process, self._conn = process, conn
        self.generation += 1
        with contextlib.suppress(OSError):  # a child that died at once: wait_ready says so
            conn.send_bytes(json.dumps(sys.path).encode())
            conn.send(self._config)

    def wait_ready(self, timeout: float) -> tuple[str, int]:
        """Return the child's model id and source token limit; raise ModelLoadError if it fails."""
        conn = self._conn
        assert conn is not None
        try:
            if not conn.poll(timeout):
                raise ModelLoadError(f"{self.name} did not load the model within {timeout:g} s")
            kind, first, second = conn.recv()
        except (EOFError, OSError):
            raise ModelLoadError(
                f"{self.name} exited while loading the model ({self.exit_status()})"
            ) from None
        if kind != READY:
            raise ModelLoadError(f"{self.name} could not load the model: {first}")
        reader = threading.Thread(
            target=self._read, args=(conn, self.generation), name=f"{self.name}-replies"
        )
        reader.daemon = True
        reader.start()
        return first, second

    def call(self, sources: list[str], options: GenerationOptions) -> list[str]:
        """Translate in the child; re-raise what its engine raised; ChildDied if it died."""
        conn, generation = self._conn, self.generation
        if conn is None:
            raise ChildDied(f"{self.name} is stopped", generation)
        future: Future[list[str]] = Future()
        request_id = next(self._ids)
        self._pending[request_id] = future
        try:
            with self._send:
                conn.send((request_id, sources, options))
        except OSError as exc:
            self._pending.pop(request_id, None)
            raise ChildDied(f"{self.name} is gone ({exc})", generation) from exc
        # The reader may have failed the calls in flight just before this one arrived.
        if self._ended == generation and self._pending.pop(request_id, None) is not None:
            raise ChildDied(f"{self.name} died ({self.exit_status()})", generation)
        return future.result()

    def _read(self, conn: Connection, generation: int) -> None:
        """Hand each reply to its caller; on the pipe's end, fail every call in flight."""
        while True:
            try:
                request_id, kind, payload, trace = conn.recv()
            except (EOFError, OSError):
                break
            future = self._pending.pop(request_id, None)
            if future is None:
                continue
            if kind == ERROR:
                payload.add_note(f"raised in {self.name} (pid {self.pid}):\n{trace}")
                future.set_exception(payload)
            else:
                future.set_result(list(payload))
        self._ended = generation
        if self.generation == generation:  # not a process stop() already replaced
            died = ChildDied(f"{self.name} died during a batch ({self.exit_status()})", generation)
            for request_id in list(self._pending):
                future = self._pending.pop(request_id, None)
                if future is not None:
                    future.set_exception(died)

    def exit_status(self) -> str:
        """Describe how the process ended, waiting a little for it to do so."""
        if self._process is None:
            return "stopped"
        try:
            code = self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask the child to leave, then terminate it if it does not within *timeout*."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with self._send, contextlib.suppress(OSError):
                conn.send(None)
        if process is not None:
            _end(process, timeout, self.name)
        if conn is not None:
            conn.close()


class ProcessEngine:
    """A TranslationEngine whose ``translate`` runs in N engine worker processes."""

    def __init__(
        self,
        model: ModelDir,
        processes: int,
        intra_threads: int = 1,
        inter_threads: int = 1,
        spinning: bool = False,
        child_factory: ChildFactory = build_engine,
        load_timeout: float = LOAD_TIMEOUT_S,
        slots: int = 1,
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, got {processes}")
        manifest = model.manifest
        self.model = model
        self.model_id = model.model_id
        self.span_mode = manifest.span_mode
        self.source_lang = manifest.source_lang
        self.target_lang = manifest.target_lang
        # The same limit Engine derives from its sessions; the handshake confirms it.
        self.max_source_tokens = manifest.architecture.max_positions - 2
        self._preprocess = SourcePreprocessor(manifest.source_preprocessing)
        self._tokenizer = Tokenizer(model)
        self._load_timeout = load_timeout
        level = logging.getLogger().getEffectiveLevel()
        config = ChildConfig(
            model, intra_threads, inter_threads, spinning, child_factory, level, max(1, slots)
        )
        self._children = [_Child(index, config) for index in range(processes)]
        self._lock = threading.Lock()  # guards _closed; serialises (re)starts against close
        self._closed = False
        started = time.perf_counter()
        self._start_all()
        logger.info(
            "%d engine process(es) of %s ready in %.0f ms (pids %s, %d intra-op threads and "
            "%d decoding threads each)",
            processes,
            self.model_id,
            (time.perf_counter() - started) * 1000,
            self.pids,
            intra_threads,
            config.slots,
        )

    @property
    def processes(self) -> int:
        return len(self._children)

    @property
    def pids(self) -> list[int]:
        """List the process ids of the children now started."""
        return [pid for pid in (child.pid for child in self._children) if pid is not None]

    def preprocess(self, text: str) -> str:
        """Apply the model's own source preprocessing, here in the parent."""
        return self._preprocess(text)

    def count_tokens(self, text: str) -> int:
        """Count the source tokens *text* becomes, ``</s>`` included, here in the parent."""
        return len(self._tokenizer.encode(self._preprocess(text)))

    def translate(self, sources: Sequence[str], options: GenerationOptions = _GREEDY) -> list[str]:
        """Translate a batch in the least busy engine process."""
        if not sources:
            return []
        child = self._checkout()
        try:
            return child.call(list(sources), options)
        except ChildDied as exc:
            logger.error("%s; restarting it", exc)
            self._restart_later(child, exc.generation)
            raise TranslationFailed(
                "An engine process stopped during this batch; retry the request.",
                retry_after=1,
            ) from exc

    def close(self) -> None:
        """Stop every engine process: a sentinel each, then terminate the ones that linger."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for child in self._children:
                child.stop()
        logger.info("engine processes of %s stopped", self.model_id)

    def _start_all(self) -> None:
        """Spawn every child at once, then wait for each handshake within one deadline."""
        deadline = time.monotonic() + self._load_timeout
        try:
            for child in self._children:
                child.spawn()
            for child in self._children:
                self._handshake(child, max(0.0, deadline - time.monotonic()))
        except BaseException:
            for child in self._children:
                child.stop()
            raise

    def _handshake(self, child: _Child, timeout: float) -> None:
        """Wait for *child* to load; raise ModelLoadError if it serves another model."""
        model_id, max_source_tokens = child.wait_ready(timeout)
        if (model_id, max_source_tokens) != (self.model_id, self.max_source_tokens):
            raise ModelLoadError(
                f"{child.name} serves {model_id} ({max_source_tokens} source tokens), "
                f"expected {self.model_id} ({self.max_source_tokens})"
            )

    def _revive(self, child: _Child, generation: int) -> None:
        """Replace *child*'s process (if still *generation*); raise why if it cannot load."""
        with self._lock:
            if self._closed:
                raise NotReady("The translation engine is shut down.")
            if child.generation != generation and child.running:
                return  # another caller restarted it already
            child.stop()
            child.spawn()
            try:
                self._handshake(child, self._load_timeout)
            except BaseException:
                child.stop()
                raise
        logger.info("%s restarted (pid %s)", child.name, child.pid)

    def _restart_later(self, child: _Child, generation: int) -> None:
        threading.Thread(
            target=self._restart,
            args=(child, generation),
            name=f"{child.name}-restart",
            daemon=True,
        ).start()

    def _restart(self, child: _Child, generation: int) -> None:
        """Restart *child* off the request path; on failure the next checkout retries."""
        try:
            self._revive(child, generation)
        except NotReady:
            return
        except Exception:
            logger.exception("%s could not be restarted; the next batch retries", child.name)

    def _checkout(self) -> _Child:
        """The running child with the fewest batches in flight; restart one if none runs."""
        if self._closed:
            raise NotReady("The translation engine is shut down.")
        running = [child for child in self._children if child.running]
        if running:
            return min(running, key=lambda child: child.in_flight)
        child = self._children[0]
        logger.warning("no engine process is running; starting %s before this batch", child.name)
        try:
            self._revive(child, child.generation)
        except NotReady:
            raise
        except Exception as exc:
            raise TranslationFailed(
                "No engine process could be started; see the service log.", retry_after=1
            ) from exc
        return child
