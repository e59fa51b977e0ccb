"""Build the benchmark's model copies: one per engine, all from the same checkpoint.

``opus-shape``: a random Marian with Helsinki-NLP/opus-mt-zh-en's exact configuration
(d_model 512, 6+6 layers, 8 heads, FFN 2048, 65,001-entry joint vocabulary, swish, tied
embeddings), since the real weights cannot be downloaded here; speed depends on shapes
only when every engine is made to produce the same number of tokens.

``demo``: the shipped demo model's PyTorch checkpoint.

For each: PyTorch (the checkpoint itself), optimum's INT8 export (the article's recipe:
``ORTModelForSeq2SeqLM`` + ``ORTQuantizer`` dynamic quantization), CTranslate2 INT8
(``ct2-transformers-converter --quantization int8``) and the project's own INT8 export.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

# opus-mt-zh-en's two SentencePiece models have 32k pieces each ("spm32k,spm32k" in its
# model card); its decoder can only emit the target model's pieces. The random stand-in
# gets the same split: the last 32,000 ids play the target pieces.
OPUS_TARGET_PIECES = 32_000


def _opus_rows(vocab: dict[str, int]) -> tuple[list[int], list[int]]:
    size = len(vocab)
    special = {vocab["</s>"], vocab["<unk>"], vocab["<pad>"]}
    boundary = size - OPUS_TARGET_PIECES
    source = sorted(special | set(range(boundary)))
    target = sorted(special | set(range(boundary, size)))
    return source, target


def prepare_checkpoint(setting: str, work: Path, demo_dir: Path) -> Path:
    """Return a transformers checkpoint directory for *setting*, building it if needed."""
    ckpt = work / "checkpoint"
    if (ckpt / "config.json").is_file():
        return ckpt
    if setting == "opus-shape":
        from toolchain.tiny import opus_shape

        return opus_shape(ckpt)
    source = demo_dir / "checkpoint"
    if not (source / "config.json").is_file():
        raise SystemExit(f"{source} is missing: the demo model ships its PyTorch checkpoint there")
    shutil.copytree(source, ckpt)
    return ckpt


def prepare_project(setting: str, ckpt: Path, work: Path, demo_dir: Path, full_vocab: bool) -> Path:
    """The project's INT8 export (for the demo: the shipped directory itself)."""
    if setting == "demo" and not full_vocab:
        return demo_dir
    out = work / ("project_full" if full_vocab else "project")
    if (out / "manifest.json").is_file():
        return out
    from toolchain.export import ExportOptions, export_model

    vocab = json.loads((ckpt / "vocab.json").read_text(encoding="utf-8"))
    rows = None
    if full_vocab:
        every = sorted(vocab.values())
        rows = (every, every)
    elif setting == "opus-shape":
        rows = _opus_rows(vocab)
    export_model(
        str(ckpt), out, ExportOptions(model_id=f"{setting}-bench", rows=rows, verify=False)
    )
    return out


def prepare_ct2(ckpt: Path, work: Path) -> Path:
    out = work / "ct2"
    if not (out / "model.bin").is_file():
        from ctranslate2.converters import TransformersConverter

        TransformersConverter(str(ckpt)).convert(str(out), quantization="int8", force=True)
    return out


def prepare_optimum(ckpt: Path, work: Path) -> Path:
    """Export with optimum, then quantize every ONNX file with ORTQuantizer (dynamic, AVX2)."""
    out = work / "optimum"
    if (out / "bench_files.json").is_file():
        return out
    from optimum.onnxruntime import ORTModelForSeq2SeqLM, ORTQuantizer
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    fp32 = work / "optimum_fp32"
    ORTModelForSeq2SeqLM.from_pretrained(ckpt, export=True).save_pretrained(fp32)
    config = AutoQuantizationConfig.avx2(is_static=False, per_channel=False)
    names = {}
    for onnx_file in sorted(fp32.glob("*.onnx")):
        ORTQuantizer.from_pretrained(fp32, file_name=onnx_file.name).quantize(
            save_dir=out, quantization_config=config
        )
        names[onnx_file.stem] = f"{onnx_file.stem}_quantized.onnx"
    for extra in fp32.iterdir():
        if extra.suffix != ".onnx" and extra.is_file() and not (out / extra.name).exists():
            shutil.copy(extra, out / extra.name)
    files = {"encoder_file_name": names["encoder_model"]}
    if "decoder_model_merged" in names:
        files["decoder_file_name"] = names["decoder_model_merged"]
    else:
        files["decoder_file_name"] = names["decoder_model"]
        files["decoder_with_past_file_name"] = names["decoder_with_past_model"]
    (out / "bench_files.json").write_text(json.dumps(files))
    shutil.rmtree(fp32)
    return out


def disk_mb(path: Path, exclude: tuple[str, ...] = ("fp32", "checkpoint")) -> float:
    """Size of a model on disk; for directories, the files an engine actually loads."""
    if path.is_file():
        return path.stat().st_size / 2**20
    total = sum(
        p.stat().st_size
        for p in path.rglob("*")
        if p.is_file() and not any(part in exclude for part in p.relative_to(path).parts)
    )
    return total / 2**20
