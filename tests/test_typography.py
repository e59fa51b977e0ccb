"""English typography, list/tag/emoji framing and placeholder repair, table by table."""

from __future__ import annotations

import pytest

from text.placement import remask, repair_placeholders
from text.postprocess import drop_unmirrored_period, has_runaway_repeat
from text.structure import frame_line
from text.typography import chinese_punctuation, typeset

P0, P1, P5 = "\ue000", "\ue001", "\ue005"


@pytest.mark.parametrize(
    ("output", "source", "expected"),
    [
        ("S 、 M 、 L", "S、M、L", "S, M, L"),
        ("size：big", "尺码：大", "size: big"),
        ("a（b）c", "a（b）c", "a (b) c"),
        ("see《book》now", "看《书》", 'see "book" now'),
        ("【new】item", "【新】品", "[new] item"),
        ("「hi」", "「你好」", '"hi"'),
        ("wait……", "等……", "wait..."),
        ("ｆｕｌｌ１２３", "全", "full123"),
        ("a , b .", "甲，乙。", "a, b."),
        ("( a )", "（甲）", "(a)"),
        ("done。.", "完。", "done."),
        ("really?.", "真的？", "really?"),
        ("more...", "更多……", "more..."),
        ('" a " and " b "', "“甲”和“乙”", '"a" and "b"'),
        ('he said, "go.', "他说：“走。”", 'he said, "go."'),
        ('"title" is a book."', "《题》是书。", '"title" is a book.'),
        ("(a", "甲（乙）", "a"),
        ("a)", "（甲）乙", "a"),
        ("x,y", "甲，乙", "x, y"),
        ("3,000 yuan", "三千元", "3,000 yuan"),
    ],
)
def test_typeset(output, source, expected):
    assert typeset(output, source) == expected


@pytest.mark.parametrize(
    ("line", "head", "body", "tail"),
    [
        ("- 苹果", (("- ", False),), "苹果", ""),
        ("• 续航12小时", (("• ", False),), "续航12小时", ""),
        ("3) 完成", (("3) ", False),), "完成", ""),
        ("12、附录", (("12. ", False),), "附录", ""),
        ("十二、附录", (("12. ", False),), "附录", ""),
        ("（十）结束", (("(10) ", False),), "结束", ""),
        ("⑳ 末", (("⑳ ", False),), "末", ""),
        ("【限时特价】耳机", (("限时特价", True),), "耳机", ""),
        ("🔥🔥 热卖 👍🏽", (("🔥🔥 ", False),), "热卖", " 👍🏽"),
        ("1.5元一斤", (), "1.5元一斤", ""),
        ("-5°C很冷", (), "-5°C很冷", ""),
        ("- ", (), "- ", ""),  # a marker alone is not a list item
        ("😀", (), "😀", ""),  # emoji alone stay the body
    ],
)
def test_frame_line(line, head, body, tail):
    frame = frame_line(line)
    assert (frame.head, frame.body, frame.tail) == (head, body, tail)


@pytest.mark.parametrize(
    ("output", "source", "expected"),
    [
        ("the price is yuan.", f"价格{P0}元。", f"the price {P0} is yuan."),
        ("about this.", f"{P0}关于这个。", f"{P0} about this."),
        ("about this.", f"关于这个{P0}。", f"about this {P0}."),
        (f"{P0} and more.", f"{P0}、{P1}等。", f"{P0} {P1} and more."),
        (f"i like {P0} and {P0}.", f"我喜欢{P0}。", f"i like {P0} and."),
        (f"{P1} then {P0}.", f"{P0}然后{P1}。", f"{P1} then {P0}."),  # order kept as written
        (f"x {P5} y", f"甲乙{P0}", f"x y {P0}"),  # an unknown placeholder is dropped
    ],
)
def test_repair_placeholders(output, source, expected):
    expected_marks = "".join(c for c in source if "\ue000" <= c <= "\uf8ff")
    repaired = repair_placeholders(output, source, expected_marks)
    assert sorted(c for c in repaired if "\ue000" <= c <= "\uf8ff") == sorted(expected_marks)
    assert repaired == expected


def test_remask_moves_ids_and_maps_back():
    masked, back = remask(f"满{P0}减{P1}。", 2)
    assert P0 not in masked and P1 not in masked
    assert masked.translate(back) == f"满{P0}减{P1}。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It began to use use use.", True),
        ("Very, very, very good.", True),
        ("go on go on go on", True),
        ("very very good", False),
        ("the cat and the dog and the bird", False),
        ("", False),
    ],
)
def test_has_runaway_repeat(text, expected):
    assert has_runaway_repeat(text) is expected


@pytest.mark.parametrize(
    ("translation", "source", "expected"),
    [
        ("Buy now.", "立即购买", "Buy now"),
        ("See https://a.cn/x.", "见 https://a.cn/x", "See https://a.cn/x"),
        ("Hello.", "你好。", "Hello."),
        ("Wait...", "等等", "Wait..."),
        ("Really?", "真的", "Really?"),
    ],
)
def test_drop_unmirrored_period(translation, source, expected):
    assert drop_unmirrored_period(translation, source) == expected


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("你好, 世界!", "你好，世界！"),
        ("准备好了吗?是的;好:走", "准备好了吗？是的；好：走"),
        ("价格是\ue000, 见 https://a.cn/x?q=1", "价格是\ue000, 见 https://a.cn/x?q=1"),
        ("版本 2.0, 已发布", "版本 2.0, 已发布"),  # after a Latin character: left alone
    ],
)
def test_chinese_punctuation_after_chinese_characters(output, expected):
    assert chinese_punctuation(output) == expected
