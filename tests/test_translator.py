"""The translator pipeline with the real tiny model: structure, spans, cache, limits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from engine import GenerationOptions
from translator import Translator
from utils.errors import BlockedContent, DeadlineExceeded, NotReady
from utils.placeholders import find_spans
from utils.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def translator(settings_overrides):
    instance = Translator(load_settings(settings_overrides, environ={}))
    instance.start(background=False)
    assert instance.ready, instance.error
    yield instance
    instance.close()


def one(translator: Translator, text: str, **options) -> str:
    result, _ = translator.translate([text], GenerationOptions(**options) if options else None)
    return result[0]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\t \n"])
def test_empty_or_whitespace_gives_empty(translator, text, monkeypatch):
    monkeypatch.setattr(translator.batcher, "submit", lambda *a: pytest.fail("model touched"))
    assert one(translator, text) == ""


@pytest.mark.parametrize("text", ["Hello, world.", "12345", "😀🎉", "iPhone 15 Pro — 256GB"])
def test_text_without_chinese_comes_back_unchanged(translator, text, monkeypatch):
    monkeypatch.setattr(translator.batcher, "submit", lambda *a: pytest.fail("model touched"))
    assert one(translator, text) == text


def test_paragraphs_and_line_breaks_survive(translator):
    text = "我你。他她。\n\n  买卖！\n钱元？\n"
    result = one(translator, text)
    assert result.count("\n") == text.count("\n")
    lines = result.split("\n")
    assert lines[1] == "" and lines[2].startswith("  ") and lines[-1] == ""
    assert lines[2].rstrip().endswith("!") and lines[3].endswith("?")


def test_every_sentence_of_a_long_text_is_translated(translator):
    sentences = [f"我你他{'的' * (i % 5)}。" for i in range(300)]
    result, stats = translator.translate(["".join(sentences)])
    assert stats.sentences == 300
    # One English sentence per Chinese one, each ending with the mirrored full stop.
    assert result[0].count(".") >= 300


def test_over_long_sentence_is_cut_not_truncated(settings_overrides):
    settings = load_settings({**settings_overrides, "max_sentence_tokens": 8}, environ={})
    instance = Translator(settings)
    instance.start(background=False)
    try:
        text = "我你他她们是的了在有不这个人来到说要会就去好吗很大小中国家学生天时年月日。"
        doc = instance._prepare(text)
        assert len(doc.pieces) > 3
        assert "".join(p.text for p in doc.pieces) == text
        assert all(instance.engine.count_tokens(p.text) <= 8 for p in doc.pieces)
        assert one(instance, text)
    finally:
        instance.close()


@pytest.mark.parametrize(
    "text",
    [
        "满99元包邮。",
        "48小时发货。",
        "iPhone 15 Pro售价7999元。",
        "请访问https://example.com/a?b=1了解。",
        "联系 service@example.com 获取。",
        "尺码XL，3.5mm耳机，99.9%纯棉。",
        "１２３号房间。",
    ],
)
def test_latin_and_digit_spans_survive_verbatim(translator, text):
    result = one(translator, text)
    for a, b in find_spans(text):
        assert text[a:b] in result, (text[a:b], result)


def test_more_spans_than_placeholders_all_survive(translator):
    text = "规格" + "，".join(f"A{i}" for i in range(14)) + "。"
    result = one(translator, text)
    for i in range(14):
        assert f"A{i}" in result


def test_cache_hits_on_repeat_and_respects_options(translator):
    _, first = translator.translate(["我你他。"])
    _, second = translator.translate(["我你他。"])
    assert first.cache_hits == 0 and second.cache_hits == 1
    _, beam = translator.translate(["我你他。"], GenerationOptions(beam_size=3))
    assert beam.cache_hits == 0


def test_use_cache_false_neither_reads_nor_fills_the_cache(translator):
    _, bypass = translator.translate(["我他你。"], use_cache=False)
    _, first = translator.translate(["我他你。"])
    _, again = translator.translate(["我他你。"], use_cache=False)
    assert bypass.cache_hits == first.cache_hits == again.cache_hits == 0
    assert translator.translate(["我他你。"])[1].cache_hits == 1


def test_cache_key_ignores_span_values(translator, monkeypatch):
    # A model that copies its placeholder, as the demo model is trained to.
    monkeypatch.setattr(
        translator.batcher, "_run_batch", lambda texts, options: ["over \ue000 yuan" for _ in texts]
    )
    first, _ = translator.translate(["满99元。"])
    second, stats = translator.translate(["满199元。"])
    assert stats.cache_hits == 1  # same masked sentence, the new number restored into it
    assert first == ["Over 99 yuan."] and second == ["Over 199 yuan."]


def test_lost_placeholder_falls_back_and_is_not_cached(translator, monkeypatch):
    calls = []

    def forgetful(texts, options):
        calls.append(options.beam_size)
        return ["free shipping" for _ in texts]  # the placeholder is gone

    monkeypatch.setattr(translator.batcher, "_run_batch", forgetful)
    result, _ = translator.translate(["满99元。"])
    assert "99" in result[0]
    assert 4 in calls  # retried with beam search before splitting around the span
    assert len(translator.cache) == 0


def test_duplicate_sentences_in_one_request_run_once(translator, monkeypatch):
    seen = []
    real = translator.batcher.submit
    monkeypatch.setattr(
        translator.batcher, "submit", lambda texts, *a: seen.append(list(texts)) or real(texts, *a)
    )
    translator.translate(["好。好。好。", "好。"])
    assert sum(len(t) for t in seen) == 1


def test_blocked_words_raise(settings_overrides):
    settings = load_settings({**settings_overrides, "blocked_words": ["XL"]}, environ={})
    instance = Translator(settings)
    instance.start(background=False)
    try:
        with pytest.raises(BlockedContent):
            instance.translate(["尺码XL。"])
        assert instance.translate(["尺码。"])[0]
    finally:
        instance.close()


def test_deadline_exceeded_cancels_waiting_work(translator, monkeypatch):
    real = translator.engine.translate
    release = threading.Event()

    def stuck(texts, options):
        release.wait(10)  # an engine slower than the request deadline
        return real(texts, options)

    monkeypatch.setattr(translator.engine, "translate", stuck)
    try:
        with pytest.raises(DeadlineExceeded):
            translator.translate(["我。", "你。"], timeout=0.05)
    finally:
        release.set()


def test_not_ready_before_start(settings_overrides):
    instance = Translator(load_settings(settings_overrides, environ={}))
    with pytest.raises(NotReady):
        instance.translate(["我。"])


def test_serving_path_never_imports_torch(tiny_model_dir, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from app import create_app
        app = create_app({{"model_dir": {str(tiny_model_dir)!r}, "log_dir": {str(tmp_path)!r},
                           "intra_op_threads": 1}})
        translator = app.extensions["translator"]
        assert translator.wait_ready(60), translator.error
        response = app.test_client().post("/translate", json={{"text": "我你他。满99元。"}})
        assert response.status_code == 200, response.data
        assert response.get_json()["result"]
        heavy = sorted(m for m in ("torch", "transformers", "optimum") if m in sys.modules)
        print("HEAVY", heavy)
        translator.close()
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HEAVY []" in done.stdout


def test_empty_model_output_keeps_the_source_sentence(translator, monkeypatch):
    monkeypatch.setattr(
        translator.batcher, "_run_batch", lambda texts, options: ["</s>"] * len(texts)
    )
    result, _ = translator.translate(["我你他。她们是。"])
    assert result == ["我你他。 她们是。"]
