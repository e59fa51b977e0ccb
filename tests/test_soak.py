"""The soak tool, for a few seconds against a werkzeug server on the fake engine."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeEngines
from werkzeug.serving import make_server

from config import load_settings
from toolchain import soak
from toolchain.tiny import corpus


@pytest.fixture
def served(settings_overrides: dict) -> Iterator[str]:
    from app import create_app

    app = create_app(settings_overrides, engine_factory=FakeEngines())
    registry = app.extensions["registry"]
    assert registry.wait_ready(30)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="soak-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        registry.close()


@pytest.fixture
def pairs(tmp_path: Path) -> Path:
    zh, en = corpus(300, seed=5)
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{e}\t{z}\n" for z, e in zip(zh, en, strict=True)), "utf-8")
    return path


def test_every_hostile_body_has_its_planned_status(client):
    settings = load_settings()
    shots = soak.hostile_shots(
        settings.max_body_bytes, settings.max_chars, settings.max_batch_items
    )
    assert len({s.kind for s in shots}) == len(shots) >= 12
    for shot in shots:
        response = client.post("/translate", data=shot.body, content_type=shot.content_type)
        assert response.status_code in shot.expect, (shot.kind, response.get_data()[:200])
        assert response.get_json()["success"] is False, shot.kind


def test_rss_drift_is_the_last_sample_against_the_first_after_warm_up():
    mb = 1 << 20
    full = [
        soak.Sample(t, rss * mb, 10, 10) for t, rss in ((0, 100), (5, 200), (10, 202), (15, 210))
    ]
    drift = soak.rss_drift(full, warmup_s=5)
    assert (drift["first_mb"], drift["last_mb"], drift["peak_mb"]) == (200.0, 210.0, 210.0)
    assert drift["drift_pct"] == 5.0 and drift["series_mb"][1] == [5, 200.0]
    assert soak.rss_drift(full[:2], warmup_s=5)["drift_pct"] is None
    # While the cache is still filling, its growth is not drift.
    filling = [
        soak.Sample(t, rss * mb, min(t, 10), 10)
        for t, rss in ((0, 100), (5, 150), (10, 200), (15, 202))
    ]
    drift = soak.rss_drift(filling, warmup_s=5)
    assert drift["cache_full_at_s"] == drift["settled_from_s"] == 10
    assert drift["drift_pct"] == 1.0


def test_backpressure_and_errors_are_counted_apart():
    tally = soak.Tally()
    ok = b'{"success": true, "result": "x"}'
    normal = soak.Shot("hit", b"{}")
    hostile = soak.Shot("nan", b"{", frozenset({400}))
    for shot, status, payload in [
        (normal, 200, ok),
        (normal, 200, b"{}"),
        (normal, 429, b""),
        (normal, 0, b""),
        (hostile, 400, b""),
        (hostile, 500, b""),
    ]:
        tally.record(shot, status, payload, 0.01)
    assert tally.planned == {"400 nan": 1} and tally.backpressure == {"429 hit": 1}
    assert tally.unplanned == {"200-without-envelope hit": 1, "0 hit": 1, "500 nan": 1}
    assert len(tally.latencies["hit"]) == 1


def test_a_short_soak_reports_no_unplanned_error(served, pairs, capsys):
    args = ["--url", served, "--pairs", str(pairs), "--clients", "6", "--minutes", "0.08"]
    args += ["--sample-s", "0.5", "--warmup-s", "1", "--max-drift-pct", "50", "--timeout", "20"]
    code = soak.main(args)
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    with capsys.disabled():
        print("\n" + "\n".join(out.strip().splitlines()[:-1]))
    assert code == 0, report
    assert report["unplanned_total"] == 0 and report["unplanned_errors"] == {}
    assert 4 <= report["seconds"] < 15
    assert {"hit", "miss", "cold"} <= set(report["kinds"])
    planned = report["planned_4xx"]
    assert sum(planned.values()) > 0 and all(k[:3] in ("400", "413", "415") for k in planned)
    assert report["normal"]["count"] > 0 and report["normal"]["p99_ms"] is not None
    assert report["rss"]["samples"] >= 3 and report["rss"]["drift_pct"] is not None


def test_the_soak_is_bounded_by_a_request_count(served, pairs, capsys):
    args = ["--url", served, "--pairs", str(pairs), "--clients", "4", "--minutes", "5"]
    args += ["--max-requests", "40", "--sample-s", "0.2", "--warmup-s", "0"]
    assert soak.main(args) in (0, 1)  # drift over a fraction of a second means little
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["requests"] == 40 and report["seconds"] < 30
    assert report["unplanned_total"] == 0
