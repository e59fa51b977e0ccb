#!/usr/bin/env python
"""Soak a running service: N clients for M minutes over loopback, then errors, latency
and memory drift.

    make serve &                                   # or any running instance
    zh-en-translator soak --clients 64 --minutes 10

Each client keeps one HTTP/1.1 connection and sends a weighted mix: cache hits (a small
set translated beforehand), cache misses (sentences spliced from two of the pairs file's,
new to the cache, which keeps filling and evicting), cold requests (``Cache-Control:
no-cache``: every sentence through the model), long texts of a few thousand characters,
and hostile bodies (malformed JSON, invalid UTF-8, wrong types, deep nesting, lone
surrogates, oversize bodies and texts, too many items, a wrong media type), each with the
4xx it must get. Each client sends an ``X-Forwarded-For`` address of its own, which the
service reads when it trusts a proxy (``trusted_proxy_hops``). The run is bounded by
``--minutes`` and ``--max-requests``, each request by ``--timeout``. A sampler reads the
server's RSS and cache fill from ``/healthz`` every ``--sample-s``.

Reported: requests by kind; statuses of hostile bodies that got their planned 4xx,
counted apart from unplanned errors (any other status, a dropped connection, a 200
without the envelope, a failed ``/healthz``) and from refusals under load (429, 503 with
the queue full); p50/p99 of the normal requests; RSS drift, the last sample against the
first after the warm-up (``--warmup-s``, and longer while the cache is still filling).
The last line printed is JSON. Exit status 0 when there was no unplanned error and the
drift stayed under ``--max-drift-pct``, 1 otherwise, 2 when the service was not ready.
"""

# ruff: noqa: T201 - a command-line tool: printing its report is the point.
from __future__ import annotations

import argparse
import http.client
import json
import logging
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from config import ROOT, load_settings
from toolchain.loadtest import load_texts
from toolchain.soak_mix import Mix, Shot, hostile_shots, json_body

logger = logging.getLogger(__name__)

DEFAULT_PAIRS = ROOT / "build" / "demo" / "dev.tsv"
# A full queue (503 queue_full, 429 for a client over its share) or a rate limit (429):
# refusals by design, with Retry-After, counted apart from errors.
BACKPRESSURE = frozenset({429, 503})


class Connection:
    """One keep-alive connection to the service; reopened after an error or a close."""

    def __init__(self, url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.timeout = timeout
        self.headers = headers or {}
        self._conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, shot: Shot | None = None) -> tuple[int, bytes]:
        """The status (0: no answer) and body of one request."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = dict(self.headers)
        if shot is not None:
            headers["Content-Type"] = shot.content_type
            if shot.no_cache:
                headers["Cache-Control"] = "no-cache"
        try:
            self._conn.request(method, path, body=shot.body if shot else None, headers=headers)
            response = self._conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            logger.debug("request failed: %s", exc)
            self.close()
            return 0, b""
        if response.will_close:
            self.close()
        return response.status, payload

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass
class Tally:
    """What the clients saw, under one lock."""

    kinds: Counter[str] = field(default_factory=Counter)
    planned: Counter[str] = field(default_factory=Counter)  # "413 oversize_body": n
    unplanned: Counter[str] = field(default_factory=Counter)  # "0 cold": n
    backpressure: Counter[str] = field(default_factory=Counter)  # "429 long": n
    latencies: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, shot: Shot, status: int, payload: bytes, seconds: float) -> None:
        ok = status in shot.expect and (shot.hostile or _is_success(payload))
        with self.lock:
            self.kinds[shot.kind] += 1
            if not ok and status in BACKPRESSURE:
                self.backpressure[f"{status} {shot.kind}"] += 1
            elif not ok:
                label = str(status) if status != 200 else "200-without-envelope"
                self.unplanned[f"{label} {shot.kind}"] += 1
            elif shot.hostile:
                self.planned[f"{status} {shot.kind}"] += 1
            else:
                self.latencies.setdefault(shot.kind, []).append(seconds)

    @property
    def requests(self) -> int:
        return sum(self.kinds.values())


def _is_success(payload: bytes) -> bool:
    try:
        body = json.loads(payload)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("success") is True and "result" in body


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the soak started
    rss: int
    cache_entries: int
    cache_capacity: int


class RssSampler(threading.Thread):
    """Reads RSS and cache fill from /healthz every *every* seconds, on a new connection
    each time (a kept-alive one would race the server's keep-alive timeout)."""

    def __init__(self, url: str, every: float) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.url = url
        self.every = every
        self.started = time.monotonic()
        self.samples: list[Sample] = []
        self.failures: Counter[int] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.every)

    def sample(self) -> None:
        conn = Connection(self.url, 10)
        status, payload = conn.send("GET", "/healthz")
        conn.close()
        try:
            body = json.loads(payload) if status == 200 else {}
            caches = [d["cache"] for d in body.get("directions", {}).values()]
            sample = Sample(
                time.monotonic() - self.started,
                int(body["memory_usage"]["rss_bytes"]),
                sum(int(c["entries"]) for c in caches),
                sum(int(c["capacity"]) for c in caches),
            )
        except (ValueError, KeyError, TypeError):
            self.failures[status] += 1
            return
        self.samples.append(sample)


def run_clients(
    url: str, mix: Mix, clients: int, seconds: float, max_requests: int, timeout: float
) -> tuple[Tally, float]:
    """Run *clients* loops until *seconds* pass or *max_requests* were sent."""
    tally = Tally()
    budget = iter(range(max_requests))
    budget_lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client_loop(index: int) -> None:
        # An address of its own: behind a proxy (trusted_proxy_hops) the service tells the
        # clients apart, as it would tell users apart; otherwise they share 127.0.0.1.
        address = f"10.77.{index // 250}.{index % 250 + 1}"
        rng, conn = mix.rng(index), Connection(url, timeout, {"X-Forwarded-For": address})
        while time.monotonic() < deadline:
            with budget_lock:
                if next(budget, None) is None:
                    break
            shot = mix.draw(rng)
            started = time.perf_counter()
            status, payload = conn.send("POST", "/translate", shot)
            tally.record(shot, status, payload, time.perf_counter() - started)
        conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients, thread_name_prefix="soak") as pool:
        for future in [pool.submit(client_loop, i) for i in range(clients)]:
            future.result()
    return tally, time.perf_counter() - started


def _percentiles(seconds: list[float]) -> dict[str, float | None]:
    ms = sorted(1000 * s for s in seconds)

    def pct(p: float) -> float | None:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 1) if ms else None

    return {"count": len(ms), "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0)}


def rss_drift(samples: list[Sample], warmup_s: float) -> dict[str, Any]:
    """The last RSS sample against the first one after the warm-up, in percent.

    The warm-up lasts *warmup_s*, and longer while the translation cache is still filling:
    the RSS a bounded cache adds as it fills is not a leak; growth once it is full is.
    """
    full = next((s.seconds for s in samples if s.cache_entries >= s.cache_capacity), None)
    settled_from = max(warmup_s, full if full is not None else warmup_s)
    settled = [s.rss for s in samples if s.seconds >= settled_from]
    mb = [round(s.rss / 2**20, 1) for s in samples]
    report: dict[str, Any] = {
        "cache_full_at_s": None if full is None else round(full, 1),
        "settled_from_s": round(settled_from, 1),
        "first_mb": None,
        "last_mb": None,
        "peak_mb": max(mb, default=None),
        "drift_pct": None,
        "series_mb": [[round(s.seconds), m] for s, m in zip(samples, mb, strict=True)],
    }
    if len(settled) >= 2:
        first, last = settled[0], settled[-1]
        report["first_mb"] = round(first / 2**20, 1)
        report["last_mb"] = round(last / 2**20, 1)
        report["drift_pct"] = round(100 * (last - first) / first, 2)
    return report


def build_report(
    tally: Tally, wall: float, sampler: RssSampler, args: argparse.Namespace
) -> dict[str, object]:
    normal = [s for values in tally.latencies.values() for s in values]
    memory = rss_drift(sampler.samples, args.warmup_s)
    unplanned = sum(tally.unplanned.values()) + sum(sampler.failures.values())
    drift = memory["drift_pct"]
    return {
        "url": args.url,
        "clients": args.clients,
        "seconds": round(wall, 1),
        "requests": tally.requests,
        "requests_per_s": round(tally.requests / wall, 1) if wall else 0.0,
        "kinds": dict(sorted(tally.kinds.items())),
        "planned_4xx": dict(sorted(tally.planned.items())),
        "unplanned_errors": dict(sorted(tally.unplanned.items())),
        "healthz_failures": {f"healthz {k}": v for k, v in sampler.failures.items()},
        "unplanned_total": unplanned,
        "backpressure": dict(sorted(tally.backpressure.items())),
        "normal": _percentiles(normal),
        "by_kind": {k: _percentiles(v) for k, v in sorted(tally.latencies.items())},
        "rss": {**memory, "samples": len(sampler.samples)},
        "targets_met": unplanned == 0 and (drift is None or abs(drift) < args.max_drift_pct),
    }


def print_report(report: dict) -> None:
    normal, rss = report["normal"], report["rss"]
    print(
        f"{report['requests']} requests in {report['seconds']} s from {report['clients']} "
        f"clients ({report['requests_per_s']} req/s): {report['kinds']}"
    )
    print(f"planned 4xx (hostile bodies): {sum(report['planned_4xx'].values())}")
    for label, count in report["planned_4xx"].items():
        print(f"  {label}: {count}")
    print(f"unplanned errors: {report['unplanned_total']}")
    for label, count in {**report["unplanned_errors"], **report["healthz_failures"]}.items():
        print(f"  {label}: {count}")
    print(f"refused under load (429/503, by design): {sum(report['backpressure'].values())}")
    for label, count in report["backpressure"].items():
        print(f"  {label}: {count}")
    print(
        f"normal requests: {normal['count']}, p50 {normal['p50_ms']} ms, "
        f"p99 {normal['p99_ms']} ms, max {normal['max_ms']} ms"
    )
    for kind, figures in report["by_kind"].items():
        print(
            f"  {kind}: {figures['count']}, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
        )
    print(
        f"server RSS: {rss['first_mb']} MB at {rss['settled_from_s']} s (warm-up over; cache "
        f"full at {rss['cache_full_at_s']} s) -> {rss['last_mb']} MB at the end: drift "
        f"{rss['drift_pct']} %, peak {rss['peak_mb']} MB, {rss['samples']} samples"
    )
    print(json.dumps(report, ensure_ascii=False), flush=True)


def _wait_ready(url: str, seconds: float) -> bool:
    conn = Connection(url, 5)
    deadline = time.monotonic() + seconds
    while True:
        if conn.send("GET", "/readyz")[0] == 200:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="zh-en-translator soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--max-requests", type=int, default=10_000_000)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--sample-s", type=float, default=5.0, help="RSS sampling period")
    parser.add_argument("--warmup-s", type=float, default=60.0, help="before the first RSS sample")
    parser.add_argument("--max-drift-pct", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--wait-ready", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.minutes <= 0 or args.max_requests < 1:
        parser.error("--clients, --minutes and --max-requests must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not args.pairs.is_file():
        print(f"{args.pairs} not found: run `make loadtest` once or pass --pairs", file=sys.stderr)
        return 2
    if not _wait_ready(args.url, args.wait_ready):
        print(f"{args.url}/readyz is not 200: start the service first", file=sys.stderr)
        return 2
    settings = load_settings()  # the limits the hostile bodies cross
    hostile = hostile_shots(settings.max_body_bytes, settings.max_chars, settings.max_batch_items)
    mix = Mix(load_texts(args.pairs, args.seed), settings.max_chars, hostile, args.seed)
    primer = Connection(args.url, args.timeout)
    for text in mix.hot:  # the hits' texts, in the cache before the clock starts
        primer.send("POST", "/translate", Shot("prime", json_body({"text": text})))
    primer.close()
    sampler = RssSampler(args.url, args.sample_s)
    sampler.start()
    tally, wall = run_clients(
        args.url, mix, args.clients, args.minutes * 60, args.max_requests, args.timeout
    )
    sampler.stop.set()
    sampler.join(10)
    sampler.sample()  # the last one, after the load
    report = build_report(tally, wall, sampler, args)
    print_report(report)
    return 0 if report["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
