"""Does a checkpoint convert cleanly to CTranslate2? Greedy agreement on dev sentences.

    zh-en-translator bench --ct2-check models/training/zh-en-mix --limit 300 --threads 1
    zh-en-translator bench --ct2-check models/demo-zh-en/checkpoint \
        --model-dir models/demo-zh-en --dev build/demo/dev.tsv --limit 1500

Converts the transformers checkpoint with ``ct2-transformers-converter`` twice (float32,
and ``--quantization int8``), then decodes the first N source sentences of the dev split
greedily (batch 1, the service's length limit of 2 x source + 10 tokens) with PyTorch and
with CTranslate2, all from the very same source token ids (the training preprocessing,
the source SentencePiece model, ``</s>``). The figure that says "converts cleanly" is
the share of sentences where CTranslate2 float32 writes exactly PyTorch's tokens
(``ct2_fp32_vs_torch``, at least ``--min-identical``, default 0.95). With --model-dir
the project's INT8 engine decodes the same ids too (its loop guard applied to the other
outputs before comparing, as in toolchain/verify.py). Prints one JSON line; exit 1 below
the threshold.

CTranslate2 starts Marian's decoder from a zero embedding where transformers embeds the
``<pad>`` start token; the two agree only when that tied row is zero, which
``toolchain.checkpoints.zero_pad_row`` keeps true for the mixture-trained checkpoints
(``pad_row_max`` in the output says whether it holds).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MIN_IDENTICAL = 0.95
CONVERTER = "ct2-transformers-converter"


def converter_command(checkpoint: Path, out: Path, quantization: str | None) -> list[str]:
    """The ``ct2-transformers-converter`` command line (the one beside this Python first)."""
    beside = Path(sys.executable).with_name(CONVERTER)
    cmd = [str(beside) if beside.is_file() else CONVERTER]
    cmd += ["--model", str(checkpoint), "--output_dir", str(out), "--force"]
    return cmd + (["--quantization", quantization] if quantization else [])


def convert(checkpoint: Path, out: Path, quantization: str | None = None) -> Path:
    """Convert *checkpoint* into *out* with the converter's command line; raise on failure."""
    cmd = converter_command(checkpoint, out, quantization)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (out / "model.bin").is_file():
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {tail}")
    return out


def _summary(checkpoint: Path) -> dict[str, Any]:
    path = checkpoint / "training_summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _manifest(model_dir: Path | None) -> dict[str, Any]:
    if model_dir is None or not (model_dir / "manifest.json").is_file():
        return {}
    return json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))


def resolve_direction(checkpoint: Path, model_dir: Path | None, given: str | None) -> str:
    """The given direction, else the checkpoint's (mixture runs record it), else zh-en."""
    if given:
        return given
    manifest = _manifest(model_dir)
    if manifest.get("source_lang"):
        return f"{manifest['source_lang']}-{manifest['target_lang']}"
    return str(_summary(checkpoint).get("direction", "zh-en"))


def source_steps(checkpoint: Path, model_dir: Path | None, direction: str) -> list[str]:
    """The source preprocessing the model was trained with."""
    recorded = _summary(checkpoint).get("source_preprocessing")
    if recorded is None:
        recorded = _manifest(model_dir).get("source_preprocessing")
    if recorded is None:
        from toolchain.train_demo import SOURCE_STEPS_OF

        recorded = SOURCE_STEPS_OF[direction]
    return list(recorded)


def dev_sources(dev: Path, direction: str, limit: int | None) -> tuple[list[str], list[str]]:
    """(sources, references) of the first *limit* pairs of an ``english<TAB>chinese`` file."""
    column = 0 if direction.startswith("en") else 1
    sources, refs = [], []
    for line in dev.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].strip() and cols[1].strip():
            sources.append(cols[column].strip())
            refs.append(cols[1 - column].strip())
    return sources[:limit], refs[:limit]


def encode(checkpoint: Path, texts: Sequence[str], steps: Sequence[str]) -> list[list[int]]:
    """Joint-vocabulary ids ending with ``</s>``, as every runner takes them."""
    import sentencepiece as spm

    from text.normalize import SourcePreprocessor

    vocab = json.loads((checkpoint / "vocab.json").read_text(encoding="utf-8"))
    sp = spm.SentencePieceProcessor(model_file=str(checkpoint / "source.spm"))
    prep = SourcePreprocessor(tuple(steps))
    unk, eos = vocab["<unk>"], vocab["</s>"]
    return [[vocab.get(p, unk) for p in sp.encode(prep(t), out_type=str)] + [eos] for t in texts]


def identical(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> dict[str, Any]:
    """How many outputs are token-for-token the same."""
    same = sum(list(x) == list(y) for x, y in zip(a, b, strict=True))
    return {"identical": same, "sentences": len(a), "ratio": round(same / max(1, len(a)), 4)}


def _decode_all(
    checkpoint: Path, runners: dict[str, Any], ids: list[list[int]], batch: int
) -> tuple[dict[str, list[list[int]]], dict[str, float]]:
    outputs: dict[str, list[list[int]]] = {}
    seconds: dict[str, float] = {}
    for name, runner in runners.items():
        started = time.perf_counter()
        out: list[list[int]] = []
        for i in range(0, len(ids), batch):
            chunk = ids[i : i + batch]
            out += runner.run(chunk, 1, 0, 2 * max(len(s) for s in chunk) + 10)
        outputs[name] = out
        seconds[name] = round(time.perf_counter() - started, 2)
        logger.info("%s: %d sentences in %.1f s", name, len(out), seconds[name])
    return outputs, seconds


def _bleu(checkpoint: Path, outputs: dict, refs: list[str], direction: str) -> dict[str, float]:
    """BLEU of each engine's raw output (no post-processing) against the references."""
    import sacrebleu
    import sentencepiece as spm

    pieces = {i: p for p, i in json.loads((checkpoint / "vocab.json").read_text("utf-8")).items()}
    sp = spm.SentencePieceProcessor(model_file=str(checkpoint / "target.spm"))
    tokenize = "zh" if direction.endswith("zh") else "13a"
    scores = {}
    for name, out in outputs.items():
        hyps = [sp.decode_pieces([pieces[i] for i in seq]) for seq in out]
        scores[name] = round(sacrebleu.corpus_bleu(hyps, [refs], tokenize=tokenize).score, 2)
    return scores


def pad_row_max(checkpoint: Path) -> float:
    """Largest absolute value in the tied ``<pad>`` embedding row (0.0: CTranslate2-safe)."""
    from safetensors.torch import load_file

    vocab = json.loads((checkpoint / "vocab.json").read_text(encoding="utf-8"))
    state = load_file(str(checkpoint / "model.safetensors"))
    return float(state["model.shared.weight"][vocab["<pad>"]].abs().max())


def check(
    checkpoint: Path,
    dev: Path,
    *,
    work: Path,
    limit: int | None = 300,
    threads: int = 1,
    model_dir: Path | None = None,
    direction: str | None = None,
    batch: int = 1,
) -> dict[str, Any]:
    """Convert, decode, compare; the report described in the module docstring."""
    import torch

    from toolchain.bench import runners as r
    from toolchain.verify import _guarded

    torch.set_num_threads(threads)
    direction = resolve_direction(checkpoint, model_dir, direction)
    sources, refs = dev_sources(dev, direction, limit)
    ids = encode(checkpoint, sources, source_steps(checkpoint, model_dir, direction))
    started = time.perf_counter()
    fp32_dir = convert(checkpoint, work / "ct2-fp32")
    int8_dir = convert(checkpoint, work / "ct2-int8", "int8")
    convert_seconds = round(time.perf_counter() - started, 1)
    vocab_file = checkpoint / "vocab.json"
    runners: dict[str, Any] = {
        "torch": r.torch_runner(checkpoint, threads),
        "ct2_fp32": r.ct2_runner(fp32_dir, vocab_file, threads, compute_type="float32"),
        "ct2_int8": r.ct2_runner(int8_dir, vocab_file, threads, compute_type="int8"),
    }
    if model_dir is not None:
        runners["project_int8"] = r.project_runner(model_dir, threads)
    outputs, seconds = _decode_all(checkpoint, runners, ids, batch)
    report: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "dev": str(dev),
        "direction": direction,
        "sentences": len(ids),
        "batch": batch,
        "threads": threads,
        "converter": CONVERTER,
        "pad_row_max": pad_row_max(checkpoint),
        "convert_seconds": convert_seconds,
        "ct2_fp32_vs_torch": identical(outputs["ct2_fp32"], outputs["torch"]),
        "ct2_int8_vs_torch": identical(outputs["ct2_int8"], outputs["torch"]),
    }
    if "project_int8" in outputs:
        guarded = {k: [_guarded(list(s)) for s in v] for k, v in outputs.items()}
        ours = outputs["project_int8"]
        report["project_int8_vs_torch"] = identical(ours, guarded["torch"])
        report["ct2_int8_vs_project_int8"] = identical(guarded["ct2_int8"], ours)
        report["ct2_fp32_vs_project_int8"] = identical(guarded["ct2_fp32"], ours)
    report["bleu_vs_references"] = _bleu(checkpoint, outputs, refs, direction)
    report["seconds"] = seconds
    report["min_identical"] = MIN_IDENTICAL
    report["passed"] = report["ct2_fp32_vs_torch"]["ratio"] >= MIN_IDENTICAL
    return report


def run_cli(
    checkpoint: Path,
    dev: Path,
    work: Path,
    limit: int | None,
    threads: int,
    model_dir: Path | None,
    direction: str | None,
    min_identical: float = MIN_IDENTICAL,
) -> int:
    """``zh-en-translator bench --ct2-check``: print the JSON report; 1 below the threshold."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    work.mkdir(parents=True, exist_ok=True)
    report = check(
        checkpoint,
        dev,
        work=work,
        limit=limit,
        threads=threads,
        model_dir=model_dir,
        direction=direction,
    )
    report["min_identical"] = min_identical
    report["passed"] = report["ct2_fp32_vs_torch"]["ratio"] >= min_identical
    print(json.dumps(report), flush=True)
    return 0 if report["passed"] else 1
