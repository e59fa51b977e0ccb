"""What a person reads: typography, structure, span rescue and repetition, end to end.

The translator runs on the fake engine (tests/fakes.py): each known character becomes its
code word, so outputs are predictable, and ``respond`` stands in for a model's mistakes.
"""

from __future__ import annotations

import pytest
from fakes import FakeEngines

from config import load_settings
from serving import Translator


@pytest.fixture
def engine(settings_overrides):
    engines = FakeEngines()
    settings = load_settings(settings_overrides, environ={})
    translator = Translator(settings, engine_factory=engines)
    translator.start(background=False)
    assert translator.ready, translator.error
    engines.engine.calls.clear()
    engines.engine.translator = translator
    yield engines.engine
    translator.close()


def run(engine, text: str) -> str:
    results, engine.stats = engine.translator.translate([text])
    return results[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- 我\n- 你\n- 他", "- I\n- You\n- He"),
        ("* 大\n• 小", "* Big\n• Small"),
        ("1. 买。\n2. 卖。", "1. Buy.\n2. Sell."),
        ("1、买\n2、卖", "1. Buy\n2. Sell"),
        ("①买\n②卖", "① Buy\n② Sell"),
        ("（一）买。\n（二）卖。", "(1) Buy.\n(2) Sell."),
        ("【大】我你", "[Big] I you"),
        ("【大】【小】我你。", "[Big] [Small] I you."),
        ("🔥大🔥", "🔥 Big 🔥"),
        ("我你！🔥", "I you! 🔥"),
        ("  - 我", "  - I"),
    ],
)
def test_list_markers_tags_and_emoji_frame_the_sentence(engine, text, expected):
    assert run(engine, text) == expected
    assert all("【" not in s and "-" not in s for s in engine.sentences_seen)


@pytest.mark.parametrize(
    ("answer", "source", "expected"),
    [
        ("size : S 、 M 、 L 。", "大：我、你、他。", "Size: S, M, L."),
        ("\u201c big \u201d is good 。.", "“大”好。", '"Big" is good.'),
        ("he said , \u201c come .", "他说：“来。”", 'He said, "come."'),
        ("price （ 99 ） .", "钱（九）。", "Price (99)."),
        ("wow ？.", "大？", "Wow?"),
        ("buy now.", "买", "Buy now"),
        ("go to the site.", "去", "Go to the site"),
        ("wait……", "等……", "Wait..."),
    ],
)
def test_english_typography(engine, answer, source, expected):
    engine.respond = lambda texts, options: [answer for _ in texts]
    assert run(engine, source) == expected


def test_a_lost_span_is_rescued_without_splitting_the_sentence(engine):
    def forgetful(texts, options):
        return ["free shipping over yuan" for _ in texts]  # the placeholder is always gone

    engine.respond = forgetful
    result = run(engine, "满99元包邮。")
    # One sentence: the span placed by its position in the source, one capital, one stop.
    assert result == "Free 99 shipping over yuan."
    beams = [options.beam_size for _, options in engine.calls]
    assert beams == [1, 4, 4]  # greedy, wider beam, other placeholder ids; then repair
    assert all(len(texts) == 1 for texts, _ in engine.calls)  # never in fragments
    assert engine.stats.fallbacks == 1


def test_a_retry_with_other_placeholder_ids_is_mapped_back(engine):
    def picky(texts, options):
        # Copies only the placeholders from U+E005 on, as a model might.
        return ["".join(c for c in t if c >= "\ue005") + " yuan" for t in texts]

    engine.respond = picky
    assert run(engine, "满99元。") == "99 yuan."


def test_runaway_repetition_is_retried_with_a_no_repeat_beam(engine):
    def loops_when_greedy(texts, options):
        if options.no_repeat_ngram:
            return ["start using it." for _ in texts]
        return ["start using using using using." for _ in texts]

    engine.respond = loops_when_greedy
    assert run(engine, "开始使用。") == "Start using it."
    assert engine.stats.repetition_retries == 1
    retry = engine.calls[-1][1]
    assert retry.beam_size == 4 and retry.no_repeat_ngram == 3


def test_duplicated_placeholder_keeps_one(engine):
    engine.respond = lambda texts, options: ["i like \ue000 and \ue000." for _ in texts]
    assert run(engine, "我喜欢XL。").count("XL") == 1
