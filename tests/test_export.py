"""The export toolchain end to end on a locally built Marian checkpoint (no download)."""

from __future__ import annotations

import json

import onnx
import pytest

from engine import Engine, ModelDir, read_manifest
from engine.contract import FORMAT_VERSION, file_digests, sha256_file
from toolchain import export_cli as export_model


@pytest.fixture(scope="module")
def exported(tiny_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "model"
    code = export_model.main(
        [
            str(tiny_checkpoint),
            "--out",
            str(out),
            "--precision",
            "both",
            "--model-id",
            "tiny-export",
            "--min-bleu",
            "30",
        ]
    )
    assert code == 0
    return out


def test_directory_layout_and_manifest(exported):
    for name in (
        "encoder.onnx",
        "decoder.onnx",
        "source.spm",
        "target.spm",
        "vocab.json",
        "vocab_rows.json",
        "manifest.json",
        "fp32/encoder.onnx",
        "fp32/decoder.onnx",
    ):
        assert (exported / name).is_file(), name
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["model_id"] == "tiny-export"
    assert manifest["precision"] == "int8"
    assert manifest["exporter"]["onnxruntime"]
    quant = manifest["quantization"]
    assert quant["target"] in ("avx2", "avx512", "vnni", "generic", "x86_64", "aarch64")
    assert {"per_channel", "reduce_range", "weight_type", "cpu_flags"} <= set(quant)
    assert manifest["sizes"]["total_int8_dir"] > 0
    assert manifest["source_preprocessing"] == ["opus_punct"]
    assert manifest["format_version"] == FORMAT_VERSION
    assert (manifest["source_lang"], manifest["target_lang"]) == ("zh", "en")


def test_manifest_records_every_served_files_sha256(exported):
    files = read_manifest(exported).files
    assert set(files) == {
        "encoder.onnx",
        "decoder.onnx",
        "source.spm",
        "target.spm",
        "vocab.json",
        "vocab_rows.json",
        "fp32/encoder.onnx",
        "fp32/decoder.onnx",
    }
    assert files == file_digests(exported)
    assert files["decoder.onnx"] == sha256_file(exported / "decoder.onnx")


def test_verification_numbers_recorded(exported):
    verification = json.loads((exported / "manifest.json").read_text())["verification"]
    assert verification["fp32"]["identical_ratio"] >= 0.9
    assert verification["int8"]["bleu_vs_torch"] >= 30
    assert verification["int8"]["sentences"] >= 40


def test_graphs_are_int8_and_share_the_output_embedding(exported):
    decoder = onnx.load(str(exported / "decoder.onnx"))
    init_types = {i.name: i.data_type for i in decoder.graph.initializer}
    assert "out_w_quantized" in init_types and "out_w" not in init_types
    ops = {n.op_type for n in decoder.graph.node}
    assert ops & {"MatMulInteger", "DynamicQuantizeMatMul"}
    assert "TopK" in ops and "top_k" in [i.name for i in decoder.graph.input]


def test_int8_is_smaller_than_fp32(exported):
    int8 = sum((exported / n).stat().st_size for n in ("encoder.onnx", "decoder.onnx"))
    fp32 = sum((exported / "fp32" / n).stat().st_size for n in ("encoder.onnx", "decoder.onnx"))
    assert int8 < fp32


def test_exported_model_serves(exported):
    engine = Engine(ModelDir.load(exported), intra_threads=1)
    assert engine.model_id == "tiny-export"
    assert engine.translate(["我你。"])[0]
    fp32 = Engine(ModelDir.load(exported, "fp32"), intra_threads=1)
    assert fp32.translate(["我你。"])[0]


def test_unreachable_hub_id_fails_clearly(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SystemExit, match="could not be downloaded"):
        export_model.main(["no-such-org/no-such-model-xyz", "--out", str(tmp_path / "x")])
