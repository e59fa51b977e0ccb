"""Engine worker processes (serving.engine_pool) on the tiny real zh→en model."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from helpers import wait_until
from pool_children import KILL, PAIR, dying_engine, pairing_engine

from config import SettingsError, load_settings
from engine import Engine, GenerationOptions, ModelDir, ModelLoadError
from engine.contract import MANIFEST, sha256_file
from serving import ProcessEngine, Translator, load_engine
from serving.errors import NotReady, TranslationFailed
from toolchain.tiny import corpus

ROOT = Path(__file__).resolve().parent.parent
BEAM_4 = GenerationOptions(beam_size=4)
GREEDY = GenerationOptions()


def _settings(tmp_path: Path, model_dir: Path, **overrides: object):
    base = {"model_dir": str(model_dir), "log_dir": str(tmp_path / "logs"), "intra_op_threads": 1}
    return load_settings({**base, **overrides}, environ={})


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(scope="module")
def in_process(tiny_model_dir):
    return Engine(ModelDir.load(tiny_model_dir), intra_threads=1)


@pytest.fixture(scope="module")
def pool(tiny_model_dir, tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("pool"), tiny_model_dir, engine_processes=2)
    engine = load_engine(settings, settings.model_path)
    yield engine
    engine.close()


@pytest.mark.parametrize("options", [GenerationOptions(), BEAM_4], ids=["greedy", "beam4"])
def test_outputs_match_the_in_process_engine(pool, in_process, options):
    zh, _ = corpus(16, seed=11)
    assert pool.translate(zh, options) == in_process.translate(zh, options)
    # One sentence at a time too: each call may land on either child.
    assert [pool.translate([s], options)[0] for s in zh[:4]] == [
        in_process.translate([s], options)[0] for s in zh[:4]
    ]


def test_load_engine_builds_the_pool_with_the_models_facts(pool, in_process):
    assert isinstance(pool, ProcessEngine)
    assert pool.processes == 2 and len(set(pool.pids)) == 2
    for name in ("model_id", "span_mode", "source_lang", "target_lang", "max_source_tokens"):
        assert getattr(pool, name) == getattr(in_process, name), name
    for text in ("我你他。", "满99元包邮！", "  她们 是的了 "):
        assert pool.preprocess(text) == in_process.preprocess(text)
        assert pool.count_tokens(text) == in_process.count_tokens(text)
    assert pool.translate([], GenerationOptions()) == []


def test_an_engine_error_is_re_raised_with_its_type_and_the_child_survives(pool):
    pids = set(pool.pids)
    too_long = "我" * (pool.max_source_tokens + 100)
    with pytest.raises(ValueError, match="exceeds the model's") as raised:
        pool.translate([too_long], GenerationOptions())
    assert any("raised in engine-" in note for note in raised.value.__notes__)
    assert pool.translate(["我你他。"], GenerationOptions())
    assert set(pool.pids) == pids  # nobody was restarted


def test_a_child_dying_mid_batch_fails_only_that_batch(tiny_model_dir, in_process):
    engine = ProcessEngine(ModelDir.load(tiny_model_dir), 1, child_factory=dying_engine)
    try:
        [before] = engine.pids
        with pytest.raises(TranslationFailed) as failed:
            engine.translate(["我你他。", KILL], GenerationOptions())
        assert failed.value.status == 500 and failed.value.retry_after == 1
        zh, _ = corpus(6, seed=5)
        # The next call waits for the restarted child and succeeds.
        assert engine.translate(zh, BEAM_4) == in_process.translate(zh, BEAM_4)
        [after] = engine.pids
        assert after != before and _gone(before)
    finally:
        engine.close()


def test_one_child_decodes_two_batches_at_once(tiny_model_dir, in_process):
    engine = ProcessEngine(ModelDir.load(tiny_model_dir), 1, child_factory=pairing_engine, slots=2)
    try:
        zh, _ = corpus(4, seed=7)
        with ThreadPoolExecutor(2) as pool:
            calls = [pool.submit(engine.translate, [PAIR, text], GREEDY) for text in zh[:2]]
            results = [call.result(timeout=60) for call in calls]
        assert results == [in_process.translate([text], GREEDY) for text in zh[:2]]
    finally:
        engine.close()


def test_close_leaves_no_live_child(tiny_model_dir):
    engine = ProcessEngine(ModelDir.load(tiny_model_dir), 2)
    pids = engine.pids
    assert len(pids) == 2 and not any(_gone(pid) for pid in pids)
    engine.close()
    assert all(_gone(pid) for pid in pids)
    assert engine.pids == []
    with pytest.raises(NotReady):
        engine.translate(["我你他。"], GenerationOptions())
    engine.close()  # twice is harmless


def test_a_child_that_cannot_load_fails_the_load_promptly(tiny_model_dir, tmp_path):
    # The parent's checks pass (the manifest lists the garbage), ONNX Runtime's do not.
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    (copy / "decoder.onnx").write_bytes(b"not an onnx graph")
    manifest = json.loads((copy / MANIFEST).read_text("utf-8"))
    manifest["files"]["decoder.onnx"] = sha256_file(copy / "decoder.onnx")
    (copy / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    before = {p.pid for p in multiprocessing.active_children()}
    with pytest.raises(ModelLoadError, match=r"engine-\d could not load the model: "):
        ProcessEngine(ModelDir.load(copy), 2, load_timeout=60)
    assert {p.pid for p in multiprocessing.active_children()} <= before


def test_a_translator_closes_its_engine_processes(tiny_model_dir, tmp_path):
    made: list = []

    def factory(settings, path):
        made.append(load_engine(settings, path))
        return made[-1]

    translator = Translator(
        _settings(tmp_path, tiny_model_dir, engine_processes=1), engine_factory=factory
    )
    translator.start(background=False)
    try:
        assert translator.ready, translator.error
        result, _ = translator.translate(["我你他。"])
        assert result[0].startswith("I you he")
    finally:
        translator.close()
    [engine] = made
    assert isinstance(engine, ProcessEngine) and engine.pids == []


def test_children_exit_when_the_parent_is_killed(tiny_model_dir, tmp_path):
    script = textwrap.dedent(f"""
        import os, signal
        from engine import ModelDir
        from serving.engine_pool import ProcessEngine
        engine = ProcessEngine(ModelDir.load({str(tiny_model_dir)!r}), 2)
        print(*engine.pids, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    # Files, not pipes: the children inherit them, and reading a pipe to its end would
    # wait for the children instead of testing that they go.
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        command = [sys.executable, "-c", script]
        done = subprocess.run(
            command, stdout=stdout, stderr=stderr, timeout=120, cwd=ROOT, check=False
        )
    assert done.returncode == -9, err.read_text()[-2000:]
    pids = [int(pid) for pid in out.read_text().split()]
    assert len(pids) == 2
    wait_until(lambda: all(_gone(pid) for pid in pids), timeout=30, what="orphaned children")


def test_engine_processes_setting(tmp_path, tiny_model_dir):
    assert _settings(tmp_path, tiny_model_dir).engine_processes == 1  # settings.json
    env = {"TRANSLATOR_ENGINE_PROCESSES": "0"}
    assert load_settings({"log_dir": str(tmp_path)}, environ=env).engine_processes == 0
    for bad in (-1, 65):
        with pytest.raises(SettingsError, match="'engine_processes' must be between 0 and 64"):
            _settings(tmp_path, tiny_model_dir, engine_processes=bad)
    with pytest.raises(SettingsError, match="'engine_processes' must be an integer"):
        _settings(tmp_path, tiny_model_dir, engine_processes="two")
    settings = _settings(tmp_path, tiny_model_dir, engine_processes=0)
    assert isinstance(load_engine(settings, settings.model_path), Engine)  # in-process
