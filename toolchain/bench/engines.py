#!/usr/bin/env python
"""Compare translation engines on the same model, in one run, side by side.

    python scripts/bench_engines.py                       # both settings, all engines
    python scripts/bench_engines.py --setting opus-shape --rounds 5

Engines: transformers + PyTorch fp32, optimum ORTModelForSeq2SeqLM INT8, CTranslate2
INT8, and the project's engine (INT8; on the opus shape also without its target-
vocabulary shortlist, "project_full"). Each engine lives in its own subprocess (clean
peak-RSS figures); the parent alternates them case by case (A B C D, A B C D, ...) and
reports medians. Cases: greedy and beam 4, batch 1 (sentences one after another) and
batch 16, intra-op threads 2 everywhere. On the demo model it also scores each engine's
raw output (BLEU against the dev references, no post-processing), so a speed-up that
costs quality shows. Prints a table, then one JSON line.

    zh-en-translator bench --ct2-check CHECKPOINT [--limit 300] [--model-dir DIR]

converts one checkpoint with ct2-transformers-converter and reports how often its greedy
output is identical to PyTorch's on the dev split instead (toolchain/bench/ct2_check.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from config import ROOT

CASES = {"greedy_b1": (1, 1), "greedy_b16": (1, 16), "beam4_b1": (4, 1), "beam4_b16": (4, 16)}
ENGINES = ("torch", "optimum", "ct2", "project", "project_full")
FORCED_TOKENS = 32
DEMO_SENTENCES = 500


# --- worker side -------------------------------------------------------------------


def _runner(engine: str, work: Path, threads: int):  # noqa: ANN202
    from toolchain.bench import runners as r

    paths = json.loads((work / "paths.json").read_text())
    if engine == "torch":
        return r.torch_runner(Path(paths["checkpoint"]), threads)
    if engine == "optimum":
        return r.optimum_runner(Path(paths["optimum"]), threads)
    if engine == "ct2":
        return r.ct2_runner(Path(paths["ct2"]), Path(paths["checkpoint"]) / "vocab.json", threads)
    return r.project_runner(Path(paths[engine]), threads)


def worker(engine: str, work: Path, threads: int) -> int:
    """Serve 'run this case' requests on stdin until 'quit'; answer on stdout as JSON."""
    from web.process import peak_rss_bytes

    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    runner = _runner(engine, work, threads)
    data = json.loads((work / "inputs.json").read_text())
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            print(json.dumps({"rss_mb": peak_rss_bytes() / 2**20}), flush=True)
            return 0
        beam, batch_size = CASES[cmd["case"]]
        sentences = data["ids"]
        started = time.perf_counter()
        outputs: list[list[int]] = []
        for i in range(0, len(sentences), batch_size):
            batch = sentences[i : i + batch_size]
            if data["forced"]:
                min_new = max_new = data["forced"]
            else:  # natural decoding, the service's own limit: 2 x source + 10
                min_new, max_new = 0, 2 * max(len(s) for s in batch) + 10
            outputs += runner.run(batch, beam, min_new, max_new)
        seconds = time.perf_counter() - started
        if cmd.get("save"):
            Path(cmd["save"]).write_text(json.dumps(outputs))
        tokens = sum(len(o) for o in outputs)
        print(json.dumps({"seconds": seconds, "tokens": tokens}), flush=True)
    return 0


# --- preparation ---------------------------------------------------------------------


def _inputs(setting: str, ckpt: Path, dev: Path) -> dict:
    import sentencepiece as spm

    from text.normalize import SourcePreprocessor
    from toolchain.samples import SAMPLE_ZH

    vocab = json.loads((ckpt / "vocab.json").read_text(encoding="utf-8"))
    sp = spm.SentencePieceProcessor(model_file=str(ckpt / "source.spm"))
    if setting == "opus-shape":
        texts, steps, forced = list(SAMPLE_ZH[:16]), ("opus_punct",), FORCED_TOKENS
        references = None  # random weights: nothing to score
    else:
        lines = dev.read_text(encoding="utf-8").splitlines()[:DEMO_SENTENCES]
        texts, steps, forced = [ln.split("\t")[1] for ln in lines], ("opus_punct", "t2s"), 0
        references = [ln.split("\t")[0] for ln in lines]
    prep = SourcePreprocessor(steps)
    ids = [
        [vocab.get(p, vocab["<unk>"]) for p in sp.encode(prep(t), out_type=str)] + [vocab["</s>"]]
        for t in texts
    ]
    return {"ids": ids, "forced": forced, "sentences": len(ids), "references": references}


def prepare(setting: str, work: Path, engines: list[str], dev: Path) -> dict:
    """Build every engine's model copy once (cached under *work*); return sizes on disk."""
    from toolchain.bench import models as bm

    work.mkdir(parents=True, exist_ok=True)
    demo = ROOT / "models" / "demo-zh-en"
    ckpt = bm.prepare_checkpoint(setting, work, demo)
    paths = {"checkpoint": str(ckpt)}
    if "optimum" in engines:
        paths["optimum"] = str(bm.prepare_optimum(ckpt, work))
    if "ct2" in engines:
        paths["ct2"] = str(bm.prepare_ct2(ckpt, work))
    if "project" in engines:
        paths["project"] = str(bm.prepare_project(setting, ckpt, work, demo, full_vocab=False))
    if "project_full" in engines:
        paths["project_full"] = str(bm.prepare_project(setting, ckpt, work, demo, full_vocab=True))
    (work / "paths.json").write_text(json.dumps(paths))
    (work / "inputs.json").write_text(json.dumps(_inputs(setting, ckpt, dev)))
    disk = {e: bm.disk_mb(Path(paths["checkpoint" if e == "torch" else e])) for e in engines}
    return {"disk_mb": disk}


# --- orchestration -------------------------------------------------------------------


def _spawn(engine: str, work: Path, threads: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolchain.bench.engines",
            "--worker",
            engine,
            "--work",
            str(work),
            "--threads",
            str(threads),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    reply = json.loads(proc.stdout.readline() or '{"ready": false}')
    if not reply.get("ready"):
        raise SystemExit(f"{engine} worker failed to start")
    return proc


def _ask(proc: subprocess.Popen, command: dict) -> dict:
    proc.stdin.write(json.dumps(command) + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def measure(engines: list[str], work: Path, threads: int, rounds: int, cases: list[str]) -> dict:
    procs = {e: _spawn(e, work, threads) for e in engines}
    times: dict[str, dict[str, list[float]]] = {e: {c: [] for c in cases} for e in engines}
    tokens: dict[str, dict[str, int]] = {e: {} for e in engines}
    try:
        for case in cases:
            for round_ in range(rounds):
                for engine in engines:  # alternate engines within every round
                    command = {"op": "run", "case": case}
                    if round_ == 0:
                        command["save"] = str(work / f"output-{engine}-{case}.json")
                    reply = _ask(procs[engine], command)
                    times[engine][case].append(reply["seconds"])
                    tokens[engine][case] = reply["tokens"]
                print(
                    f"  {case}: "
                    + ", ".join(f"{e} {statistics.median(times[e][case]):.3f}s" for e in engines),
                    file=sys.stderr,
                    flush=True,
                )
        rss = {e: _ask(p, {"op": "quit"})["rss_mb"] for e, p in procs.items()}
    finally:
        for proc in procs.values():
            proc.kill() if proc.poll() is None else None
    seconds = {e: {c: statistics.median(v) for c, v in cases.items()} for e, cases in times.items()}
    return {"seconds": seconds, "tokens": tokens, "rss_mb": rss}


def bleu_scores(work: Path, engines: list[str], cases: list[str]) -> dict:
    """BLEU of each engine's raw output (no post-processing) against the references."""
    import sacrebleu
    import sentencepiece as spm

    refs = json.loads((work / "inputs.json").read_text(encoding="utf-8"))["references"]
    if not refs:
        return {}
    ckpt = Path(json.loads((work / "paths.json").read_text())["checkpoint"])
    pieces = {i: p for p, i in json.loads((ckpt / "vocab.json").read_text("utf-8")).items()}
    sp = spm.SentencePieceProcessor(model_file=str(ckpt / "target.spm"))
    scores: dict[str, dict[str, float]] = {}
    for engine in engines:
        for case in cases:
            outputs = json.loads((work / f"output-{engine}-{case}.json").read_text())
            hyps = [sp.decode_pieces([pieces[i] for i in out]) for out in outputs]
            bleu = sacrebleu.corpus_bleu(hyps, [refs[: len(hyps)]]).score
            scores.setdefault(engine, {})[case] = round(bleu, 2)
    return scores


def _ratios(seconds: dict, other: str) -> dict:
    if "project" not in seconds or other not in seconds:
        return {}
    return {c: round(seconds["project"][c] / seconds[other][c], 3) for c in seconds["project"]}


def report(setting: str, result: dict, disk: dict, bleu: dict) -> dict:
    seconds, tokens = result["seconds"], result["tokens"]
    print(f"\n== {setting} ==")
    print(
        f"{'engine':<13}{'case':<12}{'seconds':>9}{'ms/token':>10}{'tokens':>8}"
        f"{'vs ct2':>8}{'vs torch':>9}{'peak RSS MB':>13}{'disk MB':>9}{'BLEU':>7}"
    )
    for engine, cases in seconds.items():
        for case, sec in cases.items():
            toks = tokens[engine][case]
            vs = [
                f"{sec / seconds[o][case]:.2f}" if o in seconds else "-" for o in ("ct2", "torch")
            ]
            print(
                f"{engine:<13}{case:<12}{sec:>9.3f}{1000 * sec / max(1, toks):>10.2f}{toks:>8}"
                f"{vs[0]:>8}{vs[1]:>9}{result['rss_mb'][engine]:>13.0f}{disk[engine]:>9.1f}"
                f"{bleu.get(engine, {}).get(case, '-'):>7}"
            )
    return {
        "project_vs_ct2": _ratios(seconds, "ct2"),
        "project_vs_torch": _ratios(seconds, "torch"),
        "project_vs_optimum": _ratios(seconds, "optimum"),
        "project_full_vs_ct2": {
            c: round(seconds["project_full"][c] / seconds["ct2"][c], 3) for c in seconds["ct2"]
        }
        if {"project_full", "ct2"} <= set(seconds)
        else {},
        "rss_mb": {e: round(v) for e, v in result["rss_mb"].items()},
        "disk_mb": {e: round(v, 1) for e, v in disk.items()},
        "seconds": {e: {c: round(s, 4) for c, s in v.items()} for e, v in seconds.items()},
        "tokens": tokens,
        "bleu": bleu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=["opus-shape", "demo", "both"], default="both")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES), help="subset of " + ",".join(CASES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument(
        "--dev",
        type=Path,
        default=ROOT / "build" / "demo" / "dev.tsv",
        help="dev split for the demo setting (scripts/train_demo_model.py --stage split)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    check = parser.add_argument_group(
        "CTranslate2 conversion check (toolchain/bench/ct2_check.py; --dev, --threads, --work)"
    )
    check.add_argument(
        "--ct2-check",
        type=Path,
        metavar="CHECKPOINT",
        help="convert this checkpoint with ct2-transformers-converter and print the share of "
        "dev sentences where its greedy output is identical to PyTorch's (exit 1 below "
        "--min-identical)",
    )
    check.add_argument("--limit", type=int, default=300, help="dev sentences (default 300)")
    check.add_argument("--model-dir", type=Path, help="also compare with this INT8 model dir")
    check.add_argument("--direction", help="zh-en or en-zh (default: from the checkpoint)")
    check.add_argument("--min-identical", type=float, default=0.95)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.work, args.threads)
    if args.ct2_check:
        from toolchain.bench.ct2_check import run_cli

        work = args.work / "ct2-check" / args.ct2_check.resolve().name
        return run_cli(
            args.ct2_check,
            args.dev,
            work,
            args.limit or None,
            args.threads,
            args.model_dir,
            args.direction,
            args.min_identical,
        )
    engines = [e for e in args.engines.split(",") if e]
    settings = ["opus-shape", "demo"] if args.setting == "both" else [args.setting]
    summary: dict = {"date": time.strftime("%Y-%m-%d"), "cpu": _cpu_name(), "threads": args.threads}
    for setting in settings:
        chosen = [e for e in engines if not (setting == "demo" and e == "project_full")]
        work = args.work / setting
        print(f"preparing {setting} models in {work} ...", file=sys.stderr, flush=True)
        disk = prepare(setting, work, chosen, args.dev)["disk_mb"]
        result = measure(chosen, work, args.threads, args.rounds, args.cases.split(","))
        bleu = bleu_scores(work, chosen, args.cases.split(","))
        summary[setting] = report(setting, result, disk, bleu)
    top = summary.get("opus-shape") or summary[settings[0]]
    print(
        json.dumps(
            {
                **{
                    k: top[k]
                    for k in (
                        "project_vs_ct2",
                        "project_vs_torch",
                        "project_vs_optimum",
                        "rss_mb",
                        "disk_mb",
                    )
                },
                **summary,
            }
        )
    )
    return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    sys.exit(main())
