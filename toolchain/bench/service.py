#!/usr/bin/env python
"""This service against LibreTranslate 1.9.6 on the same model, over loopback HTTP.

    python scripts/bench_service.py --setup   # once: build/lt-venv (see argos.py)
    python scripts/bench_service.py --quick   # smoke run: c=1,4, short phases
    python scripts/bench_service.py           # full run: c=1,4,16,64, greedy and beam 4

Builds the Argos package from the shipped model (argos.py), starts this service (gunicorn,
config/settings.json) and LibreTranslate on free loopback ports and sends both the same
texts: Chinese sides of ``build/demo/dev.tsv``, normalised as this service does before
its model (Argos does none of it), one to three sentences a request. Per mode (greedy,
beam 4: LibreTranslate restarted with ``ARGOS_BEAM_SIZE``, this service given
``options.beam_size``) both first translate every text once; only the texts whose outputs
agree are timed (``outputs-MODE.tsv`` in ``--work`` has them all). Then per concurrency
level (one keep-alive connection per client) the phases alternate LibreTranslate, this
service, ``--rounds`` times, each bounded by a request count and a time limit, this
service's cache bypassed (``Cache-Control: no-cache``; LibreTranslate caches only the
previous request's text, and a phase never sends one text twice in a row). Peak RSS
covers each service's whole process tree (/proc). Then the offline figure (the same
sentences through ``engine.Engine`` from ``batch_workers`` threads, ``max_batch_size``
batches) and a cached sentence's p50 at concurrency 1. Prints a row per phase, then one
JSON line. Every process started is killed at the end, on error too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import signal
import statistics
import sys
import threading
import time
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from config import ROOT
from toolchain.bench import argos
from toolchain.bench.argos import MemoryWatcher, loopback, started
from toolchain.loadtest import Client, _summary

logger = logging.getLogger(__name__)

MODES = {"greedy": 1, "beam4": 4}
SPEC_KEYS = ("greedy_c1", "greedy_c16", "beam4_c1", "beam4_c16")
GROUP_SIZES = (1, 1, 1, 2, 3)  # mostly single sentences, some short paragraphs
Text = tuple[str, ...]  # the sentences of one request
Args = argparse.Namespace
SERVICE_SETTINGS = ("engine_processes", "engine_threads", "batch_workers", "max_batch_size")


# --- inputs ------------------------------------------------------------------------------


def normalised_sentences(pairs: Path, model_dir: Path) -> list[str]:
    """Unique Chinese sides of *pairs*, normalised as this service does before the model."""
    from text.normalize import SourcePreprocessor, clean_input

    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    prep = SourcePreprocessor(manifest["source_preprocessing"])
    zh = (ln.split("\t")[1] for ln in pairs.read_text(encoding="utf-8").splitlines() if "\t" in ln)
    return [s for s in dict.fromkeys(prep(clean_input(z)) for z in zh) if s]


def group_texts(sentences: list[str], seed: int, sizes: tuple = GROUP_SIZES) -> list[Text]:
    rng = random.Random(seed)
    order = list(sentences)
    rng.shuffle(order)
    texts, i = [], 0
    while i < len(order):
        n = rng.choice(sizes)
        texts.append(tuple(order[i : i + n]))
        i += n
    return texts


def joined(text: Text) -> str:
    return " ".join(text)  # the preprocessing turns "。" into ". ", so a space joins them


# --- the two services ------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    url: str
    memory: MemoryWatcher
    result_key: str

    def body(self, text: str, beam: int) -> dict:
        if self.name == "libretranslate":  # its beam is ARGOS_BEAM_SIZE, fixed per start
            return {"q": text, "source": "zh", "target": "en", "format": "text"}
        return {"text": text, "source": "zh", "target": "en", "options": {"beam_size": beam}}

    def output(self, status: int, body: dict | None) -> str | None:
        value = body.get(self.result_key) if status == 200 and isinstance(body, dict) else None
        return value if isinstance(value, str) else None


def drive(
    service: Service,
    texts: list[Text],
    beam: int,
    concurrency: int,
    limit_s: float,
    timeout: float,
    no_cache: bool = True,
) -> tuple[dict, dict[int, str]]:
    """Send each text once, *concurrency* at a time, until done or *limit_s* passes."""
    lock, queue = threading.Lock(), iter(enumerate(texts))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    outputs: dict[int, str] = {}
    sentences = 0
    deadline = time.monotonic() + limit_s

    def client_loop() -> None:
        nonlocal sentences
        client = Client(service.url, timeout)
        while time.monotonic() < deadline:
            with lock:
                index, text = next(queue, (-1, ()))
            if not text:
                return
            started_at = time.perf_counter()
            reply = client.request("POST", "/translate", service.body(joined(text), beam), no_cache)
            elapsed, out = time.perf_counter() - started_at, service.output(*reply)
            with lock:
                statuses[200 if out is not None else reply[0] or 0] += 1
                if out is not None:
                    latencies.append(elapsed)
                    sentences += len(text)
                    outputs.setdefault(index, out)

    service.memory.take()
    started_at = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(client_loop)
    summary = _summary(
        latencies, statuses, sentences, time.perf_counter() - started_at, concurrency
    )
    return {**summary, "peak_rss_mb": service.memory.take()}, outputs


def canonical(text: str) -> str:
    """What both services' post-processing leaves alone: case, spacing, final stop aside."""
    text = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return text.rstrip(" .!?;,。")


def agreement(ours: dict[int, str], theirs: dict[int, str]) -> tuple[dict, list[int]]:
    both = sorted(set(ours) & set(theirs))
    exact = sum(ours[i] == theirs[i] for i in both)
    agreed = [i for i in both if canonical(ours[i]) == canonical(theirs[i])]
    n = max(1, len(both))
    stats = {"compared": len(both), "identical": exact, "agreed": len(agreed)}
    return {
        **stats,
        "identical_fraction": round(exact / n, 3),
        "agreed_fraction": round(len(agreed) / n, 3),
    }, agreed


def cache_hit_p50_ms(service: Service, text: str, count: int, limit_s: float) -> float | None:
    """p50 latency of one cached sentence asked again and again at concurrency 1."""
    client = Client(service.url, 30)
    body = service.body(text, 1)
    if service.output(*client.request("POST", "/translate", body)) is None:  # fills the cache
        return None
    ms, deadline = [], time.monotonic() + limit_s
    while len(ms) < count and time.monotonic() < deadline:
        started_at = time.perf_counter()
        if service.output(*client.request("POST", "/translate", body)) is not None:
            ms.append(1000 * (time.perf_counter() - started_at))
    return round(statistics.median(ms), 2) if ms else None


def offline_engine(sentences: list[str], beam: int, limit_s: float) -> dict:
    """Sentences/s of ``engine.Engine`` fed as the service's batch workers feed it."""
    from config import load_settings
    from engine import Engine, GenerationOptions, ModelDir

    settings = load_settings()
    engine = Engine(
        ModelDir.load(settings.model_path), settings.engine_threads, settings.inter_op_threads
    )
    options, size = GenerationOptions(beam_size=beam), settings.max_batch_size
    engine.translate(sentences[:size], options)  # warm-up
    batches = iter([sentences[i : i + size] for i in range(0, len(sentences), size)])
    lock, done, deadline = threading.Lock(), [0], time.monotonic() + limit_s

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                batch = next(batches, None)
            if batch is None:
                return
            engine.translate(batch, options)
            with lock:
                done[0] += len(batch)

    started_at = time.perf_counter()
    with ThreadPoolExecutor(settings.batch_workers) as pool:
        for _ in range(settings.batch_workers):
            pool.submit(worker)
    seconds = time.perf_counter() - started_at
    per_s = done[0] / seconds if seconds else 0.0
    return {
        "sentences": done[0],
        "seconds": round(seconds, 2),
        "sentences_per_s": round(per_s, 2),
        "threads": settings.batch_workers,
        "batch": size,
    }


# --- report --------------------------------------------------------------------------------


def ratio(results: list[dict], mode: str, level: int, key: str = "requests_per_s") -> float | None:
    """This service's *key* over LibreTranslate's, paired by round, median over rounds."""
    rows = [r for r in results if r["mode"] == mode and r["concurrency"] == level]
    pairs = []
    for round_ in sorted({r["round"] for r in rows}):
        by = {r["service"]: r[key] for r in rows if r["round"] == round_}
        if by.get("libretranslate") and by.get("service") is not None:
            pairs.append(by["service"] / by["libretranslate"])
    return round(statistics.median(pairs), 3) if pairs else None


def final_line(results: list[dict], offline: dict, cache_ms: float | None, extra: dict) -> dict:
    levels = sorted({r["concurrency"] for r in results})
    by_level = {f"{m}_c{c}": ratio(results, m, c) for m in MODES for c in levels}
    base, vs_offline = offline.get("greedy", {}).get("sentences_per_s"), {}
    for c in levels:
        ours = [
            r["sentences_per_s"]
            for r in results
            if (r["service"], r["mode"], r["concurrency"]) == ("service", "greedy", c)
        ]
        vs_offline[f"c{c}"] = round(statistics.median(ours) / base, 3) if ours and base else None
    return {
        "vs_libretranslate": {k: by_level.get(k) for k in SPEC_KEYS},
        "vs_offline_engine_c16": vs_offline.get("c16"),
        "cache_hit_p50_ms": cache_ms,
        "vs_libretranslate_by_level": by_level,
        "vs_libretranslate_sentences": {
            f"{m}_c{c}": ratio(results, m, c, "sentences_per_s") for m in MODES for c in levels
        },
        "vs_offline_engine": vs_offline,
        "offline_engine": offline,
        **extra,
        "results": results,
    }


def print_row(row: dict) -> None:
    errors = f"  errors {row['errors']}" if row["errors"] else ""
    print(
        f"{row['mode']:<7}c={row['concurrency']:<3}{row['service']:<15}round {row['round']}"
        f"{row['requests_per_s']:>8.1f} req/s{row['sentences_per_s']:>8.1f} sent/s"
        f"  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms  peak RSS {row['peak_rss_mb']} MB"
        f"  ok {row['ok']}/{row['requests']}{errors}",
        flush=True,
    )


# --- orchestration -------------------------------------------------------------------------


def run_mode(mode: str, ours: Service, lt: Service, texts: list[Text], args: Args) -> tuple:
    """Warm both up on every text, keep those they agree on, then the timed phases."""
    beam = MODES[mode]
    _, theirs = drive(lt, texts, beam, 4, args.warmup_limit, args.timeout)
    _, mine = drive(ours, texts, beam, 4, args.warmup_limit, args.timeout)
    stats, agreed = agreement(mine, theirs)
    logger.info("%s: outputs agree on %d of %d texts", mode, stats["agreed"], stats["compared"])
    lines = [f"{joined(texts[i])}\t{mine[i]}\t{theirs[i]}" for i in sorted(set(mine) & set(theirs))]
    (args.work / f"outputs-{mode}.tsv").write_text(
        "source\tservice\tlibretranslate\n" + "\n".join(lines)
    )
    kept = [texts[i] for i in agreed] if not args.all_texts and len(agreed) >= 10 else texts
    if kept is texts and not args.all_texts:
        logger.warning("%s: too few agreeing outputs; timing every text", mode)
    stats["timed_texts"] = len(kept)
    cold = [kept[i % len(kept)] for i in range(args.requests)]
    rows = []
    for level in args.levels:
        for round_ in range(1, args.rounds + 1):
            for service in (lt, ours):  # alternating: LibreTranslate, this service, ...
                summary, _ = drive(service, cold, beam, level, args.time_limit, args.timeout)
                rows.append({"mode": mode, "service": service.name, "round": round_, **summary})
                print_row(rows[-1])
    return rows, stats, cold


def _start_ours(args: Args) -> tuple[str, contextlib.AbstractContextManager]:
    url, port = loopback()
    env = {**os.environ, "TRANSLATOR_HOST": "127.0.0.1", "TRANSLATOR_PORT": str(port)}
    env["TRANSLATOR_LOG_DIR"] = str(args.work / "logs")
    # zh→en only, as LibreTranslate here: a second direction's engine is memory it lacks.
    env["TRANSLATOR_EXTRA_MODEL_DIRS"] = "[]"
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
    return url, started(cmd, env, args.work / "service.log", url, "/readyz", args.startup_timeout)


def _start_lt(args: Args, mode: str, threads: int) -> tuple[str, contextlib.AbstractContextManager]:
    url, port = loopback()
    env = argos.lt_environment(args.work / "lt-home", MODES[mode], threads)
    cmd = argos.lt_command(args.lt_venv, port, args.lt_threads)
    log = args.work / f"libretranslate-{mode}.log"
    return url, started(cmd, env, log, url, "/languages", args.startup_timeout)


def bench(args: Args) -> dict:
    from config import load_settings

    settings = load_settings()
    model_dir, threads, python = settings.model_path, settings.engine_threads, args.lt_python
    package = argos.build_package(model_dir, args.work / "argos", python)
    argos.install_package(python, package, argos.lt_environment(args.work / "lt-home", 1, threads))
    sizes = (1,) if args.single else GROUP_SIZES
    texts = group_texts(normalised_sentences(args.pairs, model_dir), args.seed, sizes)[: args.texts]
    results, agree, sent = [], {}, {}
    url, ours_running = _start_ours(args)
    with ours_running as memory:
        ours = Service("service", url, memory, "result")
        for mode in args.modes:
            lt_url, lt_running = _start_lt(args, mode, threads)
            with lt_running as lt_memory:
                lt = Service("libretranslate", lt_url, lt_memory, "translatedText")
                rows, agree[mode], cold = run_mode(mode, ours, lt, texts, args)
            results += rows
            pool = [s for text in cold for s in text]  # cycled: the engine caches nothing
            sent[mode] = [pool[i % len(pool)] for i in range(max(len(pool), args.offline))]
        single = next((t for t in texts if len(t) == 1), texts[0])
        cache_ms = cache_hit_p50_ms(ours, joined(single), args.cache_requests, args.time_limit)
    offline = {m: offline_engine(s, MODES[m], args.time_limit) for m, s in sent.items()}
    extra = {
        "agreement": agree,
        "texts": len(texts),
        "libretranslate": {"waitress_threads": args.lt_threads, "intra_threads": threads},
        "service": {k: getattr(settings, k, None) for k in SERVICE_SETTINGS},
        "options": {k: str(v) for k, v in vars(args).items()},
    }
    return final_line(results, offline, cache_ms, extra)


def _arguments(argv: list[str] | None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--setup", action="store_true", help=f"only create {argos.LT_VENV} (idempotent)")
    add("--quick", action="store_true", help="smoke run: c=1,4, few requests, short phases")
    add("--concurrency", default="1,4,16,64")
    add("--modes", default="greedy,beam4")
    add("--rounds", type=int, default=2)
    add("--requests", type=int, default=800, help="requests per phase at most")
    add("--time-limit", type=float, default=60.0, help="seconds per phase at most")
    add("--timeout", type=float, default=60.0, help="seconds per request")
    add("--texts", type=int, default=600, help="texts in the warm-up pool")
    add("--offline", type=int, default=3000, help="sentences for the offline engine at most")
    add("--single", action="store_true", help="one sentence a request")
    add("--all-texts", action="store_true", help="time every text, not only agreed ones")
    add("--lt-threads", type=int, default=4, help="LibreTranslate's waitress threads (its default)")
    add("--lt-venv", type=Path, default=argos.LT_VENV)
    add("--pairs", type=Path, default=ROOT / "build" / "demo" / "dev.tsv")
    add("--work", type=Path, default=ROOT / "build" / "bench-service")
    add("--seed", type=int, default=7)
    add("--startup-timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency, args.requests, args.time_limit = "1,4", 100, 15.0
        args.texts, args.offline = 100, 400
    args.levels = [int(c) for c in args.concurrency.split(",")]
    args.modes = [m for m in args.modes.split(",") if m in MODES]
    args.warmup_limit = max(args.time_limit, 30.0 if args.quick else 120.0)
    args.cache_requests = 50 if args.quick else 500
    args.work, args.lt_python = args.work.resolve(), argos.lt_python(args.lt_venv)
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the services get stopped
    args = _arguments(argv)
    if args.setup:
        argos.setup(args.lt_venv)
        return 0
    if not argos.installed(args.lt_venv):
        print(f"{args.lt_venv} lacks LibreTranslate: run with --setup first", file=sys.stderr)
        return 1
    if not args.pairs.is_file():
        print(f"{args.pairs} not found: zh-en-translator train-demo --stage split", file=sys.stderr)
        return 1
    print(json.dumps(bench(args), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
