"""The card's figures: the evaluations, the CTranslate2 check and the sample translations.

The evaluations and the check each run in a process of their own (``toolchain.evaluate``,
``toolchain.bench.engines``).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from config import ROOT
from toolchain.model_card.common import _manifest, direction_of

logger = logging.getLogger(__name__)

# Held-out sets that are never trained on (toolchain/train_mixture.py drops their Chinese
# sides from the corpus): what the service is asked to translate besides Tatoeba.
HELD_OUT_SETS = {
    "product_copy": ROOT / "tests" / "data" / "product_copy.tsv",
    "docs": ROOT / "tests" / "data" / "docs.tsv",
}
CARD_SAMPLES = {
    "zh-en": (
        "我明天要去上班。",
        "你想喝点什么？",
        "点击“确定”保存更改。",
        "无法打开文件。",
        "选择要插入的行数。",
        "价格：¥1,299.00",
        "详情请访问 https://example.com/help 。",
    ),
    "en-zh": (
        "I'm going to work tomorrow.",
        "What would you like to drink?",
        "Click OK to save your changes.",
        "The file could not be opened.",
        "Select the number of rows to insert.",
        "The price is $1,299.00.",
        "See https://example.com/help for details.",
    ),
}


def _evaluate(
    pairs: Path,
    model: Path,
    beam: int,
    precision: str,
    *,
    direction: str = "zh-en",
    threads: int = 0,
    limit: int | None = None,
    output: Path | None = None,
) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "toolchain.evaluate",
        str(pairs),
        "--model",
        str(model),
        "--beam",
        str(beam),
        "--precision",
        precision,
        "--direction",
        direction,
        "--threads",
        str(threads),
    ]
    cmd += ["--limit", str(limit)] if limit else []
    cmd += ["--output", str(output)] if output else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise RuntimeError(f"{' '.join(cmd[2:])} failed ({done.returncode}):\n{tail}")
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    logger.info("%s beam %d on %s: %s", precision, beam, pairs.name, result)
    return result


def _read_lines(path: Path) -> list[str]:
    """One translation a line, as evaluate --output writes them (only "\\n" ends one)."""
    text = path.read_text(encoding="utf-8")
    return text.removesuffix("\n").split("\n") if text else []


def chinese_span_survival(pairs: Path, hyps: Sequence[str]) -> dict:
    """Latin/digit spans of each pair's Chinese side found verbatim in its translation.

    For zh→en these are the spans of the source (what ``toolchain.evaluate`` counts);
    for en→zh, the same spans as they stand in the Chinese reference: the span dev set
    puts one filler ("iPhone 15", "7.5", "Model S") in the same place on both sides.
    """
    from text.spans import find_spans

    total = kept = 0
    rows = [line.split("\t") for line in pairs.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if len(r) >= 2 and r[0].strip() and r[1].strip()]
    for cols, hyp in zip(rows, hyps, strict=False):
        zh = cols[1].strip()
        for a, b in find_spans(zh):
            total += 1
            kept += zh[a:b] in hyp
    return {"spans": total, "verbatim": kept, "ratio": round(kept / total, 4) if total else None}


def dev_sets(corpus: Path | None) -> dict[str, Path]:
    """Corpus dev domains (``dev.<domain>.tsv``), then the held-out product/docs sets."""
    sets: dict[str, Path] = {}
    if corpus is not None:
        for path in sorted(corpus.glob("dev.*.tsv")):
            sets[path.name[len("dev.") : -len(".tsv")]] = path
    sets |= {name: path for name, path in HELD_OUT_SETS.items() if path.is_file()}
    return sets


def ct2_check(
    model_dir: Path, dev: Path, work: Path, limit: int | None, threads: int
) -> dict[str, Any]:
    """``zh-en-translator bench --ct2-check`` on ``checkpoint/`` (in its own process)."""
    cmd = [
        sys.executable,
        "-m",
        "toolchain.bench.engines",
        "--ct2-check",
        str(model_dir / "checkpoint"),
        "--model-dir",
        str(model_dir),
        "--direction",
        direction_of(_manifest(model_dir)),
        "--dev",
        str(dev),
        "--limit",
        str(limit or 0),
        "--threads",
        str(threads or 2),
        "--work",
        str(work),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    try:
        report: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr or done.stdout).strip()[-1500:]
        logger.error("CTranslate2 check failed (%d): %s", done.returncode, tail)
        return {"error": tail.splitlines()[-1] if tail else f"exit {done.returncode}"}
    logger.info("CTranslate2 check: %s", report)
    return report


def sample_translations(
    model_dir: Path, work: Path, direction: str, threads: int = 0
) -> list[list[str]]:
    """The card's sample sentences through the Translator (INT8, greedy)."""
    texts = CARD_SAMPLES[direction]
    pairs, output = work / f"card_samples.{direction}.tsv", work / f"card_samples.{direction}.txt"
    # evaluate reads english<TAB>chinese; the reference side is a dash (not scored).
    lines = [f"{t}\t-" if direction == "en-zh" else f"-\t{t}" for t in texts]
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _evaluate(pairs, model_dir, 1, "int8", direction=direction, threads=threads, output=output)
    hyps = _read_lines(output)
    return [[src, hyp] for src, hyp in zip(texts, hyps, strict=True)]


def evaluate_all(
    model_dir: Path,
    work: Path,
    *,
    corpus: Path | None = None,
    limit: int | None = None,
    threads: int = 0,
    ct2: bool = True,
) -> dict:
    """Every figure of the card (see the module docstring); also saved as card_results.json.

    *limit* takes the first N pairs of every set (quick checks); *threads* goes to each
    evaluation (0: all cores).
    """
    from toolchain.export import ExportOptions, export_model

    manifest = _manifest(model_dir)
    direction = direction_of(manifest)
    fp32_dir = work / "eval-fp32"
    export_model(
        str(model_dir / "checkpoint"),
        fp32_dir,
        ExportOptions(
            model_id=f"{manifest.get('model_id', 'demo')}-fp32",
            source_lang=manifest.get("source_lang", "zh"),
            target_lang=manifest.get("target_lang", "en"),
            source_preprocessing=manifest["source_preprocessing"],
            span_mode=manifest["span_mode"],
            precision="fp32",
            verify=False,
        ),
    )
    dev, spans = work / "dev.tsv", work / "dev_spans.tsv"
    run = {"direction": direction, "threads": threads, "limit": limit}
    results: dict[str, Any] = {"direction": direction}
    for precision, path in (("int8", model_dir), ("fp32", fp32_dir)):
        for beam in (1, 4):
            results[f"{precision}_beam{beam}"] = _evaluate(dev, path, beam, precision, **run)
    span_out = work / "dev_spans.hyp.txt"
    span_result = _evaluate(spans, model_dir, 1, "int8", output=span_out, **run)
    hyps = _read_lines(span_out)
    span_result["chinese_spans"] = chinese_span_survival(spans, hyps)
    results["spans_int8_beam1"] = span_result
    results["sets"] = {
        name: _evaluate(path, model_dir, 1, "int8", **run)
        for name, path in dev_sets(corpus).items()
    }
    if ct2:
        results["ct2"] = ct2_check(model_dir, dev, work / "ct2", limit, threads)
    results["samples"] = sample_translations(model_dir, work, direction, threads)
    (work / "card_results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return results
