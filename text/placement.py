"""Put back the placeholders a translation lost, where the source puts them.

A small model sometimes drops a placeholder ("满\ue000元包邮" → "Free shipping") or
writes one twice. Translating the pieces between spans apart and gluing them together
breaks the sentence; the last resort here keeps the translation whole instead and
inserts each lost placeholder next to a neighbour the model kept (when the two were
adjacent in the source), or at the word boundary nearest its relative position in the
source. Duplicates keep their first occurrence. :func:`remask` gives the retry before
that another set of placeholder ids (the model was trained on all of them).
"""

from __future__ import annotations

import re

from text.spans import MAX_PLACEHOLDERS, PLACEHOLDERS

_PLACEHOLDER_RE = re.compile("[\ue000-\uf8ff]")
_FINAL = ".!?;:…。！？；："
_CLOSING = ",.!?;:)]}\"'…"
_SPACE_BEFORE_RE = re.compile(r" +([,.!?;:)\]}])")


def remask(masked: str, count: int) -> tuple[str, dict[int, str]]:
    """*masked* with its *count* placeholders moved to other ids, and the table back."""
    shift = max(count, MAX_PLACEHOLDERS // 2)
    moved = [PLACEHOLDERS[(i + shift) % MAX_PLACEHOLDERS] for i in range(count)]
    forward = {ord(PLACEHOLDERS[i]): moved[i] for i in range(count)}
    back = {ord(moved[i]): PLACEHOLDERS[i] for i in range(count)}
    return masked.translate(forward), back


def repair_placeholders(output: str, masked_source: str, expected: str) -> str:
    """Return *output* holding each placeholder of *expected* exactly once.

    *masked_source* is the sentence the model saw; *expected* the placeholders it holds,
    in source order.
    """
    seen: set[str] = set()

    def first_only(match: re.Match[str]) -> str:
        mark = match.group()
        if mark not in expected or mark in seen:
            return ""
        seen.add(mark)
        return mark

    text = _SPACE_BEFORE_RE.sub(r"\1", " ".join(_PLACEHOLDER_RE.sub(first_only, output).split()))
    for index, mark in enumerate(expected):
        if mark not in text:
            text = _insert(text, mark, index, masked_source, expected)
    return text


def _insert(text: str, mark: str, index: int, source: str, expected: str) -> str:
    previous = next((m for m in reversed(expected[:index]) if m in text), None)
    following = next((m for m in expected[index + 1 :] if m in text), None)
    if previous is not None and _adjacent(source, previous, mark):
        at = text.index(previous) + 1
    elif following is not None and _adjacent(source, mark, following):
        at = text.index(following)
    else:
        at = _boundary(text, source.index(mark) / max(1, len(source) - 1))
    return _splice(text, at, mark)


def _adjacent(source: str, left: str, right: str) -> bool:
    """True if only punctuation or spaces separate *left* and *right* in *source*."""
    between = source[source.index(left) + 1 : source.index(right)]
    return not re.search(r"\w", between)


def _boundary(text: str, ratio: float) -> int:
    """The word boundary of *text* nearest *ratio* of its length, before a final mark."""
    end = len(text.rstrip(_FINAL + "\"')] "))
    if ratio >= 0.9:
        return end
    if ratio <= 0.1:
        return 0
    target = ratio * end
    cuts = [0, end] + [m.start() for m in re.finditer(" ", text[:end])]
    return min(cuts, key=lambda cut: abs(cut - target))


def _splice(text: str, at: int, mark: str) -> str:
    left, right = text[:at].rstrip(), text[at:].lstrip()
    glue = "" if not right or right[0] in _CLOSING else " "
    return (left + " " if left else "") + mark + glue + right
