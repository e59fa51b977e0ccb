"""The HTTP API through Flask's test client: every status code and the envelope."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import pytest
from fakes import Gate
from helpers import wait_until

from app import create_app
from web.logs import flush_logging


@pytest.fixture
def make_app(settings_overrides, engines):
    """Build an app with extra settings on the fake engine; close it afterwards."""
    made = []

    def build(**overrides):
        application = create_app(
            {**settings_overrides, **overrides, "TESTING": True}, engine_factory=engines
        )
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["registry"].close()


def _error(response) -> dict:
    body = response.get_json()
    assert body["success"] is False, body
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return body["error"]


def test_translate_string(client):
    response = client.post("/translate", json={"text": "我你他。"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    assert isinstance(body["result"], str) and body["result"]
    assert response.headers["Content-Type"].startswith("application/json")


def test_translate_list_keeps_order_and_shape(client):
    texts = ["我你他。", "", "already English 123", "买卖。"]
    response = client.post("/translate", json={"text": texts})
    assert response.status_code == 200
    result = response.get_json()["result"]
    assert len(result) == 4
    assert result[1] == ""
    assert result[2] == "already English 123"
    single = [client.post("/translate", json={"text": t}).get_json()["result"] for t in texts]
    assert result == single


def test_beam_option_accepted(client):
    response = client.post("/translate", json={"text": "我你。", "options": {"beam_size": 4}})
    assert response.status_code == 200
    assert response.get_json()["result"]


def test_cache_control_no_cache_bypasses_the_cache(app, client):
    cache = app.extensions["registry"].default.cache
    client.post("/translate", json={"text": "他我你。"})
    hits = cache.stats()["hits"]
    response = client.post(
        "/translate", json={"text": "他我你。"}, headers={"Cache-Control": "no-cache"}
    )
    assert response.status_code == 200 and response.get_json()["result"]
    assert cache.stats()["hits"] == hits
    client.post("/translate", json={"text": "他我你。"})
    assert cache.stats()["hits"] == hits + 1


def test_utf8_and_emoji_pass_through(client):
    response = client.post("/translate", json={"text": "😀 ok"})
    assert response.get_json()["result"] == "😀 ok"
    assert "😀".encode() in response.data  # raw UTF-8 in the body, not \\u escapes


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
        ({"json": ["a list"]}, 400, "bad_request"),
        ({"json": {"txt": "你好"}}, 400, "bad_request"),
        ({"json": {"text": 5}}, 400, "bad_request"),
        ({"json": {"text": ["ok", None]}}, 400, "bad_request"),
        ({"json": {"text": "你好", "options": {"beam_size": 99}}}, 400, "bad_request"),
        ({"json": {"text": "你好", "options": {"beams": 2}}}, 400, "bad_request"),
        ({"data": "text=你好", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": b"\xff\xfe", "content_type": "application/json"}, 400, "bad_request"),
    ],
)
def test_client_errors(client, kwargs, status, code):
    response = client.post("/translate", **kwargs)
    assert response.status_code == status
    assert _error(response)["code"] == code


def test_text_over_char_limit_is_413_with_limit(client, app):
    limit = app.extensions["settings"].max_chars
    response = client.post("/translate", json={"text": "好" * (limit + 1)})
    assert response.status_code == 413
    error = _error(response)
    assert error["code"] == "text_too_long"
    assert str(limit) in error["message"]


def test_too_many_items_is_413(client, app):
    items = ["好"] * (app.extensions["settings"].max_batch_items + 1)
    response = client.post("/translate", json={"text": items})
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"


def test_body_over_byte_limit_is_413(make_app):
    app = make_app(max_body_bytes=2048)
    response = app.test_client().post("/translate", json={"text": "a" * 5000})
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"


def test_blocked_content_is_422(make_app):
    app = make_app(blocked_words=["secret"])
    assert app.extensions["registry"].wait_ready(60)
    response = app.test_client().post("/translate", json={"text": "top secret 文件"})
    # The no-Chinese shortcut does not apply here: the text has Chinese, the output
    # keeps the Latin span "top secret" verbatim, so the policy must fire.
    assert response.status_code == 422
    assert _error(response)["code"] == "blocked_content"


def test_wrong_method_and_unknown_path_get_the_envelope(client):
    response = client.get("/translate")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
    response = client.post("/api/v2/nothing", json={})
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"
    assert response.headers["Content-Type"].startswith("application/json")


def test_queue_full_is_503_with_retry_after(make_app, engines):
    # One batch worker: held at the gate, it leaves the second request in the queue.
    app = make_app(queue_size=1, cache_size=0, batch_workers=1)
    translator = app.extensions["registry"].default
    assert translator.wait_ready(60)
    gate = Gate(engines.engine)
    client = app.test_client()
    try:
        first = threading.Thread(
            target=client.post, args=("/translate",), kwargs={"json": {"text": "我。"}}
        )
        first.start()
        assert gate.entered.wait(10)  # the worker is now busy with the first request
        second = threading.Thread(
            target=client.post, args=("/translate",), kwargs={"json": {"text": "你。"}}
        )
        second.start()
        wait_until(lambda: translator.queue_depth >= 1, what="second request queued")
        response = client.post("/translate", json={"text": "他。"})
        assert response.status_code == 503
        assert _error(response)["code"] == "queue_full"
        assert int(response.headers["Retry-After"]) >= 1
    finally:
        gate.release.set()
        first.join(10)
        second.join(10)


def test_deadline_is_504(make_app, engines):
    app = make_app(request_timeout_s=0.2)
    assert app.extensions["registry"].wait_ready(60)
    gate = Gate(engines.engine)
    try:
        response = app.test_client().post("/translate", json={"text": "我你。"})
        assert response.status_code == 504
        assert _error(response)["code"] == "deadline_exceeded"
    finally:
        gate.release.set()


def test_unexpected_error_is_500_generic_and_logged(client, app, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise KeyError("internal detail 42")

    monkeypatch.setattr(app.extensions["registry"].default, "translate", explode)
    with caplog.at_level(logging.ERROR):
        response = client.post("/translate", json={"text": "我。"})
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "42" not in error["message"]
    assert "internal detail 42" in caplog.text


def test_engine_failure_is_500_and_service_keeps_working(client, engines):
    engine = engines.engine
    calls = []

    def fail_once(texts, options):
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("engine exploded")
        return engine.code(texts, options)

    engine.respond = fail_once
    response = client.post("/translate", json={"text": "他们。"})
    assert response.status_code == 500
    assert _error(response)["code"] == "translation_failed"
    response = client.post("/translate", json={"text": "他们。"})
    assert response.status_code == 200


def test_request_id_echoed_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="translator.requests"):
        response = client.post(
            "/translate", json={"text": "我。"}, headers={"X-Request-ID": "abc-123"}
        )
    assert response.headers["X-Request-ID"] == "abc-123"
    line = next(r.getMessage() for r in caplog.records if "abc-123" in r.getMessage())
    assert "status=200" in line and "sentences=1" in line and "latency_ms=" in line
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32


def test_request_log_goes_to_rotating_file(client, app):
    client.post("/translate", json={"text": "我。"}, headers={"X-Request-ID": "file-check"})
    flush_logging()  # a writer thread does the file I/O
    log_file = app.extensions["settings"].log_path / "translator.log"
    assert "request_id=file-check" in log_file.read_text(encoding="utf-8")


def test_healthz_fields(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    for key in (
        "status",
        "timestamp",
        "cpu_usage",
        "memory_usage",
        "uptime",
        "model",
        "queue_depth",
    ):
        assert key in body
    assert body["status"] == "ok"
    assert body["memory_usage"]["rss_bytes"] > 10_000_000
    assert 0 <= body["memory_usage"]["host_percent"] <= 100
    assert body["model"] == "fake-zh-en"
    assert body["directions"]["zh-en"]["model_status"] == "ready"


def test_readyz_before_and_after_loading(make_app, engines):
    engines.gate = threading.Event()  # the model loads only once the gate opens
    app = make_app()
    client = app.test_client()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert _error(response)["code"] == "not_ready"
        assert client.get("/healthz").status_code == 200  # loading is alive, not dead
        blocked = client.post("/translate", json={"text": "我。"})
        assert blocked.status_code == 503 and "Retry-After" in blocked.headers
        engines.gate.set()
        assert app.extensions["registry"].wait_ready(60)
        assert client.get("/readyz").status_code == 200
    finally:
        engines.gate.set()


def test_probes_report_a_dead_worker(client, app, monkeypatch):
    translator = app.extensions["registry"].default
    health = translator.health()
    # What the translator reports once a batch worker thread is gone.
    monkeypatch.setattr(translator, "health", lambda: replace(health, worker_alive=False))
    monkeypatch.setattr(type(translator), "ready", property(lambda self: False))
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").get_json()["status"] == "unhealthy"


def test_failed_model_load_is_reported(settings_overrides, tmp_path):
    app = create_app(
        {**settings_overrides, "model_dir": str(tmp_path / "missing"), "TESTING": True}
    )
    registry = app.extensions["registry"]
    assert registry.wait_ready(10) is False
    client = app.test_client()
    response = client.post("/translate", json={"text": "我。"})
    assert response.status_code == 503
    # The reason (a path here) stays in the log; a failure that lasts has no Retry-After.
    assert _error(response)["message"] == "The model failed to load; see the service log."
    assert "Retry-After" not in response.headers
    assert "missing" not in client.get("/readyz").get_data(as_text=True)
    assert client.get("/healthz").status_code == 503


def test_metrics_exposes_requests_batches_and_gauges(client):
    client.post("/translate", json={"text": "我你他。"})
    client.get("/nowhere")
    body = client.get("/metrics").get_data(as_text=True)
    assert 'translator_requests_total{path="/translate",status="200"} 1.0' in body
    assert 'translator_requests_total{path="unmatched",status="404"} 1.0' in body
    assert "translator_request_seconds_count 1.0" in body
    assert "translator_sentences_total 1.0" in body
    assert "translator_batch_sentences_count" in body
    assert "translator_ready 1.0" in body
    assert "translator_queue_depth 0.0" in body
    assert "process_resident_memory_bytes" in body
