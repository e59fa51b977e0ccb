"""The translator pipeline on a fake engine: structure, spans, cache, limits, fallbacks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from fakes import FakeEngine, FakeEngines

from config import load_settings
from engine import GenerationOptions
from serving import Status, Translator
from serving.errors import BlockedContent, DeadlineExceeded, NotReady
from text.spans import find_spans

ROOT = Path(__file__).resolve().parent.parent


def _start(settings_overrides: dict, engines: FakeEngines, **overrides: object) -> Translator:
    settings = load_settings({**settings_overrides, **overrides}, environ={})
    instance = Translator(settings, engine_factory=engines)
    instance.start(background=False)
    assert instance.ready, instance.error
    return instance


@pytest.fixture
def translator(settings_overrides, engines):
    instance = _start(settings_overrides, engines)
    yield instance
    instance.close()


@pytest.fixture
def engine(translator, engines) -> FakeEngine:
    engines.engine.calls.clear()  # forget the warm-up
    return engines.engine


def one(translator: Translator, text: str, **options) -> str:
    result, _ = translator.translate([text], GenerationOptions(**options) if options else None)
    return result[0]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\t \n"])
def test_empty_or_whitespace_gives_empty(translator, engine, text):
    assert one(translator, text) == ""
    assert engine.calls == []


@pytest.mark.parametrize("text", ["Hello, world.", "12345", "😀🎉", "iPhone 15 Pro — 256GB"])
def test_text_without_chinese_comes_back_unchanged(translator, engine, text):
    assert one(translator, text) == text
    assert engine.calls == []


def test_warm_up_runs_the_source_languages_sentence(settings_overrides, engines):
    instance = _start(settings_overrides, engines)
    try:
        assert engines.engine.sentences_seen == ["你好，世界。"]
        assert instance.status is Status.READY
    finally:
        instance.close()


def test_paragraphs_and_line_breaks_survive(translator):
    text = "我你。他她。\n\n  买卖！\n钱元？\n"
    result = one(translator, text)
    assert result == "I you. He she.\n\n  Buy sell!\nMoney yuan?\n"


def test_every_sentence_of_a_long_text_is_translated(translator):
    sentences = [f"我你他{'的' * (i % 5)}。" for i in range(300)]
    result, stats = translator.translate(["".join(sentences)])
    assert stats.sentences == 300
    # One English sentence per Chinese one, each ending with the mirrored full stop.
    assert result[0].count(".") == 300


def test_over_long_sentence_is_cut_not_truncated(settings_overrides, engines):
    instance = _start(settings_overrides, engines, max_sentence_tokens=8)
    try:
        engines.engine.calls.clear()
        text = "我你他她们是的了在有不这个人来到说要会就去好吗很大小中国家学生天时年月日。"
        assert one(instance, text)
        seen = engines.engine.sentences_seen
        assert len(seen) > 3
        assert sorted("".join(seen)) == sorted(text)  # the batcher orders rows by length
        assert all(engines.engine.count_tokens(part) <= 8 for part in seen)
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
def test_latin_and_digit_spans_survive_verbatim(translator, engine, text):
    result = one(translator, text)
    for a, b in find_spans(text):
        assert text[a:b] in result, (text[a:b], result)
    assert not any(any(a.isascii() and a.isalnum() for a in s) for s in engine.sentences_seen)


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


def test_cache_key_ignores_span_values(translator, engine):
    # A model that copies its placeholder, as the demo model is trained to.
    engine.respond = lambda texts, options: ["over \ue000 yuan" for _ in texts]
    first, _ = translator.translate(["满99元。"])
    second, stats = translator.translate(["满199元。"])
    assert stats.cache_hits == 1  # same masked sentence, the new number restored into it
    assert first == ["Over 99 yuan."] and second == ["Over 199 yuan."]


def test_lost_placeholder_falls_back_and_is_not_cached(translator, engine):
    engine.respond = lambda texts, options: ["free shipping" for _ in texts]  # no placeholder
    result, stats = translator.translate(["满99元。"])
    assert "99" in result[0]
    beams = [options.beam_size for _, options in engine.calls]
    assert beams[:2] == [1, 4]  # retried with beam search before splitting around the span
    assert stats.fallbacks == 1
    assert len(translator.cache) == 0


def test_fallback_keeps_the_callers_options_within_max_beam(settings_overrides, engines):
    instance = _start(settings_overrides, engines, max_beam_size=2, default_beam_size=1)
    try:
        engine = engines.engine
        engine.calls.clear()
        engine.respond = lambda texts, options: ["lost" for _ in texts]
        options = GenerationOptions(beam_size=1, length_extra=3)
        instance.translate(["满99元。"], options)
        retry = engine.calls[1][1]
        assert retry.beam_size == 2 and retry.length_extra == 3
    finally:
        instance.close()


def test_default_beam_comes_from_the_settings(settings_overrides, engines):
    instance = _start(settings_overrides, engines, default_beam_size=3)
    try:
        instance.translate(["我。"])
        assert {options.beam_size for _, options in engines.engine.calls} == {3}
    finally:
        instance.close()


def test_duplicate_sentences_in_one_request_run_once(translator, engine):
    translator.translate(["好。好。好。", "好。"])
    assert engine.sentences_seen == ["好。"]


def test_blocked_words_raise(settings_overrides, engines):
    instance = _start(settings_overrides, engines, blocked_words=["XL"])
    try:
        with pytest.raises(BlockedContent):
            instance.translate(["大XL。"])
        assert instance.translate(["大。"])[0] == ["Big."]
    finally:
        instance.close()


def test_deadline_exceeded_cancels_waiting_work(translator, engine):
    release = threading.Event()

    def stuck(texts, options):
        release.wait(10)  # an engine slower than the request deadline
        return engine.code(texts, options)

    engine.respond = stuck
    try:
        with pytest.raises(DeadlineExceeded):
            translator.translate(["我。", "你。"], timeout=0.05)
    finally:
        release.set()


def test_not_ready_before_start(settings_overrides, engines):
    instance = Translator(load_settings(settings_overrides, environ={}), engine_factory=engines)
    with pytest.raises(NotReady):
        instance.translate(["我。"])
    assert instance.status is Status.STARTING


def test_health_reports_status_queue_and_cache(translator):
    translator.translate(["我。"])
    health = translator.health()
    assert health.status is Status.READY and health.alive
    assert health.direction == "zh-en" and health.model == "fake-zh-en"
    assert health.worker_alive and health.queue_depth == 0
    assert health.cache["entries"] == 1


def test_empty_model_output_keeps_the_source_sentence(translator, engine):
    engine.respond = lambda texts, options: ["</s>"] * len(texts)
    result, _ = translator.translate(["我你他。她们是。"])
    assert result == ["我你他。 她们是。"]


def test_serving_path_never_imports_torch(tiny_model_dir, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from app import create_app
        app = create_app({{"model_dir": {str(tiny_model_dir)!r}, "log_dir": {str(tmp_path)!r},
                           "intra_op_threads": 1}})
        registry = app.extensions["registry"]
        assert registry.wait_ready(60), [t.error for t in registry]
        response = app.test_client().post("/translate", json={{"text": "我你他。满99元。"}})
        assert response.status_code == 200, response.data
        assert response.get_json()["result"]
        heavy = sorted(m for m in ("torch", "transformers", "optimum") if m in sys.modules)
        print("HEAVY", heavy)
        registry.close()
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
