"""The pure parts of scripts/bench_service.py: no LibreTranslate, no network, seconds."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from toolchain.bench import argos, service

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "models" / "demo-zh-en"


def _row(service_name: str, mode: str, level: int, round_: int, rps: float) -> dict:
    return {
        "service": service_name,
        "mode": mode,
        "concurrency": level,
        "round": round_,
        "requests_per_s": rps,
        "sentences_per_s": 2 * rps,
    }


RESULTS = [
    _row("libretranslate", "greedy", 1, 1, 10.0),
    _row("service", "greedy", 1, 1, 20.0),
    _row("libretranslate", "greedy", 1, 2, 10.0),
    _row("service", "greedy", 1, 2, 40.0),
    _row("libretranslate", "greedy", 16, 1, 50.0),
    _row("service", "greedy", 16, 1, 100.0),
    _row("libretranslate", "beam4", 1, 1, 0.0),  # no requests got through
    _row("service", "beam4", 1, 1, 5.0),
]


def test_ratio_pairs_rounds_and_takes_the_median():
    assert service.ratio(RESULTS, "greedy", 1) == 3.0  # rounds 2x and 4x
    assert service.ratio(RESULTS, "greedy", 16) == 2.0
    assert service.ratio(RESULTS, "greedy", 16, "sentences_per_s") == 2.0
    assert service.ratio(RESULTS, "beam4", 1) is None  # nothing to divide by
    assert service.ratio(RESULTS, "beam4", 16) is None  # not measured


def test_final_line_has_the_spec_keys():
    offline = {"greedy": {"sentences_per_s": 400.0}}
    line = service.final_line(RESULTS, offline, 1.25, {"agreement": {}})
    assert list(line)[:3] == ["vs_libretranslate", "vs_offline_engine_c16", "cache_hit_p50_ms"]
    assert line["vs_libretranslate"] == {
        "greedy_c1": 3.0,
        "greedy_c16": 2.0,
        "beam4_c1": None,
        "beam4_c16": None,
    }
    assert line["vs_offline_engine_c16"] == 0.5  # 200 sentences/s over 400
    assert line["cache_hit_p50_ms"] == 1.25
    assert json.loads(json.dumps(line)) == line


def test_agreement_counts_identical_and_canonically_equal_outputs():
    ours = {0: "Tom came.", 1: "I quit", 2: "He is  tall.", 3: "only ours"}
    theirs = {0: "Tom came.", 1: "I quit.", 2: "he is tall.", 4: "only theirs"}
    stats, agreed = service.agreement(ours, theirs)
    assert agreed == [0, 1, 2]
    assert stats["compared"] == 3
    assert stats["identical"] == 1
    assert stats["identical_fraction"] == 0.333
    assert stats["agreed_fraction"] == 1.0


def test_texts_are_normalised_and_grouped_once_each(tmp_path):
    pairs = tmp_path / "dev.tsv"
    pairs.write_text("I quit.\t我退出。\nI quit.\t我退出。\nThey came!\t他們來了！\nbad line\n")
    sentences = service.normalised_sentences(pairs, DEMO)
    assert sentences == ["我退出.", "他们来了!"]  # opus_punct and t2s, duplicates out
    many = [f"句{i}." for i in range(50)]
    texts = service.group_texts(many, seed=3)
    assert texts == service.group_texts(many, seed=3)
    assert sorted(s for text in texts for s in text) == sorted(many)
    assert {len(t) for t in texts} <= {1, 2, 3}
    assert service.joined(("我退出.", "他们来了!")) == "我退出. 他们来了!"


def test_request_bodies_and_outputs():
    lt = service.Service("libretranslate", "http://127.0.0.1:1", None, "translatedText")
    ours = service.Service("service", "http://127.0.0.1:1", None, "result")
    assert lt.body("你好.", 4) == {"q": "你好.", "source": "zh", "target": "en", "format": "text"}
    assert ours.body("你好.", 4)["options"] == {"beam_size": 4}
    assert lt.output(200, {"translatedText": "Hi."}) == "Hi."
    assert ours.output(200, {"success": True, "result": "Hi."}) == "Hi."
    assert ours.output(503, {"result": "Hi."}) is None
    assert ours.output(200, None) is None


def test_package_layout_and_zip(tmp_path):
    ct2 = tmp_path / "ct2"
    ct2.mkdir()
    (ct2 / "model.bin").write_bytes(b"weights")
    spacy_dir = tmp_path / "spacy"
    spacy_dir.mkdir()
    (spacy_dir / "config.cfg").write_text("[nlp]\nlang = zh\n")
    folder = argos.layout(DEMO, ct2, spacy_dir, tmp_path / "staging")
    meta = json.loads((folder / "metadata.json").read_text())
    assert (meta["from_code"], meta["to_code"], meta["type"]) == ("zh", "en", "translate")
    assert (folder / "sentencepiece.model").read_bytes() == (DEMO / "source.spm").read_bytes()
    assert (folder / "model" / "model.bin").is_file()
    assert (folder / "spacy" / "config.cfg").is_file()
    names = zipfile.ZipFile(argos.zip_folder(folder, tmp_path / "p.argosmodel")).namelist()
    assert all(n.startswith(argos.PACKAGE_DIR + "/") for n in names)
    assert f"{argos.PACKAGE_DIR}/metadata.json" in names


def test_libretranslate_runs_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("ARGOS_BEAM_SIZE", "9")
    env = argos.lt_environment(tmp_path / "home", beam=1, intra_threads=2)
    assert env["ARGOS_BEAM_SIZE"] == "1"
    assert env["ARGOS_CHUNK_TYPE"] == "SPACY"
    index = Path(env["ARGOS_PACKAGE_INDEX"].removeprefix("file://")) / "index.json"
    assert json.loads(index.read_text()) == []
    assert (Path(env["XDG_CACHE_HOME"]) / "argos-translate" / "spacy" / "senter").is_dir()
    cmd = argos.lt_command(Path("/venv"), 5000, 4)
    assert cmd[cmd.index("--load-only") + 1] == "zh,en"
    assert cmd[cmd.index("--port") + 1] == "5000"


def test_process_tree_memory_and_stop():
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"  # noqa: E501
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(argos.process_tree(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = argos.process_tree(proc.pid)
        assert len(tree) == 2
        assert argos.tree_rss_bytes(proc.pid) > argos.tree_rss_bytes(tree[1])
    finally:
        argos._stop(proc)
    assert proc.poll() is not None
    time.sleep(0.2)
    child = Path(f"/proc/{tree[1]}/stat")
    assert not child.exists() or child.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_ct2_conversion_decodes_like_the_engine(tiny_model_dir, tiny_checkpoint, tmp_path):
    """Rows, <pad> start and ban: CTranslate2 gives the engine's greedy outputs."""
    ctranslate2 = pytest.importorskip("ctranslate2")
    pytest.importorskip("transformers")
    import sentencepiece as spm

    from engine import Engine, GenerationOptions, ModelDir
    from toolchain.tiny import corpus

    out = argos.convert_ct2(tiny_model_dir, tiny_checkpoint, tmp_path / "ct2")
    config = json.loads((out / "config.json").read_text())
    assert (config["decoder_start_token"], config["add_source_eos"]) == ("<pad>", True)
    rows = json.loads((tiny_model_dir / "vocab_rows.json").read_text())
    target = json.loads((out / "target_vocabulary.json").read_text())
    assert len(target) == len(rows["target_rows"])
    engine = Engine(ModelDir.load(tiny_model_dir), intra_threads=1)
    translator = ctranslate2.Translator(str(out), intra_threads=1)
    sp = spm.SentencePieceProcessor(model_file=str(tiny_model_dir / "source.spm"))
    zh = [engine.preprocess(s) for s in corpus(24, seed=5)[0]]
    ours = engine.generate([engine.tokenizer.encode(s) for s in zh], GenerationOptions())
    theirs = translator.translate_batch([sp.encode(s, out_type=str) for s in zh], beam_size=1)
    same = sum([target[t] for t in o] == r.hypotheses[0] for o, r in zip(ours, theirs, strict=True))
    assert same >= 20, same  # INT8 on both sides: a few near ties may differ
