#!/usr/bin/env python
"""Drive a running service over HTTP on loopback and report throughput and latency.

    make serve &                                   # or any running instance
    make loadtest                                  # writes the dev split, then runs

Texts come from the demo model's dev split (``build/demo/dev.tsv``, written by
``scripts/train_demo_model.py --stage split``), sentences the model never saw in
training, grouped one to three per request for a mix of lengths.

For each concurrency level (default 1, 4, 16, 64) it runs a cold-cache phase (the same
texts at every level, sent with ``Cache-Control: no-cache`` so that every sentence goes
through the model) and a warm-cache phase (a small set of texts, translated once
beforehand, repeated: every sentence is a cache hit). Each phase is bounded by a request
count and a time limit. Clients keep one HTTP/1.1 connection each. Reports requests/s,
sentences/s, p50/p95/p99 latency, errors by status and the server's peak RSS; the last
line printed is JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from config import ROOT

DEFAULT_PAIRS = ROOT / "build" / "demo" / "dev.tsv"


class Client:
    """One keep-alive connection; reconnects after errors."""

    def __init__(self, url: str, timeout: float) -> None:
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: dict | None = None, no_cache: bool = False
    ) -> tuple[int, dict | None]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        if no_cache:
            headers["Cache-Control"] = "no-cache"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            return 0, None
        try:
            return response.status, json.loads(payload)
        except ValueError:
            return response.status, None


def load_texts(path: Path, seed: int) -> list[str]:
    """Chinese sides of a pairs file, shuffled, de-duplicated: one to three sentences each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    zh = list(dict.fromkeys(ln.split("\t")[1] for ln in lines if ln.count("\t") >= 1))
    rng = random.Random(seed)
    rng.shuffle(zh)
    texts, i = [], 0
    while i < len(zh):
        n = rng.choice((1, 1, 1, 2, 3))  # mostly single sentences, some short paragraphs
        texts.append("".join(zh[i : i + n]))
        i += n
    return texts


def count_sentences(text: str) -> int:
    return max(1, sum(text.count(m) for m in "。！？!?"))


class RssWatcher(threading.Thread):
    """Poll /healthz for the server's RSS while a phase runs."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.client = Client(url, 5)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.25)

    def sample(self) -> None:
        status, body = self.client.request("GET", "/healthz")
        if status == 200 and body:
            memory = body.get("memory_usage", {})
            # The whole service: this process and its engine processes, where reported.
            now = memory.get("total_rss_bytes", memory.get("rss_bytes", 0))
            peak = memory.get("total_peak_rss_bytes", memory.get("peak_rss_bytes", 0))
            self.peak = max(self.peak, peak, now)


def run_phase(
    url: str,
    texts: list[str],
    concurrency: int,
    time_limit: float,
    timeout: float,
    no_cache: bool = False,
) -> dict:
    """Send every text once, *concurrency* at a time, until done or *time_limit* passes."""
    lock = threading.Lock()
    queue = iter(texts)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    sentences = 0
    deadline = time.monotonic() + time_limit

    def client_loop() -> None:
        nonlocal sentences
        client = Client(url, timeout)
        while time.monotonic() < deadline:
            with lock:
                text = next(queue, None)
            if text is None:
                return
            started = time.perf_counter()
            status, body = client.request("POST", "/translate", {"text": text}, no_cache)
            elapsed = time.perf_counter() - started
            ok = status == 200 and body is not None and body.get("success") is True
            with lock:
                statuses[status if ok or status else 0] += 1
                if ok:
                    latencies.append(elapsed)
                    sentences += count_sentences(text)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(client_loop)
    wall = time.perf_counter() - started
    return _summary(latencies, statuses, sentences, wall, concurrency)


def _summary(
    latencies: list[float], statuses: Counter, sentences: int, wall: float, concurrency: int
) -> dict:
    ms = sorted(1000 * x for x in latencies)

    def pct(p: float) -> float | None:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 2) if ms else None

    return {
        "concurrency": concurrency,
        "requests": sum(statuses.values()),
        "ok": len(ms),
        "seconds": round(wall, 2),
        "requests_per_s": round(len(ms) / wall, 2) if wall else 0,
        "sentences_per_s": round(sentences / wall, 2) if wall else 0,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
        "errors": {str(k): v for k, v in statuses.items() if k != 200},
    }


def summarize(results: list[dict]) -> list[dict]:
    """Per cache state and level: medians over rounds, and the batching gain over c=1."""
    keys = ("requests_per_s", "sentences_per_s", "p50_ms", "p95_ms", "p99_ms")
    base = {
        r["round"]: r["sentences_per_s"]
        for r in results
        if r["cache"] == "cold" and r["concurrency"] == 1
    }
    out = []
    for cache in ("cold", "warm"):
        for level in sorted({r["concurrency"] for r in results}):
            rows = [r for r in results if r["cache"] == cache and r["concurrency"] == level]
            row: dict = {"cache": cache, "concurrency": level}
            for key in keys:
                values = [r[key] for r in rows if r[key] is not None]
                row[key] = round(statistics.median(values), 2) if values else None
            if cache == "cold" and base:
                gains = [r["sentences_per_s"] / base[r["round"]] for r in rows if base[r["round"]]]
                row["gain_vs_1"] = round(statistics.median(gains), 2) if gains else None
            row["errors"] = dict(sum((Counter(r["errors"]) for r in rows), Counter()))
            out.append(row)
    return out


def _print_row(row: dict) -> None:
    gain = f"  gain {row['gain_vs_1']}x" if row.get("gain_vs_1") else ""
    print(
        f"{row['cache']:<5} c={row['concurrency']:<3} {row['requests_per_s']:>8.1f} req/s "
        f"{row['sentences_per_s']:>8.1f} sent/s  p50 {row['p50_ms']} ms  "
        f"p95 {row['p95_ms']} ms  p99 {row['p99_ms']} ms  errors {row['errors']}{gain}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--concurrency", default="1,4,16,64")
    parser.add_argument("--requests", type=int, default=400, help="cold requests per level")
    parser.add_argument("--warm-requests", type=int, default=2000, help="warm requests per level")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds", type=int, default=3, help="repeat the sweep; report medians (noisy hosts)"
    )
    parser.add_argument(
        "--wait-ready",
        type=float,
        default=120.0,
        help="seconds to wait for /readyz before giving up",
    )
    args = parser.parse_args(argv)

    probe = Client(args.url, 5)
    deadline = time.monotonic() + args.wait_ready
    status, _ = probe.request("GET", "/readyz")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        status, _ = probe.request("GET", "/readyz")
    if status != 200:
        print(
            f"{args.url}/readyz answered {status or 'nothing'}: start the service first",
            file=sys.stderr,
        )
        return 1
    if not args.pairs.is_file():
        print(f"{args.pairs} not found: run `make loadtest` or pass --pairs", file=sys.stderr)
        return 1
    texts = load_texts(args.pairs, args.seed)
    levels = [int(c) for c in args.concurrency.split(",")]
    warm_set = texts[:50]
    for text in warm_set:  # prime the cache for the warm phases
        probe.request("POST", "/translate", {"text": text})
    # Every level gets the same cold texts, so their throughputs compare like with like.
    cold = [texts[i % len(texts)] for i in range(args.requests)]
    warm = [warm_set[i % len(warm_set)] for i in range(args.warm_requests)]
    watcher = RssWatcher(args.url)
    watcher.start()
    results = []
    for round_ in range(args.rounds):
        for level in levels:
            for cache, texts_, no_cache in (("cold", cold, True), ("warm", warm, False)):
                phase = run_phase(args.url, texts_, level, args.time_limit, args.timeout, no_cache)
                results.append({"cache": cache, "round": round_, **phase})
                _print_row(results[-1])
    watcher.stop.set()
    watcher.sample()
    summary = summarize(results)
    print("medians over rounds; gain = cold sentences/s over concurrency 1, paired by round")
    for row in summary:
        _print_row(row)
    report = {"url": args.url, "rounds": args.rounds, "summary": summary, "results": results}
    print(json.dumps({**report, "server_peak_rss_mb": round(watcher.peak / 2**20, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
