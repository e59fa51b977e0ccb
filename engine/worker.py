"""What runs inside an engine worker process (see :mod:`serving.engine_pool`).

``python -m engine.worker FD``: the parent passes one end of a socket pair as
FD and sends the parent's ``sys.path`` (so the engine factory it names imports here too),
then a pickled :class:`ChildConfig`. The child loads its engine, reports ready, and
decodes the requests that arrive on a small pool of threads, replying with each
request's id. A fresh interpreter rather than ``multiprocessing``: nothing of the web
process (its ``__main__``, its threads, its locks) is re-imported or inherited, and no
resource-tracker process is needed.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from engine import GenerationOptions, ModelDir

OK, ERROR, READY, FAILED = "ok", "error", "ready", "failed"


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
    from engine.generate import Engine  # ONNX Runtime loads in the child only

    return Engine(model, intra_threads, inter_threads, spinning)


@dataclass(frozen=True)
class ChildConfig:
    # The parent verified the directory: the child trusts this ModelDir, no second hash.
    model: ModelDir
    intra_threads: int
    inter_threads: int
    spinning: bool
    factory: ChildFactory
    log_level: int
    # Batches one child decodes at once, each on its own thread, sharing its engine.
    slots: int = 1


def portable(exc: BaseException) -> BaseException:
    """Return *exc* if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _release_freed_heap() -> None:
    """Give the heap freed after loading (the parsed model file) back to the system."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def child_main(conn: Connection, config: ChildConfig) -> None:
    """Load the engine, report ready, then translate requests until told to stop.

    Requests carry an id and are decoded on a pool of ``slots`` threads, so one child
    serves several batch workers with one copy of the model; replies carry the id back.
    """
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
        conn.send((FAILED, f"{type(exc).__name__}: {exc}", ""))
        return
    _release_freed_heap()
    conn.send((READY, engine.model_id, engine.max_source_tokens))
    send = threading.Lock()

    def run(request_id: int, sources: list[str], options: GenerationOptions) -> None:
        try:
            reply: tuple[int, str, Any, str] = (
                request_id,
                OK,
                engine.translate(sources, options),
                "",
            )
        except Exception as exc:
            reply = (request_id, ERROR, portable(exc), traceback.format_exc())
        with send, contextlib.suppress(OSError):
            conn.send(reply)

    with ThreadPoolExecutor(config.slots, thread_name_prefix="decode") as pool:
        while True:
            try:
                request = conn.recv()
            except EOFError:  # the parent is gone
                return
            if request is None:
                return  # leaving the with-block finishes the batches in flight
            pool.submit(run, *request)


def main(argv: list[str]) -> None:
    """Run the child on the socket whose file descriptor is ``argv[1]``."""
    conn = Connection(int(argv[1]))
    try:
        sys.path[:] = json.loads(conn.recv_bytes())
        config = conn.recv()
    except EOFError:  # the parent is gone already
        return
    child_main(conn, config)


if __name__ == "__main__":
    main(sys.argv)
