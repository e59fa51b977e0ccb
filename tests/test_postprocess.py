"""The four post-processing stages, each driven by a table of cases."""

from __future__ import annotations

import pytest

from serving.errors import BlockedContent
from serving.policy import BlockedWords
from text.languages import CHINESE
from text.postprocess import capitalize_first, mirror_final_punctuation, strip_debris


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello world", "Hello world"),
        ("<unk> Hello </s>", "Hello"),
        ("<s>Hello</s>", "Hello"),
        ("Hello<pad><pad><pad>", "Hello"),
        ("Hello <UNK> world", "Hello world"),
        ("<mask> Hello", "Hello"),
        ("Hello <br/> world", "Hello world"),
        ("Hello < / b > world", "Hello world"),
        ("Hello <span class> world", "Hello <span class> world"),  # not a tag: has a space
        ("a < > b", "a b"),
        ("  Hello \n\t world  ", "Hello world"),
        ("Hello , world .", "Hello, world."),
        ("Really ? Yes !", "Really? Yes!"),
        ("Price : 5 %", "Price: 5%"),
        ("(see above )", "(see above)"),
        ("one ; two", "one; two"),
        ("3 < 5 and 7 > 2", "3 < 5 and 7 > 2"),
        ("</s>", ""),
        ("", ""),
    ],
)
def test_strip_debris(raw, expected):
    assert strip_debris(raw) == expected


@pytest.mark.parametrize(
    ("translation", "source", "expected"),
    [
        # The source's final mark, in English form, is added when missing...
        ("Hello", "你好。", "Hello."),
        ("Hello", "你好．", "Hello."),
        ("Really", "真的吗？", "Really?"),
        ("Stop", "停下！", "Stop!"),
        ("First", "第一；", "First;"),
        ("Wait", "等等……", "Wait..."),
        ("Wait", "等等…", "Wait..."),
        ("Hello world", "Hello world!", "Hello world!"),
        ("Hello", "Hello...", "Hello..."),
        # ...kept when already there...
        ("Hello.", "你好。", "Hello."),
        ("Really?", "真的吗？", "Really?"),
        ("Wait...", "等等。", "Wait..."),
        ("Really?!", "真的吗？", "Really?!"),
        ("Really?", "真的！", "Really?"),
        # ...and replaced when it is a different one.
        ("Hello!", "你好。", "Hello."),
        ("Hello:", "你好。", "Hello."),
        ("Hello.", "你好！", "Hello!"),
        ("Hello.", "真的吗？", "Hello?"),
        # Closing quotes and brackets: the mark goes inside them, like in the source.
        ('He said "hi"', "他说“你好。”", 'He said "hi."'),
        ("(see above)", "（见上文。）", "(see above.)"),
        ("Hello", "你好。 ", "Hello."),
        # No final mark in the source (titles, buttons): nothing added or removed.
        ("Buy now", "立即购买", "Buy now"),
        ("Buy now.", "立即购买", "Buy now."),
        ("Chapter 3", "第三章", "Chapter 3"),
        ("", "你好。", ""),
    ],
)
def test_mirror_final_punctuation(translation, source, expected):
    assert mirror_final_punctuation(translation, source) == expected


@pytest.mark.parametrize(
    ("text", "keep", "expected"),
    [
        ("hello world", (), "Hello world"),
        ("Hello world", (), "Hello world"),
        ("  hello", (), "  Hello"),
        ('"hello," she said', (), '"Hello," she said'),
        ("“hello”", (), "“Hello”"),
        ("(hello)", (), "(Hello)"),
        ("¿qué?", (), "¿Qué?"),
        ("élan", (), "Élan"),
        ("123 apples", (), "123 apples"),
        ("...and then", (), "...and then"),
        ("", (), ""),
        ('"', (), '"'),
        ("iPhone is great", ("iPhone",), "iPhone is great"),
        ('"eBay" sells', ("eBay",), '"eBay" sells'),
        ("iphone is great", ("iPhone",), "Iphone is great"),  # only the exact span is kept
        ("hello iPhone", ("iPhone",), "Hello iPhone"),  # kept span elsewhere: still upper-cased
        ("hello", ("",), "Hello"),  # empty spans are ignored
    ],
)
def test_capitalize_first(text, keep, expected):
    assert capitalize_first(text, keep) == expected


@pytest.mark.parametrize(
    ("words", "text", "blocked"),
    [
        (["damn"], "Damn it", True),
        (["damn"], "DAMN", True),
        (["damn"], "well, damn.", True),
        (["damn"], "damnation", False),
        (["damn"], "goddamn", False),
        (["damn"], "nothing here", False),
        (["bad word"], "a bad word here", True),
        (["bad word"], "a bad  word here", False),
        (["c++"], "I like c++ a lot", True),
        (["c++"], "I like c++11", False),
        (["foo", "bar"], "a bar b", True),
        (["  foo  "], "a foo b", True),  # words are stripped
        ([], "anything at all", False),
        (["", "   "], "anything at all", False),  # blank words block nothing
    ],
)
def test_blocked_words(words, text, blocked):
    policy = BlockedWords(words)
    if blocked:
        with pytest.raises(BlockedContent) as info:
            policy.check(text)
        assert info.value.status == 422
        assert text not in info.value.message  # the message does not echo the content
    else:
        assert policy.check(text) == text


@pytest.mark.parametrize(
    ("translation", "source", "expected"),
    [
        ("我明天来", "I will come tomorrow.", "我明天来。"),
        ("你好吗", "How are you?", "你好吗？"),
        ("太好了！", "Great!", "太好了！"),
        ("等一下", "Wait...", "等一下……"),
        ("立即购买", "Buy now", "立即购买"),
        ("他说“好”", 'He said "OK."', "他说“好。”"),
        ("你好。", "Hello!", "你好！"),
    ],
)
def test_mirror_final_punctuation_into_chinese(translation, source, expected):
    assert mirror_final_punctuation(translation, source, CHINESE) == expected
