"""The typed model-directory contract: parsing, validation errors, round trip, digests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine import ModelDir, ModelLoadError, read_manifest
from engine.contract import FORMAT_VERSION, MANIFEST, Manifest, file_digests, write_manifest

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "demo-zh-en"


def _raw(root: Path = SHIPPED) -> dict:
    return json.loads((root / MANIFEST).read_text(encoding="utf-8"))


def test_the_shipped_manifest_parses_with_its_direction():
    manifest = read_manifest(SHIPPED)
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.direction == "zh-en"
    assert manifest.vocab.pad in manifest.vocab.banned
    assert manifest.architecture.decoder_layers >= 1
    assert "exporter" in manifest.provenance


def test_the_shipped_digests_match_its_files():
    assert read_manifest(SHIPPED).files == file_digests(SHIPPED)


def test_round_trip_keeps_every_field():
    data = _raw()
    assert Manifest.from_dict(data).to_dict() == data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format_version=2), "format_version 2; this engine reads"),
        (lambda d: d.pop("source_lang"), "lacks source_lang"),
        (lambda d: d.update(span_mode="magic"), "'span_mode' must be one of"),
        (lambda d: d["vocab"].update(eos="0"), "'vocab.eos' must be an integer"),
        (lambda d: d["vocab"].update(banned=[1, "x"]), "'vocab.banned' must be a list"),
        (lambda d: d.update(files={"encoder.onnx": "abc"}), "SHA-256"),
        (lambda d: d.update(source_preprocessing="t2s"), "list of strings"),
        (lambda d: d.update(architecture=[]), "'architecture' must be an object"),
    ],
)
def test_invalid_manifests_fail_naming_the_problem(change, message):
    data = _raw()
    change(data)
    with pytest.raises(ModelLoadError, match=message):
        Manifest.from_dict(data)


def test_unreadable_manifest_and_missing_files_are_clear(tmp_path):
    with pytest.raises(ModelLoadError, match=r"is missing: not an exported model"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text("{nope", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        read_manifest(tmp_path)
    write_manifest(tmp_path, read_manifest(SHIPPED))
    with pytest.raises(ModelLoadError, match=r"lacks encoder\.onnx"):
        ModelDir.load(tmp_path)


def test_digests_skip_the_manifest_the_card_and_the_checkpoint(tmp_path):
    root = tmp_path / "model"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("*.safetensors", "*.spm"))
    names = set(file_digests(root))
    assert "encoder.onnx" in names
    assert not {n for n in names if n.endswith(".md") or n.startswith("checkpoint/")}
    assert MANIFEST not in names
