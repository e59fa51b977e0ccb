"""Logging goes through a queue to one writer thread: nothing is lost, tracebacks included."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from web.logs import configure_logging, flush_logging, stop_logging


@pytest.fixture
def log_dir(tmp_path):
    yield tmp_path / "logs"
    stop_logging()


def ours(root: logging.Logger) -> list[logging.Handler]:
    return [h for h in root.handlers if getattr(h, "_translator_handler", False)]


def test_records_and_tracebacks_reach_the_file(log_dir):
    path = configure_logging("INFO", log_dir, 1 << 20, 1)
    log = logging.getLogger("test.logs")
    log.debug("below the level")
    log.info("value=%d", 42)
    try:
        raise ValueError("inner detail")
    except ValueError:
        log.exception("it failed")
    flush_logging()
    text = path.read_text(encoding="utf-8")
    assert "INFO" in text and "test.logs: value=42" in text
    assert "it failed" in text and "ValueError: inner detail" in text
    assert "below the level" not in text


def test_many_threads_lose_nothing(log_dir):
    path = configure_logging("INFO", log_dir, 1 << 20, 1)
    log = logging.getLogger("test.logs")
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: log.info("line %d", i), range(500)))
    flush_logging()
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if "test.logs: line" in ln]
    assert sorted(int(line.rsplit(" ", 1)[1]) for line in lines) == list(range(500))


def test_configuring_again_replaces_the_handler(log_dir, tmp_path):
    root = logging.getLogger()
    configure_logging("INFO", log_dir, 1 << 20, 1)
    second = configure_logging("INFO", tmp_path / "other", 1 << 20, 1)
    assert len(ours(root)) == 1
    logging.getLogger("test.logs").info("to the second file")
    flush_logging()
    assert "to the second file" in second.read_text(encoding="utf-8")
    assert "to the second file" not in (log_dir / "translator.log").read_text(encoding="utf-8")


def test_stop_writes_out_the_queue_and_detaches(log_dir):
    path = configure_logging("INFO", log_dir, 1 << 20, 1)
    logging.getLogger("test.logs").info("last words")
    stop_logging()
    assert "last words" in path.read_text(encoding="utf-8")
    assert ours(logging.getLogger()) == []
