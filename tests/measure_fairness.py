"""Fairness under a greedy client: 8 normal clients (one sentence) against one client
sending 50-item lists continuously, on the fake engine with 2 ms per sentence.

    .venv/bin/python tests/measure_fairness.py [--seconds 6] [--greedy-threads 4]

Not a test (pytest does not collect it): a measurement, run from the repository root;
it imports the fake engine from tests/ beside it.

Each client is one address (REMOTE_ADDR through Flask's test client); every request
says Cache-Control: no-cache, and texts are random so nothing is deduplicated.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from fakes import FakeEngines

from app import create_app
from toolchain.tiny import LEXICON

CHARS = "".join(LEXICON)
PER_SENTENCE_S = 0.002


def sentence(rng: random.Random) -> str:
    return "".join(rng.choice(CHARS) for _ in range(8)) + "。"


def build_app(tmp: Path, extra: dict | None = None):
    engines = FakeEngines()
    app = create_app(
        {
            "model_dir": str(tmp / "fake-zh-en"),
            "log_dir": str(tmp / "logs"),
            "log_level": "WARNING",
            "intra_op_threads": 1,
            "TESTING": True,
            **(extra or {}),
        },
        engine_factory=engines,
    )
    registry = app.extensions["registry"]
    assert registry.wait_ready(30)
    engine = engines.engine

    def slow(texts, options):
        time.sleep(PER_SENTENCE_S * len(texts))
        return engine.code(texts, options)

    engine.respond = slow
    return app, registry


def client_loop(app, addr, items, stop, out, seed):
    rng = random.Random(seed)
    client = app.test_client()
    while not stop.is_set():
        texts = [sentence(rng) for _ in range(items)]
        body = {"text": texts if items > 1 else texts[0]}
        started = time.perf_counter()
        response = client.post(
            "/translate",
            json=body,
            headers={"Cache-Control": "no-cache"},
            environ_base={"REMOTE_ADDR": addr},
        )
        elapsed = time.perf_counter() - started
        out.append((response.status_code, elapsed))


def run(app, seconds, normal, greedy_threads):
    stop = threading.Event()
    normal_out: list = []
    greedy_out: list = []
    threads = [
        threading.Thread(
            target=client_loop,
            args=(app, f"10.0.0.{i + 1}", 1, stop, normal_out, i),
            name=f"normal-{i}",
        )
        for i in range(normal)
    ]
    threads += [
        threading.Thread(target=client_loop, args=(app, "10.0.9.9", 50, stop, greedy_out, 1000 + i))
        for i in range(greedy_threads)
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(60)
    return normal_out, greedy_out


def summary(results, seconds, items):
    if not results:
        return {}
    ok = [e for s, e in results if s == 200]
    lat = sorted(ok) or [float("nan")]
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0]] * 99
    return {
        "requests": len(results),
        "success": round(len(ok) / len(results), 4),
        "statuses": dict(Counter(s for s, _ in results)),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "sentences_per_s": round(len(ok) * items / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--greedy-threads", type=int, default=24)
    parser.add_argument("--label", default="")
    parser.add_argument("--brief", action="store_true")
    parser.add_argument("--rate-limit", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extra = {"rate_limit": args.rate_limit} if args.rate_limit else {}
        app, registry = build_app(Path(tmp), extra)
        try:
            run(app, 1, 8, 0)  # warm-up
            unloaded, _ = run(app, args.seconds, 8, 0)
            loaded, greedy = run(app, args.seconds, 8, args.greedy_threads)
        finally:
            registry.close()
    report = {
        "label": args.label,
        "greedy_threads": args.greedy_threads,
        "normal_unloaded": summary(unloaded, args.seconds, 1),
        "normal_loaded": summary(loaded, args.seconds, 1),
        "greedy": summary(greedy, args.seconds, 50),
    }
    un, lo = report["normal_unloaded"], report["normal_loaded"]
    report["p99_ratio"] = round(lo["p99_ms"] / un["p99_ms"], 2)
    if args.brief:
        g = report["greedy"]
        print(
            f"{args.label:6} greedy_threads={args.greedy_threads:2} "
            f"unloaded p50={un['p50_ms']} p99={un['p99_ms']} | loaded ok={lo['success']} "
            f"p50={lo['p50_ms']} p99={lo['p99_ms']} n={lo['requests']} "
            f"ratio={report['p99_ratio']} | greedy {g['sentences_per_s']} sent/s {g['statuses']}",
            flush=True,
        )
    else:
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
