"""Logging: one format, to stderr and to a size-rotated file under ``logs/``.

Request threads only append records to a buffer; one writer thread formats them and does
the I/O, in batches. Sixteen HTTP threads writing to the same two handlers otherwise queue
up on the handlers' locks, a slow stderr reader (a container's log driver) would stall
requests, and a writer woken per record costs every request a thread switch.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
from collections import deque
from logging.handlers import RotatingFileHandler
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


class _Buffer(logging.Handler):
    """The request threads' handler: append the record and return.

    Nothing is signalled per record: waking the writer for every request line costs a
    thread switch (and the interpreter lock) per request. Warnings and errors wake it.
    """

    def __init__(self, wake: threading.Event) -> None:
        super().__init__()
        self.records: deque[logging.LogRecord] = deque()
        self._wake = wake
        setattr(self, _MARK, True)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Merge the arguments now: they may change after the call returns.
            record.message = record.getMessage()
            record.msg, record.args = record.message, None
            self.records.append(record)
        except Exception:  # logging must never raise into a request
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self._wake.set()


class _Writer:
    """The one writer thread: every ``INTERVAL_S`` it writes what the buffer holds."""

    INTERVAL_S = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()  # start/stop
        self._write_lock = threading.Lock()  # one drain at a time, in order
        self._wake = threading.Event()
        self._buffer: _Buffer | None = None
        self._outputs: list[logging.Handler] = []
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self, outputs: list[logging.Handler]) -> None:
        with self._lock:
            self._stop()
            self._buffer, self._outputs, self._stopping = _Buffer(self._wake), outputs, False
            logging.getLogger().addHandler(self._buffer)
            self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
            self._thread.start()

    def flush(self) -> None:
        self._drain()

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.INTERVAL_S)
            self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        with self._write_lock:
            buffer = self._buffer
            while buffer is not None and buffer.records:
                record = buffer.records.popleft()
                for handler in self._outputs:
                    if record.levelno >= handler.level:
                        handler.handle(record)

    def _stop(self) -> None:
        # Detach our handler first: later records reach Python's last-resort stderr
        # handler instead of a buffer nobody reads.
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
            root.removeHandler(handler)
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join()
            self._thread = None
        self._drain()
        for handler in self._outputs:
            handler.close()
        self._buffer, self._outputs = None, []


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
