"""The ONNX Runtime engine and its model directory, on the tiny exported model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Engine, GenerationOptions, ModelDir, ModelLoadError
from toolchain.tiny import LEXICON, corpus

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    return Engine(ModelDir.load(tiny_model_dir), intra_threads=1)


def test_tiny_model_learned_its_code(engine):
    zh, en = corpus(40, seed=7)
    out = engine.translate(zh)
    exact = sum(a == b for a, b in zip(out, en, strict=True))
    # The code is trivial; a working export + engine reproduces most of it.
    assert exact >= 10, list(zip(out, en, strict=True))[:5]


@pytest.fixture(scope="module")
def fp32_engine(tiny_model_dir):
    return Engine(ModelDir.load(tiny_model_dir, "fp32"), intra_threads=1)


@pytest.mark.parametrize("beam_size", [1, 4])
def test_fp32_results_do_not_depend_on_batch_mates(fp32_engine, beam_size):
    """Padding, masks, row dropping and beam reordering keep rows independent."""
    zh, _ = corpus(12, seed=3)
    options = GenerationOptions(beam_size=beam_size)
    alone = [fp32_engine.translate([s], options)[0] for s in zh]
    assert fp32_engine.translate(zh, options) == alone
    assert fp32_engine.translate(list(reversed(zh)), options) == list(reversed(alone))


def test_int8_batching_changes_few_results(engine):
    """Dynamic INT8 scales activations per batch, so batch mates can flip a close call."""
    zh, _ = corpus(40, seed=3)
    alone = [engine.translate([s])[0] for s in zh]
    together = engine.translate(zh)
    assert sum(a == b for a, b in zip(alone, together, strict=True)) >= 30


def test_output_length_limits(engine):
    zh = ["我" * 20 + "。"]
    short = engine.generate(
        [engine.tokenizer.encode(z) for z in zh], GenerationOptions(max_new_tokens=3)
    )
    assert len(short[0]) <= 3
    forced = engine.generate(
        [engine.tokenizer.encode("我。")], GenerationOptions(min_new_tokens=12, max_new_tokens=12)
    )
    assert len(forced[0]) == 12  # min = max: the benchmark's fixed-work mode


def test_unknown_characters_do_not_break_decoding(engine):
    assert isinstance(engine.translate(["鑫龘齉。"])[0], str)


def test_source_longer_than_positions_is_refused(engine):
    too_long = [[5] * (engine.runtime.max_positions + 1)]
    with pytest.raises(ValueError, match="positions"):
        engine.generate(too_long, GenerationOptions())


def test_code_words_match_lexicon(engine):
    assert engine.translate(["买。"])[0].lower().startswith(LEXICON["买"])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (shutil.rmtree, "does not exist"),
        (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
        (lambda d: (d / "manifest.json").write_text("{"), "not valid JSON"),
        (lambda d: (d / "decoder.onnx").unlink(), "lacks decoder.onnx"),
        (
            lambda d: (d / "manifest.json").write_text(json.dumps({"format_version": 99})),
            "format_version 99",
        ),
    ],
)
def test_model_dir_errors_are_precise(tiny_model_dir, tmp_path, mutate, message):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    mutate(copy)
    with pytest.raises(ModelLoadError, match=message):
        ModelDir.load(copy)


def test_fp32_requires_fp32_graphs(tiny_model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    shutil.rmtree(copy / "fp32")
    ModelDir.load(copy)  # INT8 alone is a complete model
    with pytest.raises(ModelLoadError, match=r"fp32/encoder\.onnx"):
        ModelDir.load(copy, "fp32")


def test_calls_are_split_to_bound_rows(fp32_engine, monkeypatch):
    import engine.generate as engine_module

    monkeypatch.setattr(engine_module, "MAX_ROWS", 8)
    rows = []
    real_start = fp32_engine.runtime.start

    def spy(batch, pad, expand, max_steps):
        rows.append(len(batch) * expand)
        return real_start(batch, pad, expand, max_steps)

    monkeypatch.setattr(fp32_engine.runtime, "start", spy)
    zh, _ = corpus(10, seed=9)
    options = GenerationOptions(beam_size=4)
    together = fp32_engine.translate(zh, options)
    assert max(rows) <= 8 and len(rows) == 5
    monkeypatch.setattr(engine_module, "MAX_ROWS", 64)
    assert together == fp32_engine.translate(zh, options)


def test_calls_are_split_to_bound_cache_memory(fp32_engine, monkeypatch):
    import engine.generate as engine_module

    rt = fp32_engine.runtime
    budget_cells = 400  # rows x cache positions
    budget = budget_cells * rt.cache_bytes_per_position
    monkeypatch.setattr(engine_module, "MAX_CACHE_BYTES", budget)
    calls = []  # (sentences, rows x positions) per call
    real_start = rt.start

    def spy(batch, pad, expand, max_steps):
        calls.append((len(batch), len(batch) * expand * max_steps))
        return real_start(batch, pad, expand, max_steps)

    monkeypatch.setattr(rt, "start", spy)
    zh, _ = corpus(12, seed=4)
    texts = [*zh, "".join(zh[:4])]  # the last one has a far longer output limit
    options = GenerationOptions(beam_size=2)
    split = fp32_engine.translate(texts, options)
    assert sum(n for n, _ in calls) == len(texts) and 1 < len(calls) < len(texts)
    # Within budget, unless a single sentence needs more on its own.
    assert all(cells <= budget_cells or n == 1 for n, cells in calls)
    monkeypatch.setattr(engine_module, "MAX_CACHE_BYTES", 2**40)
    calls.clear()
    assert split == fp32_engine.translate(texts, options)
    assert len(calls) == 1


@pytest.mark.parametrize(("spinning", "entry"), [(False, "0"), (True, "1")])
def test_session_options_control_thread_spinning(spinning, entry):
    from engine.runtime import session_options

    options = session_options(2, 1, spinning)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == entry
    assert options.intra_op_num_threads == 2


def test_onnxruntime_telemetry_is_off_before_it_is_imported(tmp_path):
    """No upload and no device id under ~/.cache: the switch must precede the import."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    code = (
        "import os, engine, onnxruntime; "
        "print(os.environ['ORT_DISABLE_TELEMETRY'], 'onnxruntime' in __import__('sys').modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["1", "True"]
    assert list(tmp_path.rglob("*")) == []  # nothing written: no cache, no device id
