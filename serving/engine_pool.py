"""Engine worker processes: generation runs outside the web process's interpreter lock.

The per-token search loop of :mod:`engine.search` is Python: in the web process it
shares one GIL with the HTTP threads and Flask, and two batch workers decoding at once
take turns on it. :class:`ProcessEngine` keeps the tokenizer and the model's source
preprocessing here (the segmenter counts tokens per sentence, cheaply) and sends each
``translate`` call to one of N child processes, each with its own interpreter and its own
:class:`~engine.Engine`. A call takes an idle child, blocking until one is free, so the
batcher's worker threads map onto the children.

Children are started with the *spawn* method only: forking a threaded web worker (and
ONNX Runtime's thread pools) copies locks that no thread will ever release. A child
reports ready before the pool counts as loaded; one that cannot load fails the load with
its reason. A child that dies during a batch fails that batch alone
(:class:`~serving.errors.TranslationFailed`) and is restarted in the background. A child
whose parent died reads end-of-file on its pipe and exits: no orphans.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from engine import Engine, GenerationOptions, ModelDir, ModelLoadError
from engine.tokenizer import Tokenizer
from serving.errors import NotReady, TranslationFailed
from text.normalize import SourcePreprocessor

logger = logging.getLogger(__name__)

# Spawning imports numpy, onnxruntime and the model afresh; a big model on a busy host
# takes seconds, but a load that never ends must fail the readiness, not hang it.
LOAD_TIMEOUT_S = 120.0
# How long a child gets to leave after its sentinel (or to report its exit status).
STOP_TIMEOUT_S = 5.0
_SPAWN = multiprocessing.get_context("spawn")
_GREEDY = GenerationOptions()
_OK, _ERROR, _READY, _FAILED = "ok", "error", "ready", "failed"


class ChildEngine(Protocol):
    """What a child process needs of the engine it runs."""

    model_id: str
    max_source_tokens: int

    def translate(self, sources: Sequence[str], options: GenerationOptions) -> list[str]:
        """Translate a batch of sentences that share *options*."""
        ...


# Runs in the child, so it must pickle: a module-level function.
ChildFactory = Callable[[ModelDir, int, int, bool], ChildEngine]


def build_engine(
    model: ModelDir, intra_threads: int, inter_threads: int, spinning: bool
) -> ChildEngine:
    """Load the real engine for *model* (the default child factory)."""
    return Engine(model, intra_threads, inter_threads, spinning)


@dataclass(frozen=True)
class _ChildConfig:
    # The parent verified the directory: the child trusts this ModelDir, no second hash.
    model: ModelDir
    intra_threads: int
    inter_threads: int
    spinning: bool
    factory: ChildFactory
    log_level: int


def _portable(exc: BaseException) -> BaseException:
    """Return *exc* if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _child_main(conn: Connection, config: _ChildConfig) -> None:
    """Load the engine, report ready, then translate requests until told to stop."""
    # Ctrl-C reaches the whole process group: the parent decides when children stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s engine-%(process)d %(levelname)s %(message)s"
    )
    try:
        engine = config.factory(
            config.model, config.intra_threads, config.inter_threads, config.spinning
        )
    except Exception as exc:
        conn.send((_FAILED, f"{type(exc).__name__}: {exc}", ""))
        return
    conn.send((_READY, engine.model_id, engine.max_source_tokens))
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the parent is gone
            return
        if request is None:
            return
        sources, options = request
        try:
            reply: tuple[str, Any, str] = (_OK, engine.translate(sources, options), "")
        except Exception as exc:
            reply = (_ERROR, _portable(exc), traceback.format_exc())
        try:
            conn.send(reply)
        except OSError:
            return


class ChildDied(Exception):
    """An engine process went away with a batch in flight."""


class _Child:
    """One engine process and the parent's end of its pipe."""

    def __init__(self, index: int, config: _ChildConfig) -> None:
        self.name = f"engine-{index}"
        self._config = config
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._send = threading.Lock()  # close() may send its sentinel from another thread
        # A request is on the pipe without its reply read: the pipe cannot be reused.
        self.busy = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def spawn(self) -> None:
        """Start the process; :meth:`wait_ready` reads its handshake."""
        parent_end, child_end = _SPAWN.Pipe()
        process = _SPAWN.Process(
            target=_child_main, args=(child_end, self._config), name=self.name, daemon=True
        )
        process.start()
        # Our copy of the child's end must go, or the child's death never reads as EOF.
        child_end.close()
        self._process, self._conn, self.busy = process, parent_end, False

    def wait_ready(self, timeout: float) -> tuple[str, int]:
        """Return the child's model id and source token limit; raise ModelLoadError if it fails."""
        assert self._conn is not None
        try:
            if not self._conn.poll(timeout):
                raise ModelLoadError(f"{self.name} did not load the model within {timeout:g} s")
            kind, first, second = self._conn.recv()
        except (EOFError, OSError):
            raise ModelLoadError(
                f"{self.name} exited while loading the model ({self.exit_status()})"
            ) from None
        if kind != _READY:
            raise ModelLoadError(f"{self.name} could not load the model: {first}")
        return first, second

    def call(self, sources: list[str], options: GenerationOptions) -> list[str]:
        """Translate in the child; re-raise what its engine raised; ChildDied if it died."""
        conn = self._conn
        if conn is None:
            raise ChildDied(f"{self.name} is stopped")
        self.busy = True
        try:
            with self._send:
                conn.send((sources, options))
            kind, payload, trace = conn.recv()
        except (EOFError, OSError) as exc:
            raise ChildDied(f"{self.name} died during a batch ({self.exit_status()})") from exc
        self.busy = False
        if kind == _ERROR:
            payload.add_note(f"raised in {self.name} (pid {self.pid}):\n{trace}")
            raise payload
        return list(payload)

    def exit_status(self) -> str:
        """Describe how the process ended, waiting a little for it to do so."""
        if self._process is None:
            return "stopped"
        self._process.join(STOP_TIMEOUT_S)
        code = self._process.exitcode
        if code is None:
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
            process.join(timeout)
            if process.is_alive():
                logger.warning("%s (pid %s) did not stop; terminating it", self.name, process.pid)
                process.terminate()
                process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join()
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
        config = _ChildConfig(model, intra_threads, inter_threads, spinning, child_factory, level)
        self._children = [_Child(index, config) for index in range(processes)]
        # None is the closing marker: each waiter that takes it puts it back for the next.
        self._idle: queue.Queue[_Child | None] = queue.Queue()
        self._lock = threading.Lock()  # guards _closed; serialises (re)starts against close
        self._closed = False
        started = time.perf_counter()
        self._start_all()
        logger.info(
            "%d engine processes of %s ready in %.0f ms (pids %s, %d intra-op threads each)",
            processes,
            self.model_id,
            (time.perf_counter() - started) * 1000,
            self.pids,
            intra_threads,
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
        """Translate a batch in an idle engine process, waiting for one to be free."""
        if not sources:
            return []
        child = self._checkout()
        try:
            return child.call(list(sources), options)
        except ChildDied as exc:
            logger.error("%s; restarting it", exc)
            raise TranslationFailed(
                "An engine process stopped during this batch; retry the request.",
                retry_after=1,
            ) from exc
        finally:
            # A reply never read (death, an interrupt) leaves the pipe unusable.
            if child.busy:
                self._restart_later(child)
            else:
                self._idle.put(child)

    def close(self) -> None:
        """Stop every engine process: a sentinel each, then terminate the ones that linger."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._idle.put(None)
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
        for child in self._children:
            self._idle.put(child)

    def _handshake(self, child: _Child, timeout: float) -> None:
        """Wait for *child* to load; raise ModelLoadError if it serves another model."""
        model_id, max_source_tokens = child.wait_ready(timeout)
        if (model_id, max_source_tokens) != (self.model_id, self.max_source_tokens):
            raise ModelLoadError(
                f"{child.name} serves {model_id} ({max_source_tokens} source tokens), "
                f"expected {self.model_id} ({self.max_source_tokens})"
            )

    def _revive(self, child: _Child) -> None:
        """Replace *child*'s process with a fresh one; raise why if it cannot load."""
        with self._lock:
            if self._closed:
                raise NotReady("The translation engine is shut down.")
            child.stop()
            child.spawn()
            try:
                self._handshake(child, self._load_timeout)
            except BaseException:
                child.stop()
                raise
        logger.info("%s restarted (pid %s)", child.name, child.pid)

    def _restart_later(self, child: _Child) -> None:
        threading.Thread(
            target=self._restart, args=(child,), name=f"{child.name}-restart", daemon=True
        ).start()

    def _restart(self, child: _Child) -> None:
        """Restart *child* off the request path; on failure the next checkout retries."""
        try:
            self._revive(child)
        except NotReady:
            return
        except Exception:
            logger.exception("%s could not be restarted; the next batch retries", child.name)
        self._idle.put(child)

    def _checkout(self) -> _Child:
        """Take an idle child with a live process, waiting until one is free."""
        child = self._idle.get()
        if child is None or self._closed:
            self._idle.put(child)  # the marker, or a child close() is stopping anyway
            raise NotReady("The translation engine is shut down.")
        if child.running:
            return child
        logger.warning("%s is not running; starting it before this batch", child.name)
        try:
            self._revive(child)
        except NotReady:
            raise
        except Exception as exc:
            self._idle.put(child)
            raise TranslationFailed(
                "No engine process could be started; see the service log.", retry_after=1
            ) from exc
        return child
