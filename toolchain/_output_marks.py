"""List markers, emoji and paired brackets, as ``toolchain.check_output`` compares them.

Each is a property of one text; the checker flags a translation that drops what its
source has (a list marker, an emoji) or unbalances what its source keeps balanced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

_PAIRS = tuple(zip("([{“《「【（", ")]}”》」】）", strict=True))
# The emoji blocks, and the emoji of Misc Technical and Misc Symbols and Arrows (⌚ ⏰ ⭐ ⬛).
_EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f2ff"
_EMOJI += "\u231a\u231b\u23e9-\u23f3\u23f8-\u23fa\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55"
EMOJI_RE = re.compile(f"[{_EMOJI}][\ufe0f\U0001f3fb-\U0001f3ff]*(?:\u200d[{_EMOJI}]\ufe0f?)*")
_ZH_VALUE = {c: i for i, c in enumerate("一二三四五六七八九", 1)}
_ZH_NUM = "一二三四五六七八九十"


def _number(text: str) -> int | None:
    """ASCII digits or a Chinese numeral 1..99 (一, 十, 十二, 二十三) as an int, else None."""
    if text.isdigit():
        return int(text)
    tens, sep, units = text.partition("十")
    if not sep:
        return _ZH_VALUE.get(text)
    high, low = (_ZH_VALUE.get(part) if part else empty for part, empty in ((tens, 1), (units, 0)))
    return None if high is None or low is None else high * 10 + low


def _numbered(fmt: str, *same: str) -> Callable[[re.Match[str]], tuple[str, ...] | None]:
    """Prefixes for a numbered marker: *fmt* with the number in ASCII digits, and *same*
    (``"{0}"`` is the source marker itself)."""

    def prefixes(match: re.Match[str]) -> tuple[str, ...] | None:
        number = _number(match[1])
        return None if number is None else (fmt.format(number), *(s.format(match[0]) for s in same))

    return prefixes


# A list marker or leading tag at the start of a source line -> the output prefixes that
# keep it (the same marker or its ASCII counterpart; the first is the one to write).
_MARKERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, ...] | None]], ...] = (
    (re.compile(r"([-*]) "), lambda m: (m[0],)),  # "- " -> "- ", "* " -> "* "
    (re.compile(r"•"), lambda m: ("•", "- ", "* ")),  # "• " -> "• " (or "- ", "* ")
    (re.compile(r"(\d{1,3})[.．](?![\d.．])"), _numbered("{}.")),  # "12. " -> "12. "
    (re.compile(r"(\d{1,3})、"), _numbered("{}.", "{0}")),  # "1、" -> "1. "
    (re.compile(f"([{_ZH_NUM}]{{1,3}})、"), _numbered("{}.")),  # "一、" -> "1. "
    (re.compile("([\u2460-\u2473])"), lambda m: (m[0], f"({ord(m[0]) - 0x245F})")),  # ①
    (re.compile(rf"[（(](\d{{1,3}}|[{_ZH_NUM}]{{1,3}})[）)]"), _numbered("({})")),  # （一） -> (1)
    (re.compile(r"【[^】]*】"), lambda m: ("[", "【")),  # 【限时特价】 -> [
)


def list_marker(line: str) -> tuple[str, tuple[str, ...]] | None:
    """The marker *line* starts with and the output prefixes that keep it, if any."""
    text = line.lstrip()
    for pattern, expected in _MARKERS:
        match = pattern.match(text)
        prefixes = expected(match) if match else None
        if match and prefixes:
            return match[0], prefixes
    return None


def emojis(text: str) -> Counter[str]:
    """The emoji (sequences) of *text*, variation selectors dropped."""
    return Counter(m.group().replace("\ufe0f", "") for m in EMOJI_RE.finditer(text))


def unbalanced(text: str) -> list[str]:
    """The pairs (``()``, ``"``...) that are unbalanced in *text*."""
    bad = ['"'] if text.count('"') % 2 else []
    for opening, closing in _PAIRS:
        depth = 0
        for char in text:
            depth += (char == opening) - (char == closing)
            if depth < 0:
                break
        if depth:
            bad.append(opening + closing)
    return bad
