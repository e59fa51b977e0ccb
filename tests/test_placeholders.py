"""Protected spans: what is found, how it is masked, and how it is checked or restored."""

from __future__ import annotations

import itertools

import pytest

from text.normalize import opus_punct
from text.spans import (
    MAX_PLACEHOLDERS,
    PLACEHOLDERS,
    Protected,
    SpanGuard,
    find_spans,
    split_around_spans,
)

P0, P1, P2 = PLACEHOLDERS[:3]


def spans_of(text: str) -> list[str]:
    return [text[a:b] for a, b in find_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("满99元包邮", ["99"]),
        ("准确率99.9%，厚度3.5mm，内存128GB", ["99.9%", "3.5mm", "128GB"]),
        ("打九折，即90％", ["90％"]),
        ("人口1,000,000人", ["1,000,000"]),
        ("新款iPhone 15 Pro发布了", ["iPhone 15 Pro"]),
        ("尺码XL的衣服", ["XL"]),
        ("连接Wi-Fi后7:45出发", ["Wi-Fi", "7:45"]),
        ("价格１２３元", ["１２３"]),
        ("ＡＢＣ公司", ["ＡＢＣ"]),
        ("访问https://example.com/path?q=1。谢谢", ["https://example.com/path?q=1"]),
        ("见 https://example.com/a. 然后", ["https://example.com/a"]),
        ("见 https://example.com/a.b 然后", ["https://example.com/a.b"]),
        ("（https://x.org/a），好", ["https://x.org/a"]),
        ("(https://x.org/a)", ["https://x.org/a"]),
        ("网址www.example.com，好", ["www.example.com"]),
        ("请访问 http://example.com/a?b=c&d=e! 好", ["http://example.com/a?b=c&d=e"]),
        ("邮箱 foo.bar+tag@example.co.uk。", ["foo.bar+tag@example.co.uk"]),
        ("联系 a_b@test-mail.org，谢谢", ["a_b@test-mail.org"]),
        ("私用\ue000字符\ue001\ue002", ["\ue000", "\ue001\ue002"]),
        ("没有任何拉丁字母", []),
        ("", []),
    ],
)
def test_find_spans(text, expected):
    assert spans_of(text) == expected


def test_find_spans_offsets_are_sorted_and_disjoint():
    text = "iPhone 15 Pro售价7999元，见https://apple.com。邮箱a@b.cn，尺码XL"
    offsets = find_spans(text)
    assert offsets == sorted(offsets)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(offsets))
    assert all(a < b for a, b in offsets)


def test_find_spans_full_width_decimal_number_is_one_span():
    assert spans_of("价格１２３．５元") == ["１２３．５"]


# --- placeholder mode ---------------------------------------------------------------------


def test_placeholder_protect_masks_spans_in_order():
    guard = SpanGuard("placeholder")
    protected = guard.protect("满99元包邮，iPhone 15 Pro降价10%")
    assert protected == Protected(f"满{P0}元包邮，{P1}降价{P2}", ("99", "iPhone 15 Pro", "10%"))


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            f"Free shipping over {P0} yuan, {P1} {P2} off",
            "Free shipping over 99 yuan, iPhone 15 Pro 10% off",
        ),
        # The model may reorder spans: each placeholder still maps to its own span.
        (f"{P2} off {P1}, free shipping over {P0}", "10% off iPhone 15 Pro, free shipping over 99"),
    ],
)
def test_placeholder_round_trip(output, expected):
    guard = SpanGuard("placeholder")
    protected = guard.protect("满99元包邮，iPhone 15 Pro降价10%")
    assert guard.restore(output, protected) == expected


@pytest.mark.parametrize(
    "output",
    [
        f"Free shipping over {P0} yuan, {P1} off",  # one placeholder missing
        f"Free shipping over {P0} yuan, {P1} {P2} off {P2}",  # one duplicated
        f"{P0} {P1} {P2} {PLACEHOLDERS[3]}",  # an unknown placeholder appears
        f"{P0} {P1} \uf000",  # garbled into another private-use character
        "Free shipping over 99 yuan",  # model wrote the span itself: placeholders lost
    ],
)
def test_placeholder_restore_rejects_lost_or_garbled_spans(output):
    guard = SpanGuard("placeholder")
    protected = guard.protect("满99元包邮，iPhone 15 Pro降价10%")
    assert guard.restore(output, protected) is None


def test_placeholder_duplicate_spans_get_their_own_placeholders():
    guard = SpanGuard("placeholder")
    protected = guard.protect("99元和99元")
    assert protected.text == f"{P0}元和{P1}元"
    assert protected.spans == ("99", "99")
    assert guard.restore(f"{P0} yuan and {P1} yuan", protected) == "99 yuan and 99 yuan"
    # Both placeholders must come back even though they stand for the same text.
    assert guard.restore(f"{P0} yuan and {P0} yuan", protected) is None
    assert guard.restore(f"{P0} yuan twice", protected) is None


def test_placeholder_without_spans_passes_text_through():
    guard = SpanGuard("placeholder")
    protected = guard.protect("你好世界")
    assert protected == Protected("你好世界", ())
    assert guard.restore("Hello world", protected) == "Hello world"


def test_private_use_characters_in_the_input_are_protected_too():
    guard = SpanGuard("placeholder")
    protected = guard.protect("图标\ue123很好")
    assert protected.spans == ("\ue123",)
    assert protected.text == f"图标{P0}很好"
    assert guard.restore(f"The icon {P0} is good", protected) == "The icon \ue123 is good"


def test_a_list_of_spans_is_one_run_with_english_separators():
    guard = SpanGuard("placeholder", separators=lambda gap: {"、": ", "}.get(gap, gap))
    text = "尺码" + "、".join(f"X{n}" for n in range(MAX_PLACEHOLDERS + 2)) + "。"
    protected = guard.protect(text)
    assert protected.text == f"尺码{P0}。"
    assert protected.spans == (", ".join(f"X{n}" for n in range(MAX_PLACEHOLDERS + 2)),)
    assert guard.restore(f"Sizes {P0}.", protected) == f"Sizes {protected.spans[0]}."


def test_more_runs_than_placeholders_are_joined_shortest_gap_first():
    guard = SpanGuard("placeholder")
    text = "是".join(f"X{n}" for n in range(MAX_PLACEHOLDERS + 2)) + "。"
    protected = guard.protect(text)
    assert len(protected.spans) == MAX_PLACEHOLDERS
    assert set(PLACEHOLDERS) <= set(protected.text)
    restored = guard.restore(" ".join(PLACEHOLDERS) + ".", protected)
    assert restored is not None
    assert all(f"X{n}" in restored for n in range(MAX_PLACEHOLDERS + 2))


def test_runs_prefer_gaps_without_words():
    guard = SpanGuard("placeholder")
    text = "A和B是" + "、".join(f"C{n}" for n in range(MAX_PLACEHOLDERS)) + "。"
    protected = guard.protect(text)
    assert protected.spans[0] == "A" and protected.spans[1] == "B"  # "和" keeps them apart


# --- verbatim mode ------------------------------------------------------------------------


def test_verbatim_protect_leaves_text_unchanged():
    guard = SpanGuard("verbatim")
    protected = guard.protect("满99元包邮，iPhone 15 Pro")
    assert protected == Protected("满99元包邮，iPhone 15 Pro", ("99", "iPhone 15 Pro"))


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Free shipping over 99 yuan, iPhone 15 Pro", "Free shipping over 99 yuan, iPhone 15 Pro"),
        ("iPhone 15 Pro: free shipping over 99", "iPhone 15 Pro: free shipping over 99"),
        ("Free shipping over 9 yuan, iPhone 15 Pro", None),  # number mangled
        ("Free shipping over 99 yuan, iPhone 15", None),  # model number cut short
        ("Free shipping", None),
    ],
)
def test_verbatim_restore_checks_presence(output, expected):
    guard = SpanGuard("verbatim")
    protected = guard.protect("满99元包邮，iPhone 15 Pro")
    assert guard.restore(output, protected) == expected


def test_verbatim_restore_looks_for_the_preprocessed_form_and_puts_the_original_back():
    guard = SpanGuard("verbatim", preprocess=opus_punct)
    protected = guard.protect("价格１２３元")
    assert protected.spans == ("１２３",)
    assert guard.restore("The price is 123 yuan", protected) == "The price is １２３ yuan"
    assert guard.restore("The price is 12 yuan", protected) is None


def test_span_guard_rejects_unknown_mode():
    with pytest.raises(ValueError, match="'copy'"):
        SpanGuard("copy")


# --- split_around_spans -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "满99元包邮，iPhone 15 Pro降价10%",
        "99元",
        "包邮99",
        "没有拉丁字母",
        "",
        "iPhone",
        "见https://example.com/a.。邮箱a@b.cn",
    ],
)
def test_split_around_spans_covers_the_whole_text(text):
    pieces = split_around_spans(text)
    assert "".join(piece for piece, _ in pieces) == text
    assert [piece for piece, is_span in pieces if is_span] == spans_of(text)
    assert all(piece for piece, _ in pieces)  # no empty pieces
    flags = [is_span for _, is_span in pieces]
    # Two plain pieces are never adjacent (spans may be, e.g. "a\ue000").
    assert not any(not a and not b for a, b in itertools.pairwise(flags))


def test_split_around_spans_example():
    assert split_around_spans("满99元包邮") == [("满", False), ("99", True), ("元包邮", False)]
