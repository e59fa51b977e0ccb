"""What frames a line besides its sentences: list markers, leading tags, emoji.

``- 苹果`` must stay a bulleted line, ``【限时特价】无线耳机`` a tagged title and
``🔥爆款推荐🔥`` keep its emoji, whatever the model does with them. :func:`frame_line`
peels them off a line before segmentation; the segmenter carries the markers and emoji
verbatim (markers in their English form) and gives each tag's words to the model as a
piece of their own, wrapped in the target's brackets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_NUMERALS = "一二三四五六七八九十"
_EMOJI = (
    "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe0f\u200d\u20e3\U000e0020-\U000e007f"
)
EMOJI_RUN_RE = re.compile(f"[{_EMOJI}]+")
_LEADING_EMOJI_RE = re.compile(f"[{_EMOJI}]+[ \\t]*")
_TRAILING_EMOJI_RE = re.compile(f"[ \\t]*[{_EMOJI}]+$")
# Longest forms first: "（一）", "一、", "1. ", "1)", "1、", "①", "- ", "• ".
_MARKER_RE = re.compile(
    rf"""(?:
        [（(](?P<paren>[{_CN_NUMERALS}]{{1,2}}|\d{{1,2}})[）)][ \t]*
      | (?P<cn>[{_CN_NUMERALS}]{{1,2}})、[ \t]*
      | (?P<num>\d{{1,3}})(?P<sep>[.)、])(?:[ \t]+|(?=\D))
      | (?P<circled>[\u2460-\u2473\u2776-\u277f])[ \t]*
      | (?P<bullet>[-*•·+])[ \t]+
    )""",
    re.VERBOSE,
)
_TAG_RE = re.compile(r"【([^【】\n]{1,40})】[ \t]*")


def _numeral(text: str) -> int:
    """Value of 1..99 written with Chinese numerals (一, 十二, 二十三) or digits."""
    if text.isdigit():
        return int(text)
    value = {c: i + 1 for i, c in enumerate(_CN_NUMERALS)}
    if len(text) == 1:
        return value[text]
    if text[0] == "十":
        return 10 + value[text[1]]
    return value[text[0]] * 10 + (value[text[2]] if len(text) == 3 else 0)


def english_marker(match: re.Match[str]) -> str:
    """The English form of a matched list marker, with its trailing space."""
    if match["paren"]:
        return f"({_numeral(match['paren'])}) "
    if match["cn"]:
        return f"{_numeral(match['cn'])}. "
    if match["num"]:
        sep = ")" if match["sep"] == ")" else "."
        return f"{match['num']}{sep} "
    if match["circled"]:
        return match["circled"] + " "
    return match["bullet"] + " "


@dataclass(frozen=True)
class Frame:
    """A line taken apart: what comes before its sentences, the sentences, the end."""

    # In order: (text, is_tag). Verbatim parts (a marker in English form, emoji) are
    # carried as they are; a tag's words are translated.
    head: tuple[tuple[str, bool], ...]
    body: str
    # Trailing emoji with the whitespace before them.
    tail: str


def frame_line(line: str) -> Frame:
    """Peel a list marker, leading tags and emoji, and trailing emoji off *line*.

    *line* has no leading whitespace and no line break.
    """
    head: list[tuple[str, bool]] = []
    rest = line
    marker = _MARKER_RE.match(rest)
    if marker and rest[marker.end() :].strip():
        head.append((english_marker(marker), False))
        rest = rest[marker.end() :]
    while True:
        emoji = _LEADING_EMOJI_RE.match(rest)
        tag = _TAG_RE.match(rest)
        if emoji and rest[emoji.end() :].strip():
            head.append((emoji.group().rstrip() + " ", False))
            rest = rest[emoji.end() :]
        elif tag:
            head.append((tag.group(1).strip(), True))
            rest = rest[tag.end() :]
        else:
            break
    tail = ""
    trailing = _TRAILING_EMOJI_RE.search(rest)
    if trailing and rest[: trailing.start()].strip():
        tail = trailing.group()
        rest = rest[: trailing.start()]
    return Frame(tuple(head), rest, tail)
