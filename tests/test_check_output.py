"""The output checker: each detector on hand-written cases, lists line by line, and the
command end to end on a fake engine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fakes import FakeEngines

from config import load_settings
from serving import Translator
from toolchain import check_output
from toolchain.check_output import GATED, KINDS, Defect, check, check_files, list_marker, main

# (kind, source, output, flagged?)
CASES = [
    # cjk_punct: Chinese punctuation, full-width forms, ideographic space in the output
    ("cjk_punct", "你好，世界。", "Hello， world.", True),
    ("cjk_punct", "他说：好。", "He said：good.", True),
    ("cjk_punct", "请看《说明》。", "See 《Instructions》.", True),
    ("cjk_punct", "他说“好”。", "He said “good”.", True),
    ("cjk_punct", "价格是九十九元。", "The price is ９９ yuan.", True),
    ("cjk_punct", "你好 世界", "Hello\u3000world", True),
    ("cjk_punct", "等一下……", "Wait…", True),
    ("cjk_punct", "你好，世界。", "Hello, world.", False),
    ("cjk_punct", "他说“好”。", 'He said "good".', False),
    ("cjk_punct", "型号ＡＢ１２３。", "Model ＡＢ１２３.", False),  # a verbatim span
    ("cjk_punct", "型号ＡＢ１２３。", "Model ＡＢ１２ 3.", True),  # the span broke: counts
    ("cjk_punct", "我爱北京。", "I love 'Beijing' (China).", False),
    # double_final: two final marks where one belongs
    ("double_final", "你好。", "Hello..", True),
    ("double_final", "你好。", "Hello.。", True),
    ("double_final", "你好吗？", "Are you well?.", True),
    ("double_final", "太好了！", "Great!.", True),
    ("double_final", "你好。", "Hello。.", True),
    ("double_final", "你好。", "Hello. .", True),
    ("double_final", "等一下……", "Wait...", False),
    ("double_final", "真的吗？！", "Really?!", False),
    ("double_final", "你好。", "Hello.", False),
    ("double_final", "运行 cd .. 返回上级目录。", "Run cd .. to go up.", False),
    ("double_final", "当前版本为 v2.3.1。", "The current version is v2.3.1.", False),
    # space_before_punct
    ("space_before_punct", "你好，世界。", "Hello , world.", True),
    ("space_before_punct", "你好。", "Hello .", True),
    ("space_before_punct", "真的吗？", "Really ?", True),
    ("space_before_punct", "注意：小心。", "Note : careful.", True),
    ("space_before_punct", "（注意）", "( note)", True),
    ("space_before_punct", "（注意）", "(note )", True),
    ("space_before_punct", "你好，世界。", "Hello, world.", False),
    ("space_before_punct", "使用 .venv 目录。", "Use the .venv directory.", False),
    ("space_before_punct", "执行 ./run 脚本。", "Run the ./run script.", False),
    ("space_before_punct", "等一下……", "Wait ...", False),
    ("space_before_punct", "不能包含 < > : 等字符。", "No < > : characters.", False),  # as written
    # span_lost: a protected span of the source not verbatim in the output
    ("span_lost", "满99元包邮。", "Free shipping over 9 yuan.", True),
    ("span_lost", "iPhone 15 Pro 手机壳", "Case for iPhone 15", True),
    ("span_lost", "请发送邮件至 dev@example.org。", "Please email dev@example.com.", True),
    ("span_lost", "访问 https://example.com/docs 查看。", "See example.com/docs.", True),
    ("span_lost", "满99元包邮。", "Free shipping over 99 yuan.", False),
    ("span_lost", "iPhone 15 Pro 手机壳", "iPhone 15 Pro case", False),
    ("span_lost", "你好。", "Hello.", False),
    ("span_lost", "访问 https://example.com/docs 查看。", "See https://example.com/docs.", False),
    # marker_lost: list markers and leading tags
    ("marker_lost", "- 防水", "Waterproof", True),
    ("marker_lost", "1. 打开包装。", "Open the package.", True),
    ("marker_lost", "12. 重启。", "1. Restart.", True),
    ("marker_lost", "① 轻薄", "Thin and light", True),
    ("marker_lost", "（一）环境准备", "Environment preparation", True),
    ("marker_lost", "(2) 部署", "Deploy", True),
    ("marker_lost", "3、下载", "Download", True),
    ("marker_lost", "• 一体成型", "One-piece", True),
    ("marker_lost", "【限时特价】耳机", "Limited-time offer: earbuds", True),
    ("marker_lost", "- 防水", "- Waterproof", False),
    ("marker_lost", "* 注意", "* Note", False),
    ("marker_lost", "• 一体成型", "- One-piece", False),
    ("marker_lost", "1. 打开包装。", "1. Open the package.", False),
    ("marker_lost", "1、下载", "1. Download", False),
    ("marker_lost", "① 轻薄", "① Thin", False),
    ("marker_lost", "① 轻薄", "(1) Thin", False),
    ("marker_lost", "（一）环境准备", "(1) Environment", False),
    ("marker_lost", "（十二）部署", "(12) Deploy", False),
    ("marker_lost", "【限时特价】耳机", "[Limited-time offer] Earbuds", False),
    ("marker_lost", "-5°C 保存", "Store at -5°C", False),
    ("marker_lost", "1.5 升", "1.5 liters", False),
    # emoji_lost
    ("emoji_lost", "🔥爆款返场！", "Our bestseller is back!", True),
    ("emoji_lost", "❤️ 超过10万人的选择", "Chosen by over 100,000 people", True),
    ("emoji_lost", "⭐⭐⭐ 好评", "⭐ Good reviews", True),
    ("emoji_lost", "👨\u200d👩\u200d👧 家庭装", "👨 Family pack", True),
    ("emoji_lost", "🔥爆款返场！", "🔥 Our bestseller is back!", False),
    ("emoji_lost", "❤️ 超过", "❤ Over", False),  # the variation selector may go
    ("emoji_lost", "⭐⭐⭐ 好评", "⭐⭐⭐ Good reviews", False),
    ("emoji_lost", "你好。", "Hello 😀.", False),
    ("emoji_lost", "👨\u200d👩\u200d👧 家庭装", "👨\u200d👩\u200d👧 Family pack", False),
    # unbalanced: in the output while balanced in the source
    ("unbalanced", "请阅读《使用说明》。", 'Please read the "Instructions.', True),
    ("unbalanced", "偏远地区（新疆、西藏）不包邮。", "Remote areas (Xinjiang do not.", True),
    ("unbalanced", "调用 foo() 返回。", "Calling foo)( returns.", True),
    ("unbalanced", "设置 {name} 值。", "Set the {name value.", True),
    ("unbalanced", "【包邮】T恤", "[Free shipping T-shirt", True),
    ("unbalanced", "他说“好”。", "He said “good.", True),
    ("unbalanced", "请阅读《使用说明》。", 'Please read the "Instructions".', False),
    ("unbalanced", "偏远地区（新疆）不包邮。", "Remote areas (Xinjiang) do not.", False),
    ("unbalanced", '不能包含 < > : " 等字符。', 'No < > : " characters.', False),  # source odd
    ("unbalanced", "你好。", "Hello.", False),
    # added_period: a period the source did not end with
    ("added_period", "立即购买", "Buy now.", True),
    ("added_period", "产品参数：", "Product parameters.", True),
    ("added_period", "【买一送一】", "[Buy one get one free].", True),
    ("added_period", "到手价 ¥1,299.00", "Final price ¥1,299.00.", True),
    (
        "added_period",
        "文档在 https://docs.example.com/w/ 上。",
        "Docs: https://docs.example.com/w/.",
        True,
    ),
    ("added_period", "截图保存在 docs/images/ 目录下。", "Screenshots are in docs/images/.", True),
    ("added_period", "立即购买", "Buy now", False),
    ("added_period", "你好。", "Hello.", False),
    ("added_period", "等一下", "Wait...", False),
    (
        "added_period",
        "完整文档请参阅 https://example.com/docs。",
        "See https://example.com/docs.",
        False,
    ),
    ("added_period", "他说：“走吧。”", 'He said: "Let\'s go."', False),
    ("added_period", "产品参数：", "Product parameters:", False),
    # repeat3: a word or a 2-gram three times in a row
    ("repeat3", "不要用。", "Use use use it.", True),
    ("repeat3", "不超过5度。", "It isn't over over over 5.", True),
    ("repeat3", "欢迎咨询。", "Welcome, information, information, information.", True),
    ("repeat3", "很好。", "Very good very good very good.", True),
    ("repeat3", "包邮", "The package is st-st-st", True),
    ("repeat3", "很好。", "Very very good.", False),
    ("repeat3", "很好。", "A a a good.", False),  # one-letter words
    ("repeat3", "很好。", "One two one two one.", False),
    ("repeat3", "很好。", "That that is is fine.", False),
    ("repeat3", "口号 buy buy buy", "Slogan: buy buy buy", False),  # the source has it
    # missing: empty or untranslated
    ("missing", "你好。", "", True),
    ("missing", "你好。", "   ", True),
    ("missing", "你好。", "你好。", True),
    ("missing", "第一行\n第二行", "First line\n", True),
    ("missing", "你好。", "Hello.", False),
    ("missing", "12345", "12345", False),
    ("missing", "", "", False),
    ("missing", "iPhone 15", "iPhone 15", False),
]


def kinds(defects: list[Defect]) -> set[str]:
    assert all(d.kind in KINDS and d.detail for d in defects), defects
    return {d.kind for d in defects}


@pytest.mark.parametrize(("kind", "source", "output", "flagged"), CASES)
def test_detector(kind, source, output, flagged):
    assert (kind in kinds(check(source, output))) == flagged


def test_every_kind_has_cases_both_ways():
    for kind in KINDS:
        assert sum(k == kind and f for k, _, _, f in CASES) >= 4, kind
        assert sum(k == kind and not f for k, _, _, f in CASES) >= 4, kind


def test_a_clean_translation_has_no_defect():
    assert (
        check("满99元包邮，iPhone 15 Pro 手机壳！", "Free shipping over 99, iPhone 15 Pro case!")
        == []
    )


def test_details_name_what_is_wrong():
    (lost,) = check("满99元包邮。", "Free shipping over 9 yuan.")
    assert lost == Defect("span_lost", "'99'")
    (marker,) = check("（一）环境准备", "Environment preparation")
    assert "(1)" in marker.detail


def test_missing_is_kept_apart_from_other_kinds():
    assert kinds(check("你好，世界。", "你好，世界。")) == {"missing"}


@pytest.mark.parametrize(
    ("line", "marker", "first"),
    [
        ("- 防水", "- ", "- "),
        ("12. 重启", "12.", "12."),
        ("1、下载", "1、", "1."),
        ("二十三、部署", "二十三、", "23."),
        ("⑳ 最后", "⑳", "⑳"),
        ("（十）其他", "（十）", "(10)"),
        ("【预售】付定金", "【预售】", "["),
        ("普通句子", None, None),
    ],
)
def test_list_marker_mapping(line, marker, first):
    found = list_marker(line)
    assert (found and (found[0], found[1][0])) == ((marker, first) if marker else None)


def test_lists_are_compared_line_by_line():
    source = "- 防水\n- 续航12小时\n• 屏幕"
    output = "- Waterproof\n12 hours of battery.\n• Screen"
    defects = check(source, output)
    assert {(d.kind, d.detail.split(":")[0]) for d in defects} == {
        ("marker_lost", "line 2"),
        ("added_period", "line 2"),
    }
    assert check(source, "- Waterproof\n- 12 hours of battery\n• Screen") == []


def test_a_span_must_come_back_on_its_own_line():
    defects = check("型号A1\n颜色", "Model\nColour A1")
    assert [(d.kind, d.detail) for d in defects] == [("span_lost", "line 1: 'A1'")]


def test_different_line_counts_check_the_whole_text():
    defects = check("- 防水\n- 续航12小时", "- Waterproof, 12 hours of battery")
    assert defects == []  # the marker of the first line, the span anywhere


def test_inside_a_verbatim_span_anything_goes(monkeypatch):
    def code_spans(text):
        return [m.span() for m in re.finditer(r"`[^`]*`", text)]

    monkeypatch.setattr(check_output, "find_spans", code_spans)
    source = "运行 `foo (bar，baz )` 命令。"
    assert check(source, "Run the `foo (bar，baz )` command.") == []
    broken = kinds(check(source, "Run the `foo (bar，baz)` command."))
    assert broken == {"cjk_punct", "span_lost"}


# --- end to end on a fake engine ------------------------------------------------------


@pytest.fixture
def translator(settings_overrides: dict, engines: FakeEngines):
    settings = load_settings({**settings_overrides, "cache_size": 0}, environ={})
    instance = Translator(settings, engine_factory=engines)
    instance.start(background=False)
    assert instance.ready, instance.error
    yield instance
    instance.close()


def _files(tmp_path: Path) -> list[Path]:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "I am a student.\t我是学生。\n"
        "(1) I bought it.\t（一）我买了。\n"
        "Very good!\t🔥我很好！\n"
        "Good good good.\t我好好好。\n"  # the fake's code repeats too: repeat3
        "I go to China\t我去中国\n",
        encoding="utf-8",
    )
    plain = tmp_path / "plain.txt"
    # Untranslated (the fake knows none of these characters): missing. Without Chinese,
    # only the punctuation is typeset. Then a list of two lines in one text.
    plain.write_text("一二三\nbeta（2025）\n- 我好\\n- 你好\n", encoding="utf-8")
    return [pairs, plain]


def test_check_files_reads_both_formats(tmp_path, translator):
    report = check_files(_files(tmp_path), translator)
    assert [(Path(r.file).name, r.line) for r in report.results] == [
        *(("pairs.tsv", n) for n in range(1, 6)),
        *(("plain.txt", n) for n in range(1, 4)),
    ]
    assert report.results[0].source == "我是学生。"
    assert report.results[-1].source == "- 我好\n- 你好"
    assert report.results[-1].output.lower() == "- i good\n- you good"
    assert report.model == "fake-zh-en"
    for r in report.results:
        assert list(r.defects) == check(r.source, r.output)


def test_main_end_to_end(tmp_path, translator, capsys):
    files = _files(tmp_path)
    expected = check_files(files, translator).counts()
    paths = [str(p) for p in files]
    assert main([*paths, "--show", "1"], translator=translator) == 0
    out = capsys.readouterr().out.splitlines()
    summary = json.loads(out[-1])
    assert summary["files"] == paths
    assert summary["sentences"] == 8
    assert summary["defects"] == expected
    assert list(expected) == list(KINDS)
    assert (expected["missing"], expected["repeat3"], expected["cjk_punct"]) == (1, 1, 0)
    assert summary["flagged"] >= 2  # missing and repeat3
    survival = summary["span_survival"]
    assert survival["spans"] == survival["verbatim"] >= 2  # "beta", "2025"
    assert summary["repeat3_ratio"] == round(1 / 8, 4)
    assert (summary["model"], summary["beam"]) == ("fake-zh-en", 1)
    assert out[0].split() == ["class", "sentences", "%"]
    assert "    → 一二三" in out
    assert translator.ready  # main leaves a translator it was given to its owner


class _Careless:
    """A translator stand-in that leaves CJK punctuation in: a steady gated defect."""

    model_id = "careless"

    def translate(self, texts, options=None, timeout=None, use_cache=True):
        return [t.replace("我", "I") for t in texts], None


def test_json_only_and_max_defects(tmp_path, capsys):
    files = _files(tmp_path)
    translator = _Careless()
    gated = check_files(files, translator).flagged(GATED)
    assert gated >= 1
    paths = [str(p) for p in files]
    assert main([*paths, "--json-only", "--max-defects", str(gated)], translator=translator) == 0
    assert (
        main([*paths, "--json-only", "--max-defects", str(gated - 1)], translator=translator) == 1
    )
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert all(json.loads(line)["sentences"] == 8 for line in out)
