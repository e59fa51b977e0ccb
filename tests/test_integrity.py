"""Model integrity: every file the engine reads is checked against its SHA-256 in the
manifest before a session is created; a damaged model fails readiness, with the file's
name in the log and nothing about it in the client's answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine import ModelDir, ModelLoadError
from engine.contract import MANIFEST
from web.logs import flush_logging

BLOCK = 64 * 1024


def _copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    return copy


def _zero_middle(path: Path) -> None:
    """Overwrite 64 KiB in the middle of *path* with zeros, keeping its size."""
    size = path.stat().st_size
    assert size > 2 * BLOCK, size
    with path.open("r+b") as stream:
        stream.seek(size // 2 - BLOCK // 2)
        stream.write(bytes(BLOCK))
    assert path.stat().st_size == size


def test_an_intact_copy_loads_and_lists_what_it_reads(tiny_model_dir, tmp_path):
    model = ModelDir.load(_copy(tiny_model_dir, tmp_path))
    assert model.loaded_files() == [
        "encoder.onnx",
        "decoder.onnx",
        "source.spm",
        "target.spm",
        "vocab.json",
        "vocab_rows.json",
    ]
    fp32 = ModelDir.load(model.path, "fp32").loaded_files()
    assert fp32[:2] == ["fp32/encoder.onnx", "fp32/decoder.onnx"]


def test_a_damaged_graph_fails_the_load_naming_the_file(tiny_model_dir, tmp_path):
    copy = _copy(tiny_model_dir, tmp_path)
    _zero_middle(copy / "decoder.onnx")
    message = (
        r"^decoder\.onnx does not match its SHA-256 in manifest\.json: "
        r"the file is damaged or was replaced$"
    )
    with pytest.raises(ModelLoadError, match=message):
        ModelDir.load(copy)
    ModelDir.load(copy, "fp32")  # the fp32 graphs are intact, and int8's are not read


def test_only_the_files_of_the_loaded_precision_are_checked(tiny_model_dir, tmp_path):
    copy = _copy(tiny_model_dir, tmp_path)
    _zero_middle(copy / "fp32" / "encoder.onnx")
    ModelDir.load(copy)
    with pytest.raises(ModelLoadError, match=r"^fp32/encoder\.onnx does not match"):
        ModelDir.load(copy, "fp32")


def test_a_replaced_tokenizer_file_and_an_unlisted_one_are_refused(tiny_model_dir, tmp_path):
    copy = _copy(tiny_model_dir, tmp_path)
    vocab = copy / "vocab.json"
    vocab.write_bytes(vocab.read_bytes() + b" ")  # still valid JSON, another file
    with pytest.raises(ModelLoadError, match=r"^vocab\.json does not match its SHA-256"):
        ModelDir.load(copy)
    shutil.copy(tiny_model_dir / "vocab.json", vocab)
    (copy / "README.md").write_text("a file the manifest does not list\n", "utf-8")
    ModelDir.load(copy)  # files the engine does not read are not its business
    data = json.loads((copy / MANIFEST).read_text("utf-8"))
    del data["files"]["target.spm"]
    (copy / MANIFEST).write_text(json.dumps(data), "utf-8")
    with pytest.raises(ModelLoadError, match=r"^target\.spm has no SHA-256 in manifest\.json"):
        ModelDir.load(copy)


def test_a_damaged_model_fails_readiness_with_the_reason_in_the_log(
    tiny_model_dir, tmp_path, settings_overrides
):
    from app import create_app

    copy = _copy(tiny_model_dir, tmp_path)
    _zero_middle(copy / "decoder.onnx")
    app = create_app({**settings_overrides, "model_dir": str(copy), "TESTING": True})
    registry = app.extensions["registry"]
    try:
        assert registry.wait_ready(30) is False
        assert registry.default.status.value == "failed"
        client = app.test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["error"]["code"] == "not_ready"
        assert "decoder.onnx" not in ready.get_data(as_text=True)  # details: the log only
        response = client.post("/translate", json={"text": "我你他。"})
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "not_ready"
        assert "Retry-After" not in response.headers  # retrying will not help
    finally:
        registry.close()
    flush_logging()
    log = (Path(settings_overrides["log_dir"]) / "translator.log").read_text("utf-8")
    assert "model loading failed" in log
    assert "decoder.onnx does not match its SHA-256 in manifest.json" in log
