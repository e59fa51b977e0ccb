"""Logging: one format, to stderr and to a size-rotated file under ``logs/``."""

from __future__ import annotations

import logging
import sys
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
    def stream(self, value) -> None:  # noqa: ANN001 - StreamHandler.__init__ assigns it
        pass


def configure_logging(level: str, log_dir: Path, max_bytes: int, backups: int) -> Path:
    """Send every logger's records to stderr and ``<log_dir>/translator.log``."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "translator.log"
    formatter = logging.Formatter(FORMAT)
    handlers: list[logging.Handler] = [
        _StderrHandler(),
        RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"),
    ]
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
    return path
