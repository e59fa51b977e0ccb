"""Evaluate the demo model every way the card reports, and write its model card."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

logger = logging.getLogger(__name__)


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


def _evaluate(pairs: Path, model: Path, beam: int, precision: str) -> dict:
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
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    logger.info("%s beam %d on %s: %s", precision, beam, pairs.name, result)
    return result


def evaluate_all(model_dir: Path, work: Path) -> dict:
    """BLEU/chrF for INT8 and fp32, greedy and beam 4, plus span survival."""
    from toolchain.export import ExportOptions, export_model

    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    fp32_dir = work / "eval-fp32"
    export_model(
        str(model_dir / "checkpoint"),
        fp32_dir,
        ExportOptions(
            model_id="demo-zh-en-fp32",
            source_preprocessing=manifest["source_preprocessing"],
            span_mode=manifest["span_mode"],
            precision="fp32",
            verify=False,
        ),
    )
    dev, spans = work / "dev.tsv", work / "dev_spans.tsv"
    results = {}
    for precision, path in (("int8", model_dir), ("fp32", fp32_dir)):
        for beam in (1, 4):
            results[f"{precision}_beam{beam}"] = _evaluate(
                dev, path, beam, "int8" if precision == "int8" else "fp32"
            )
    results["spans_int8_beam1"] = _evaluate(spans, model_dir, 1, "int8")
    (work / "card_results.json").write_text(json.dumps(results, indent=1))
    return results


def _dir_mb(path: Path, exclude: str | None = None) -> float:
    files = [
        p
        for p in path.rglob("*")
        if p.is_file() and (exclude is None or exclude not in p.relative_to(path).parts)
    ]
    return sum(p.stat().st_size for p in files) / 2**20


def write_card(model_dir: Path, work: Path, results: dict) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    summary_path = model_dir / "checkpoint" / "training_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    arch, cfg = manifest["architecture"], summary.get("config", {})
    rows = "\n".join(
        f"| {name.replace('_', ' ')} | {r['bleu']:.2f} | {r['chrf']:.2f} | {r['seconds']:.1f} |"
        for name, r in results.items()
        if not name.startswith("spans")
    )
    spans = results.get("spans_int8_beam1", {})
    survival = spans.get("span_survival", {})
    text = _CARD.format(
        params=summary.get("params", 0) / 1e6,
        arch=arch,
        cfg=cfg,
        minutes=summary.get("train_minutes", "?"),
        epochs=len(summary.get("history", [])),
        steps=summary.get("steps", "?"),
        chosen=summary.get("chosen", "?"),
        int8_mb=_dir_mb(model_dir, exclude="checkpoint"),
        ckpt_mb=_dir_mb(model_dir / "checkpoint"),
        total_mb=_dir_mb(model_dir),
        rows=rows,
        n=results["int8_beam1"]["n"],
        span_n=spans.get("n", 0),
        span_bleu=spans.get("bleu", 0.0),
        kept=survival.get("verbatim", 0),
        total=survival.get("spans", 0),
        ratio=100 * (survival.get("ratio") or 0),
        quant=_quant_text(manifest),
        delta=results["fp32_beam1"]["bleu"] - results["int8_beam1"]["bleu"],
        verification=json.dumps(manifest.get("verification", {}).get("int8", {})),
        torch=torch.__version__,
    )
    (model_dir / "README.md").write_text(text, encoding="utf-8")


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

Size: the INT8 service files {int8_mb:.1f} MB; `checkpoint/` (PyTorch, fp16, for
benchmarks and re-exports) {ckpt_mb:.1f} MB; {total_mb:.1f} MB in all. Quantization:
{quant}.

## Dev-split figures

Through the service's own `Translator` (cleaning, segmentation, placeholders,
post-processing; cache off), sacrebleu 13a BLEU and chrF on {n} dev pairs, detokenised
output. Reproduce with `zh-en-translator evaluate build/demo/dev.tsv [--beam 4]
[--precision fp32 --model build/demo/eval-fp32]` after `zh-en-translator train-demo
--stage split` (the fp32 copy is written by `--stage card`, which reruns all of these).

| model | BLEU | chrF | seconds |
| --- | --- | --- | --- |
{rows}

INT8 costs {delta:.2f} BLEU against fp32 with greedy decoding.

Spans: on {span_n} dev sentences whose name or numeral was swapped for a Latin/digit span
(`build/demo/dev_spans.tsv`), {kept} of {total} spans came out verbatim ({ratio:.1f} %);
BLEU {span_bleu:.2f}.

Export check (INT8 engine vs PyTorch, greedy, same input ids): {verification}.
"""
