"""Logging: one format, to stderr and to a size-rotated file under ``logs/``.

Request threads only put records on a queue; one writer thread formats them and does the
I/O. Sixteen HTTP threads writing to the same two handlers otherwise queue up on the
handlers' locks, and a slow stderr reader (a container's log driver) would stall requests.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from pathlib import Path
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
_MARK = "_translator_handler"  # handlers we installed, so a second app replaces them


class _StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is now (test runners and daemons swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ assigns it
        pass


class _Writer:
    """The queue's one writer thread, replaced when logging is configured again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listener: QueueListener | None = None

    def start(self, outputs: list[logging.Handler]) -> None:
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        front = QueueHandler(records)
        setattr(front, _MARK, True)
        with self._lock:
            self._stop()
            logging.getLogger().addHandler(front)
            self._listener = QueueListener(records, *outputs)
            self._listener.start()

    def flush(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._listener.stop()  # drains the queue, then joins the thread
                self._listener.start()

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        # Detach our queue handler first: later records reach Python's last-resort
        # stderr handler instead of a queue nobody reads.
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
            root.removeHandler(handler)
        if self._listener is not None:
            self._listener.stop()
            for handler in self._listener.handlers:
                handler.close()
            self._listener = None


_WRITER = _Writer()


def configure_logging(level: str, log_dir: Path, max_bytes: int, backups: int) -> Path:
    """Send every logger's records to stderr and ``<log_dir>/translator.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "translator.log"
    formatter = logging.Formatter(FORMAT)
    outputs: list[logging.Handler] = [
        _StderrHandler(),
        RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"),
    ]
    for handler in outputs:
        handler.setFormatter(formatter)
    _WRITER.start(outputs)
    logging.getLogger().setLevel(level)
    return path


def flush_logging() -> None:
    """Return once every record logged so far has been written."""
    _WRITER.flush()


@atexit.register
def stop_logging() -> None:
    """Write out what is queued, stop the writer thread and close the log file."""
    _WRITER.stop()
