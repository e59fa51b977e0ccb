"""Deployment, live: slow clients on loopback against a live gunicorn (an echo engine, no
model) and a live nginx running ``deploy/nginx.conf`` in front of it (skipped where nginx
is not installed).

gunicorn loads :func:`echo_app` from this module (``--pythonpath tests``). The manifests,
the Dockerfile and gunicorn's settings as parsed are tested in
tests/test_deploy_manifests.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
)
SETTINGS = json.loads((ROOT / "config" / "settings.json").read_text("utf-8"))
THREADS = 2  # the live gunicorn's http_threads: few, so that stalled clients matter
CLIENT_TIMEOUT_S = 1.0  # its GUNICORN_CLIENT_TIMEOUT_S
PARTIAL_HEADERS = b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


# --- the app gunicorn serves -------------------------------------------------------------


class EchoEngine:
    """An engine that answers instantly, without torch or a model (fakes.py imports torch,
    which would add seconds to gunicorn's start)."""

    span_mode = "placeholder"
    max_source_tokens = 126
    source_lang, target_lang, model_id = "zh", "en", "echo-zh-en"

    def preprocess(self, text: str) -> str:
        return text

    def count_tokens(self, text: str) -> int:
        return len(text) + 1

    def translate(self, sources: list[str], options: object) -> list[str]:
        return [f"EN {s}" for s in sources]


def echo_app() -> Any:
    from app import create_app

    return create_app(engine_factory=lambda settings, path: EchoEngine())


# --- live servers -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _exchange(port: int, raw: bytes, timeout: float = 5.0) -> tuple[bytes, float, bool]:
    """Send *raw*, read until the server closes or a whole response is in; return the
    bytes, the seconds it took and whether the server closed the connection."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data, closed = b"", False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
        if not closed and b"connection: close" in data.lower():
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            closed = sock.recv(1) == b""
    return data, time.perf_counter() - started, closed


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return length is not None and len(body) >= int(length.group(1))


def _request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _body(response: bytes) -> dict:
    return json.loads(response.partition(b"\r\n\r\n")[2])


def _translate_request() -> bytes:
    body = json.dumps({"text": "你好。"}).encode()
    return _request("POST", "/translate", body, Content_Type="application/json")


def _answers(port: int, path: str) -> bool:
    try:
        return _status(_exchange(port, _request("GET", path), 2)[0]) == 200
    except (OSError, IndexError, ValueError):
        return False


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port, logs = _free_port(), tmp_path_factory.mktemp("deploy-gunicorn")
    env = {
        **os.environ,
        "TRANSLATOR_HOST": "127.0.0.1",
        "TRANSLATOR_PORT": str(port),
        "TRANSLATOR_MODEL_DIR": str(logs / "echo-zh-en"),
        "TRANSLATOR_EXTRA_MODEL_DIRS": "[]",
        "TRANSLATOR_LOG_DIR": str(logs),
        "TRANSLATOR_HTTP_THREADS": str(THREADS),
        "TRANSLATOR_INTRA_OP_THREADS": "1",
        "GUNICORN_CLIENT_TIMEOUT_S": str(CLIENT_TIMEOUT_S),
        "TRANSLATOR_DRAIN_PAUSE_S": "0",  # tests/test_drain.py covers the pause
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    command += ["--pythonpath", str(ROOT / "tests"), "test_deploy:echo_app()"]
    with (logs / "stdout.txt").open("wb") as output:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            up = lambda: proc.poll() is not None or _answers(port, "/readyz")  # noqa: E731
            wait_until(up, 60, "gunicorn")
            assert proc.poll() is None, (logs / "stdout.txt").read_text()[-3000:]
            yield port
        finally:
            _stop(proc)


def _stall(port: int, count: int) -> list[socket.socket]:
    """*count* slowloris connections: part of the headers, then silence."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(PARTIAL_HEADERS)
        sockets.append(sock)
    return sockets


@pytest.mark.slow
def test_gunicorn_frees_a_thread_held_by_a_stalled_client(gunicorn):
    # Twice as many stalled clients as threads: stock gthread would block every thread
    # until the clients leave, and /healthz behind them forever.
    stalled = _stall(gunicorn, 2 * THREADS)
    try:
        response, seconds, _ = _exchange(gunicorn, _request("GET", "/healthz"), 10)
        assert _status(response) == 200
        assert seconds < 2 * CLIENT_TIMEOUT_S + 2.5, seconds
        for sock in stalled:  # each one was closed by the server
            sock.settimeout(5)
            assert sock.recv(1024) == b""
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.slow
def test_clients_that_keep_their_end_open_do_not_stall_gunicorn(gunicorn):
    # gunicorn 27 lingers up to 2 s per closed connection on the thread that accepts:
    # five such clients would hold a new connection for 10 s.
    raw = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    lingering = []
    try:
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", gunicorn), timeout=5)
            sock.sendall(raw)
            lingering.append(sock)
        for sock in lingering:  # each got its response; none closes its end
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        response, seconds, _ = _exchange(gunicorn, _request("GET", "/healthz"))
        assert _status(response) == 200 and seconds < 1.0, seconds
    finally:
        for sock in lingering:
            sock.close()


@pytest.mark.slow
def test_gunicorn_closes_at_once_after_an_unread_body(gunicorn):
    # 413 on Content-Length alone: the connection closes at once, nothing is drained.
    raw = _request("POST", "/translate", Content_Type="application/json")
    raw = raw.replace(b"Content-Length: 0", b"Content-Length: 10000000") + b'{"text": "'
    response, seconds, closed = _exchange(gunicorn, raw)
    assert _status(response) == 413 and _body(response)["error"]["code"] == "payload_too_large"
    assert b"connection: close" in response.lower()
    assert closed and seconds < 1.5, seconds


@pytest.mark.slow
def test_gunicorn_counts_chunked_bodies_and_refuses_broken_ones(gunicorn):
    head = (
        b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    too_big = head + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 5 + b"0\r\n\r\n"
    response, _, _ = _exchange(gunicorn, too_big)
    assert _status(response) == 413, response[:300]
    text = json.dumps({"text": "你好"}, ensure_ascii=False).encode()
    good = head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(text), text)
    response, _, _ = _exchange(gunicorn, good)
    assert _status(response) == 200 and _body(response)["result"].startswith("EN"), response
    response, _, closed = _exchange(gunicorn, head + b"zz\r\nbroken\r\n0\r\n\r\n")
    assert _status(response) == 400 and _body(response)["error"]["code"] == "bad_request"
    assert closed  # the rest of a broken body is not read


def _nginx_conf(tmp: Path, public: int, internal: int, upstream: int) -> str:
    conf = (DEPLOY / "nginx.conf").read_text("utf-8")
    swaps = {
        "listen 8080 ": f"listen 127.0.0.1:{public} ",
        "listen 8081;": f"listen 127.0.0.1:{internal};",
        "127.0.0.1:7860": f"127.0.0.1:{upstream}",
        "/tmp/": f"{tmp}/",
        "worker_processes auto;": "worker_processes 2;",
        "access_log /dev/stdout": f"access_log {tmp}/access.log",
    }
    for old, new in swaps.items():
        assert old in conf, f"deploy/nginx.conf no longer has {old!r}"
        conf = conf.replace(old, new)
    return conf


@pytest.fixture(scope="module")
def nginx(gunicorn: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    tmp = tmp_path_factory.mktemp("deploy-nginx")
    public, internal = _free_port(), _free_port()
    (tmp / "nginx.conf").write_text(_nginx_conf(tmp, public, internal, gunicorn), "utf-8")
    directives = "daemon off; master_process on;" + (" user root;" if os.geteuid() == 0 else "")
    command = [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", "stderr"]
    with (tmp / "stderr.txt").open("wb") as output:
        proc = subprocess.Popen([*command, "-g", directives], stdout=output, stderr=output)
        try:
            up = lambda: proc.poll() is not None or _answers(internal, "/nginx-health")  # noqa: E731
            wait_until(up, 20, "nginx")
            assert proc.poll() is None, (tmp / "stderr.txt").read_text()[-3000:]
            yield public, internal
        finally:
            _stop(proc, signal.SIGQUIT)


def _timed(port: int, raw: bytes) -> tuple[int, float]:
    response, seconds, _ = _exchange(port, raw, 10)
    return _status(response), seconds


@pytest.mark.slow
def test_32_slowloris_sockets_through_nginx_delay_nothing(nginx, gunicorn, capsys):
    public, internal = nginx
    baseline = [_timed(internal, _request("GET", "/healthz"))[1]]
    baseline.append(_timed(public, _translate_request())[1])
    stalled = _stall(public, 32)
    try:
        health = _timed(internal, _request("GET", "/healthz"))
        translate = _timed(public, _translate_request())
        direct = _timed(gunicorn, _request("GET", "/healthz"))
        for sock in stalled:  # still held open by nginx (client_header_timeout is 10 s)
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in stalled:
            sock.close()
    with capsys.disabled():
        print(
            f"\n32 slowloris via nginx: /healthz {health[1] * 1000:.1f} ms, /translate "
            f"{translate[1] * 1000:.1f} ms (before: {baseline[0] * 1000:.1f}, "
            f"{baseline[1] * 1000:.1f} ms); gunicorn direct /healthz {direct[1] * 1000:.1f} ms"
        )
    assert health[0] == translate[0] == direct[0] == 200
    assert health[1] < 1.0 and translate[1] < 1.0 and direct[1] < 1.0


@pytest.mark.slow
def test_nginx_keeps_operator_endpoints_internal_and_answers_in_the_envelope(nginx):
    public, internal = nginx
    for path in ("/healthz", "/readyz", "/metrics"):
        response, _, _ = _exchange(public, _request("GET", path))
        assert _status(response) == 404, path
        assert _body(response)["error"]["code"] == "not_found"
        assert _status(_exchange(internal, _request("GET", path))[0]) == 200, path
    body = b'{"text": "' + b"a" * SETTINGS["max_body_bytes"] + b'"}'
    raw = _request("POST", "/translate", body, Content_Type="application/json")
    response, _, _ = _exchange(public, raw)
    assert _status(response) == 413 and _body(response)["error"]["code"] == "payload_too_large"
    assert b"x-content-type-options: nosniff" in response.lower()
    response, _, _ = _exchange(public, _translate_request())
    assert _status(response) == 200 and b"x-request-id:" in response.lower()
