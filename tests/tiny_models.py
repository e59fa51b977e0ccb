"""Tiny real models for the engine, export and end-to-end tests, built once per code version.

Each is a 2-layer Marian trained for a few hundred steps on a made-up word-for-character
code (toolchain/tiny.py), exported with the project's own export code. They are cached
under the system temp dir, keyed by a hash of the code that builds them (and of nothing
else: editing a benchmark or a test does not retrain them), and built under a file lock
so parallel test processes build each once.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The model-building code: the tiny corpus and trainer, the vocabulary and export steps,
# the manifest format, and the text functions the training data passes through.
BUILD_INPUTS = [
    *(
        ROOT / "toolchain" / name
        for name in (
            "tiny.py",
            "trainer.py",
            "vocab.py",
            "export.py",
            "decoder_graph.py",
            "encoder_graph.py",
            "quantize.py",
            "export_vocab.py",
        )
    ),
    ROOT / "engine" / "contract.py",
    ROOT / "text" / "spans.py",
    ROOT / "text" / "normalize.py",
    Path(__file__),
]
TINY = {"d_model": 64, "layers": 2, "heads": 4, "ffn": 128, "train_steps": 900}


def _cache_dir(direction: str) -> Path:
    digest = hashlib.sha256()
    for path in BUILD_INPUTS:
        digest.update(path.read_bytes())
    digest.update(repr(sorted(TINY.items())).encode())
    name = f"{direction}-{digest.hexdigest()[:16]}"
    return Path(tempfile.gettempdir()) / "zh-en-translator-tests" / name


def tiny_build(direction: str = "zh-en") -> Path:
    """Directory holding ``checkpoint/`` (transformers) and ``model/`` (service format)."""
    cache = _cache_dir(direction)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f"{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "model" / "manifest.json").is_file():
            _build(cache, direction)
    return cache


def _build(cache: Path, direction: str) -> None:
    import torch

    from toolchain.export import ExportOptions, export_model
    from toolchain.tiny import build_checkpoint

    torch.set_num_threads(1)
    source, target = direction.split("-")
    staging = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    checkpoint = build_checkpoint(staging / "checkpoint", reverse=source == "en", **TINY)
    export_model(
        str(checkpoint),
        staging / "model",
        ExportOptions(
            model_id=f"tiny-test-{direction}" if source == "en" else "tiny-test",
            source_lang=source,
            target_lang=target,
            span_mode="placeholder",
            precision="both",
            verify=False,
        ),
    )
    shutil.rmtree(cache, ignore_errors=True)
    staging.rename(cache)
