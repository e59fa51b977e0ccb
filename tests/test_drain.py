"""Clean drain on SIGTERM: /readyz goes 503 at once, the process keeps serving for
``drain_pause_s``, then refuses new connections, finishes what is in flight and exits 0.

The live test runs gunicorn with gunicorn.conf.py on loopback; gunicorn loads
:func:`drain_app` from this module (``--pythonpath tests``): an echo engine (no model, no
torch) that holds a sentence containing 慢 until the test creates a release file.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_until

from web.lifecycle import begin_drain, end_drain

ROOT = Path(__file__).resolve().parent.parent
PAUSE_S = 1.0
SLOW = "慢"  # a sentence with it waits in the engine for the release file
HOLD_LIMIT_S = 30.0


class HoldingEchoEngine:
    """Answers at once, except for sentences with SLOW: those wait for DRAIN_TEST_DIR/release
    (after writing DRAIN_TEST_DIR/started), HOLD_LIMIT_S at most."""

    span_mode = "placeholder"
    max_source_tokens = 126
    source_lang, target_lang, model_id = "zh", "en", "holding-echo-zh-en"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def preprocess(self, text: str) -> str:
        return text

    def count_tokens(self, text: str) -> int:
        return len(text) + 1

    def translate(self, sources: list[str], options: object) -> list[str]:
        if any(SLOW in s for s in sources):
            (self.folder / "started").touch()
            deadline = time.monotonic() + HOLD_LIMIT_S
            while not (self.folder / "release").exists() and time.monotonic() < deadline:
                time.sleep(0.005)  # the engine's "work": held until the test releases it
        return [f"EN {s}" for s in sources]


def drain_app() -> Any:
    from app import create_app

    folder = Path(os.environ["DRAIN_TEST_DIR"])
    return create_app(engine_factory=lambda settings, path: HoldingEchoEngine(folder))


# --- in one process ------------------------------------------------------------------------


def test_draining_turns_readiness_off_and_keeps_serving(client):
    assert client.get("/readyz").status_code == 200
    begin_drain()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["error"] == {"code": "not_ready", "message": "draining"}
        assert "Retry-After" not in ready.headers  # this process will not come back
        assert client.get("/healthz").status_code == 200  # no restart: it is stopping
        assert client.post("/translate", json={"text": "我你他。"}).status_code == 200
        assert "translator_ready 0.0" in client.get("/metrics").get_data(as_text=True)
    finally:
        end_drain()
    assert client.get("/readyz").status_code == 200


# --- a live gunicorn -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """One request on a new connection; raises OSError when the server refuses it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HOLD_LIMIT_S + 10)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def _status(port: int, path: str) -> int:
    try:
        return _call(port, "GET", path)[0]
    except (OSError, http.client.HTTPException, ValueError):
        return 0


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def gunicorn(tmp_path: Path):
    port = _free_port()
    env = {
        **os.environ,
        "TRANSLATOR_HOST": "127.0.0.1",
        "TRANSLATOR_PORT": str(port),
        "TRANSLATOR_MODEL_DIR": str(tmp_path / "holding-echo-zh-en"),
        "TRANSLATOR_EXTRA_MODEL_DIRS": "[]",
        "TRANSLATOR_LOG_DIR": str(tmp_path),
        "TRANSLATOR_INTRA_OP_THREADS": "1",
        "TRANSLATOR_HTTP_THREADS": "4",
        "TRANSLATOR_DRAIN_PAUSE_S": str(PAUSE_S),
        "DRAIN_TEST_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    command += ["--pythonpath", str(ROOT / "tests"), "test_drain:drain_app()"]
    with (tmp_path / "stdout.txt").open("wb") as output:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            up = lambda: proc.poll() is not None or _status(port, "/readyz") == 200  # noqa: E731
            wait_until(up, 60, "gunicorn")
            assert proc.poll() is None, (tmp_path / "stdout.txt").read_text()[-3000:]
            yield port, proc, tmp_path
        finally:
            (tmp_path / "release").touch()
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def _serve_until_refused(port: int, deadline: float) -> tuple[list[int], float]:
    """POST /translate on new connections until one is not taken; the statuses, and when
    the first connection was refused."""
    statuses = []
    while time.monotonic() < deadline:
        try:
            statuses.append(_call(port, "POST", "/translate", {"text": "你好。"})[0])
        except (OSError, http.client.HTTPException):
            break
    wait_until(lambda: _refused(port), 5, "the listener to refuse connections")
    return statuses, time.monotonic()


@pytest.mark.slow
def test_sigterm_unready_at_once_serves_through_the_pause_then_drains(gunicorn, capsys):
    port, proc, folder = gunicorn
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(_call, port, "POST", "/translate", {"text": f"{SLOW}。"})
        wait_until((folder / "started").exists, 10, "the held request")
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: _status(port, "/readyz") == 503, 0.5, "/readyz 503")
        unready = time.monotonic() - signalled
        status, body = _call(port, "GET", "/readyz")
        assert (status, body["error"]) == (503, {"code": "not_ready", "message": "draining"})
        assert _status(port, "/healthz") == 200
        statuses, refused_at = _serve_until_refused(port, signalled + PAUSE_S + 10)
        refused = refused_at - signalled
        assert statuses and set(statuses) == {200}, statuses
        assert PAUSE_S <= refused < PAUSE_S + 3, refused
        assert not in_flight.done() and proc.poll() is None  # intake stopped, work goes on
        (folder / "release").touch()
        assert in_flight.result(timeout=20) == (200, {"success": True, "result": "EN 慢."})
    assert proc.wait(20) == 0
    exited = time.monotonic() - signalled
    with capsys.disabled():
        print(
            f"\ndrain: /readyz 503 after {unready * 1000:.0f} ms, {len(statuses)} requests "
            f"served in the pause, refused after {refused:.2f} s, exit 0 after {exited:.2f} s"
        )
    output = (folder / "stdout.txt").read_text("utf-8")
    assert "SIGTERM: draining" in output and "drain pause over" in output
    log = (folder / "translator.log").read_text("utf-8")
    assert "batch worker batcher-zh-en-0 stopped" in log
