"""The real thing: gunicorn on a free port, real HTTP, concurrency, SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
JSON_HEADERS = {"Content-Type": "application/json"}
HTTP_THREADS = 16  # config/settings.json


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url,
        data=data,
        method="POST" if data else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def _ready(base: str) -> bool:
    try:
        return _request(base + "/readyz", timeout=2)[0] == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    port = _free_port()
    logs = tmp_path_factory.mktemp("gunicorn-logs")
    env = {
        **os.environ,
        "TRANSLATOR_PORT": str(port),
        "TRANSLATOR_HOST": "127.0.0.1",
        "TRANSLATOR_MODEL_DIR": str(tiny_model_dir),
        "TRANSLATOR_EXTRA_MODEL_DIRS": "[]",
        "TRANSLATOR_LOG_DIR": str(logs),
        "TRANSLATOR_INTRA_OP_THREADS": "1",
    }
    # Output goes to a file: an unread pipe fills up under load and blocks the server's
    # logging, which wedges every request thread.
    output = (logs / "stdout.txt").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(base) or proc.poll() is not None, timeout=90, what="readyz")
        assert proc.poll() is None, (logs / "stdout.txt").read_text()[-3000:]
        yield base, proc, logs
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        output.close()


def test_translate_over_http(server):
    base, _, _ = server
    status, headers, body = _request(base + "/translate", {"text": "我你他。\n\n满99元。"})
    assert status == 200, body
    assert body["success"] is True
    assert "\n\n" in body["result"] and "99" in body["result"]
    assert headers["X-Request-ID"]


def test_healthz_counts_the_engine_process_in_the_memory_totals(server):
    base, _, _ = server
    status, _, body = _request(base + "/healthz")
    memory = body["memory_usage"]
    assert status == 200
    # The model is loaded in the engine process, not in the web worker that answers.
    assert memory["total_rss_bytes"] > memory["rss_bytes"] + 10_000_000
    assert memory["total_peak_rss_bytes"] >= memory["total_rss_bytes"] - 10_000_000


def test_page_is_served(server):
    base, _, _ = server
    with urllib.request.urlopen(base + "/", timeout=10) as response:
        html = response.read().decode()
    assert response.status == 200 and "<textarea" in html


def test_200_concurrent_requests_over_16_threads(server):
    base, _, _ = server
    texts = ["我你他。", "买卖钱元。", "", "hello", "她们是的了！" * 3, "满99元包邮。"]

    def call(i: int) -> tuple[int, dict]:
        status, _, body = _request(base + "/translate", {"text": texts[i % len(texts)]}, 60)
        return status, body

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, range(200)))
    for status, body in results:
        assert status == 200, body
        assert body["success"] is True and isinstance(body["result"], str)
    assert {r[1]["result"] for r in results[2::6]} == {""}
    assert {r[1]["result"] for r in results[3::6]} == {"hello"}


def _keep_alive_call(conn: http.client.HTTPConnection, text: str) -> tuple[int, dict]:
    conn.request("POST", "/translate", json.dumps({"text": text}), JSON_HEADERS)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def test_one_keep_alive_connection_serves_many_requests(server):
    base, _, _ = server
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
    try:
        results = [_keep_alive_call(conn, f"满{n}元。") for n in range(100)]
    finally:
        conn.close()
    assert all(status == 200 for status, _ in results)
    assert [str(n) in body["result"] for n, (_, body) in enumerate(results)] == [True] * 100


def test_idle_keep_alive_connections_do_not_starve_a_new_one(server):
    """Threads that keep their connection for its next request let go of it when
    more connections than threads are open."""
    base, _, _ = server
    host = base.removeprefix("http://")
    idle = [http.client.HTTPConnection(host, timeout=30) for _ in range(HTTP_THREADS + 4)]
    try:
        for conn in idle:  # each keeps its connection open, idle, after one request
            assert _keep_alive_call(conn, "我你他。")[0] == 200
        started = time.monotonic()
        status, _, body = _request(base + "/translate", {"text": "买卖钱元。"}, timeout=10)
        assert status == 200, body
        assert time.monotonic() - started < 2.0
    finally:
        for conn in idle:
            conn.close()


def test_loadtest_script_reports_every_phase(server, tmp_path):
    base, _, _ = server
    from toolchain.tiny import corpus

    pairs = tmp_path / "pairs.tsv"
    zh, en = corpus(120, seed=3)
    pairs.write_text("".join(f"{e}\t{z}\n" for z, e in zip(zh, en, strict=True)), "utf-8")
    args = ["--url", base, "--pairs", str(pairs), "--concurrency", "1,4"]
    args += ["--requests", "10", "--warm-requests", "20", "--time-limit", "30", "--rounds", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "toolchain.loadtest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    phases = [(r["cache"], r["concurrency"]) for r in report["results"]]
    assert phases == [("cold", 1), ("warm", 1), ("cold", 4), ("warm", 4)]
    assert all(r["ok"] == r["requests"] > 0 and not r["errors"] for r in report["results"])
    assert report["server_peak_rss_mb"] > 10
    cold = [r for r in report["summary"] if r["cache"] == "cold"]
    assert cold[0]["gain_vs_1"] == 1.0 and cold[1]["gain_vs_1"] > 0


def test_sigterm_drains_and_exits(server):
    _, proc, logs = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    log = (logs / "translator.log").read_text(encoding="utf-8")
    assert "batch worker batcher-zh-en-0 stopped" in log
    assert "batch worker batcher-zh-en-1 stopped" in log
