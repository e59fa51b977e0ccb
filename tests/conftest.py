"""Shared fixtures: a tiny real model built once per code version, and the Flask app.

The model is a 2-layer Marian trained for a few hundred steps on a made-up word-for-
character code (toolchain/tiny.py), exported with the project's own export code. It is
cached under the system temp dir, keyed by a hash of the code that builds it, and built
under a file lock so parallel test processes build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_BUILD_INPUTS = [
    *sorted((ROOT / "toolchain").glob("*.py")),
    ROOT / "engine" / "model_dir.py",
    Path(__file__),
    ROOT / "utils" / "placeholders.py",
    ROOT / "utils" / "normalizer.py",
]
TINY = {"d_model": 64, "layers": 2, "heads": 4, "ffn": 128, "train_steps": 900}


def _cache_dir() -> Path:
    digest = hashlib.sha256()
    for path in _BUILD_INPUTS:
        digest.update(path.read_bytes())
    digest.update(repr(sorted(TINY.items())).encode())
    return Path(tempfile.gettempdir()) / "zh-en-translator-tests" / digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def tiny_build() -> Path:
    """Directory holding ``checkpoint/`` (transformers) and ``model/`` (service format)."""
    cache = _cache_dir()
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f"{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "model" / "manifest.json").is_file():
            _build(cache)
    return cache


def _build(cache: Path) -> None:
    import torch

    from toolchain.export import ExportOptions, export_model
    from toolchain.tiny import build_checkpoint

    torch.set_num_threads(1)
    staging = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    checkpoint = build_checkpoint(staging / "checkpoint", **TINY)
    export_model(
        str(checkpoint),
        staging / "model",
        ExportOptions(
            model_id="tiny-test", span_mode="placeholder", precision="both", verify=False
        ),
    )
    shutil.rmtree(cache, ignore_errors=True)
    staging.rename(cache)


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_build: Path) -> Path:
    return tiny_build / "model"


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_build: Path) -> Path:
    return tiny_build / "checkpoint"


@pytest.fixture
def settings_overrides(tiny_model_dir: Path, tmp_path: Path) -> dict:
    """Service settings for tests: the tiny model, logs in tmp, one engine thread."""
    return {
        "model_dir": str(tiny_model_dir),
        "log_dir": str(tmp_path / "logs"),
        "intra_op_threads": 1,
        "max_wait_ms": 1,
    }


@pytest.fixture
def app(settings_overrides: dict) -> Iterator:
    from app import create_app

    application = create_app({**settings_overrides, "TESTING": True})
    translator = application.extensions["translator"]
    assert translator.wait_ready(60), translator.error
    yield application
    translator.close()


@pytest.fixture
def client(app):
    return app.test_client()
