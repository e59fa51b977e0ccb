"""Safe to expose: security headers on every response, log lines a client cannot forge,
client-facing messages without server details, OPTIONS/HEAD, and closing the connection
on early errors. The page itself runs under the policy in headless Chromium."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from web.logs import flush_logging
from web.security import CONTENT_SECURITY_POLICY, SECURITY_HEADERS

ROOT = Path(__file__).resolve().parent.parent
# The start of every line web/logs.py writes: "2026-01-31 12:00:00,123 INFO [42] name: ".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \[\d+\] [\w.]+: ")
# The translator's scripts under static/, in the order templates/index.html loads them
# (they share window.translatorPage; controls.js starts the page, so it comes last).
PAGE_SCRIPTS = ("translate.js", "direction.js", "controls.js")


def _assert_hardened(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


# --- headers ----------------------------------------------------------------------------


def test_policy_is_the_required_one_plus_what_default_src_leaves_open():
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'self'; frame-ancestors 'none'")
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"
    assert SECURITY_HEADERS["Referrer-Policy"] in {"no-referrer", "strict-origin-when-cross-origin"}


def test_every_kind_of_response_carries_the_security_headers(client, app, monkeypatch):
    responses = [
        client.get("/"),
        client.get("/static/translate.js"),
        client.get("/healthz"),
        client.get("/metrics"),
        client.post("/translate", json={"text": "我你他。"}),
        client.post("/translate", data="{", content_type="application/json"),
        client.get("/translate"),
        client.get("/nowhere"),
        client.options("/translate"),
        client.head("/"),
    ]
    monkeypatch.setattr(app.extensions["registry"].default, "translate", _explode)
    responses.append(client.post("/translate", json={"text": "我。"}))
    assert [r.status_code for r in responses] == [
        200,
        200,
        200,
        200,
        200,
        400,
        405,
        404,
        204,
        200,
        500,
    ]
    for response in responses:
        _assert_hardened(response)


def _explode(*args, **kwargs):
    raise RuntimeError("boom")


def test_the_page_needs_nothing_the_policy_forbids():
    html = (ROOT / "templates" / "index.html").read_text("utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "a resource from elsewhere"
    loaded = re.findall(r"filename='([\w.-]+\.js)'", html)
    assert loaded[: len(PAGE_SCRIPTS)] == list(PAGE_SCRIPTS), loaded
    for name in PAGE_SCRIPTS:
        script = (ROOT / "static" / name).read_text("utf-8")
        for forbidden in ("eval(", "new Function", "innerHTML", "insertAdjacentHTML", "'style'"):
            assert forbidden not in script, (name, forbidden)
    css = (ROOT / "static" / "style.css").read_text("utf-8")
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", css) and "@import" not in css


# --- log injection ------------------------------------------------------------------------


def test_a_client_cannot_forge_log_lines(client, app):
    forged = "/x%0aFORGED%20INFO%20request_id=evil%20status=200"
    assert client.get(forged, headers={"X-Request-ID": "real-id"}).status_code == 404
    client.open("/y", method="GET\r\nFORGED x")
    client.get("/z", headers={"X-Request-ID": "a\tFORGED request_id=evil"})
    client.get("/\u2028\x00\x1b[31m\u4e2d")  # line separator, NUL, an ANSI escape, CJK
    flush_logging()
    text = (app.extensions["settings"].log_path / "translator.log").read_text("utf-8")
    lines = text.splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), [
        line for line in lines if not LOG_LINE.match(line)
    ]
    requests = [line for line in lines if "translator.requests" in line]
    for line in requests:
        fields = line.split(": ", 1)[1].split(" ")
        assert [f.split("=", 1)[0] for f in fields][:4] == [
            "request_id",
            "method",
            "path",
            "status",
        ]
        assert sum(f.startswith("status=") for f in fields) == 1
        assert "request_id=evil" not in line and "\x1b" not in line
    forged_line = next(line for line in requests if "request_id=real-id" in line)
    assert "path=/x%0AFORGED%20INFO%20request_id%3Devil%20status%3D200 status=404" in forged_line
    assert any(r"method=GET\r\nFORGED\x20X " in line for line in requests)
    assert any("path=/%E2%80%A8%00%1B%5B31m%E4%B8%AD " in line for line in requests)


# --- client-facing messages ----------------------------------------------------------------


@pytest.fixture
def failed_app(settings_overrides: dict, tmp_path: Path) -> Iterator[Flask]:
    missing = tmp_path / "secret-dir" / "missing-model"
    application = create_app({**settings_overrides, "model_dir": str(missing), "TESTING": True})
    assert application.extensions["registry"].wait_ready(10) is False
    yield application
    application.extensions["registry"].close()


def test_a_failed_model_says_so_without_paths_or_retry_after(failed_app):
    client = failed_app.test_client()
    response = client.post("/translate", json={"text": "我。"})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error == {
        "code": "not_ready",
        "message": "The model failed to load; see the service log.",
    }
    assert "Retry-After" not in response.headers  # it will not fix itself
    assert b"secret-dir" not in response.data and b"Error" not in response.data
    health = client.get("/healthz")  # operators' endpoint: status, no exception text
    assert health.status_code == 503 and b"does not exist" not in health.data
    flush_logging()
    log = (failed_app.extensions["settings"].log_path / "translator.log").read_text("utf-8")
    assert "secret-dir/missing-model does not exist" in log  # the cause is in the log


def test_a_loading_model_keeps_retry_after(make_loading_app):
    response = make_loading_app.test_client().post("/translate", json={"text": "我。"})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["message"] == "The model is still loading; retry shortly."


@pytest.fixture
def make_loading_app(settings_overrides, engines) -> Iterator[Flask]:
    engines.gate = threading.Event()
    application = create_app({**settings_overrides, "TESTING": True}, engine_factory=engines)
    yield application
    engines.gate.set()
    application.extensions["registry"].close()


# --- OPTIONS, HEAD, Connection: close --------------------------------------------------------


def test_options_is_204_with_allow_and_counts_no_translation(client):
    client.post("/translate", json={"text": "我你。"})
    before = client.get("/metrics").get_data(as_text=True)
    response = client.options("/translate")
    assert response.status_code == 204 and response.data == b""
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST", "OPTIONS"}
    assert "Content-Type" not in response.headers
    after = client.get("/metrics").get_data(as_text=True)
    for metric in ("translator_sentences_total", "translator_request_seconds_count"):
        assert _metric(before, metric) == _metric(after, metric) == 1.0
    assert 'translator_requests_total{path="/translate",status="204"} 1.0' in after
    assert client.options("/nowhere").status_code == 404


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, name
    return float(match.group(1))


def test_head_works_on_get_routes_only(client):
    for path in ("/", "/healthz", "/readyz", "/static/translate.js"):
        response = client.head(path)
        assert response.status_code == 200 and response.data == b"", path
    response = client.head("/translate")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_early_errors_close_the_connection_and_late_ones_do_not(make_small_app):
    client = make_small_app.test_client()
    too_big = client.post("/translate", json={"text": "a" * 5000})
    assert too_big.status_code == 413 and too_big.headers["Connection"] == "close"
    unrouted = client.post("/nowhere", json={"text": "a"})
    assert unrouted.status_code == 404 and unrouted.headers["Connection"] == "close"
    charset = client.post(
        "/translate", data=b'{"text": "a"}', content_type="application/json; charset=latin-1"
    )
    assert charset.status_code == 415 and charset.headers["Connection"] == "close"
    read = client.post("/translate", data="{", content_type="application/json")
    assert read.status_code == 400 and "Connection" not in read.headers  # body was read
    assert "Connection" not in client.get("/nowhere").headers  # nothing to read


@pytest.fixture
def make_small_app(settings_overrides, engines) -> Iterator[Flask]:
    application = create_app(
        {**settings_overrides, "max_body_bytes": 2048, "TESTING": True}, engine_factory=engines
    )
    assert application.extensions["registry"].wait_ready(30)
    yield application
    application.extensions["registry"].close()


# --- the page under the policy, in a browser ------------------------------------------------

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.mark.slow
@pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)), reason="needs chromium"
)
def test_the_page_translates_under_the_policy_in_chromium(app, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        browser.get(f"http://127.0.0.1:{server.server_port}/")
        browser.find_element(By.ID, "source-text").send_keys("我你他。")
        browser.find_element(By.ID, "translate-btn").click()
        output = browser.find_element(By.ID, "target-text")
        WebDriverWait(browser, 15, poll_frequency=0.05).until(lambda _: output.text.strip())
        assert browser.execute_script("return getComputedStyle(document.body).fontFamily"), (
            "the stylesheet did not apply"
        )
        messages = [entry["message"] for entry in browser.get_log("browser")]
        assert not [m for m in messages if "Content Security Policy" in m], messages
    finally:
        browser.quit()
        server.shutdown()
