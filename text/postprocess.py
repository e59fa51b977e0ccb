"""Post-processing of raw model output: small, pure stages, in the order they run.

1. :func:`strip_debris`: special tokens and tag debris out, whitespace collapsed.
2. :func:`mirror_final_punctuation`: the source's sentence-final mark, in the target
   language's form; nothing added when the source has none (titles, buttons:
   "立即购买" → "Buy now").
3. :func:`capitalize_first`: first letter of the sentence upper-cased (targets that
   capitalise only).

The blocked-words policy that may reject a finished translation is
:class:`serving.policy.BlockedWords`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from text.languages import ENGLISH, FINAL_MARKS, Language

_SPECIAL_RE = re.compile(r"</?(?:unk|s|pad|mask)>|<\s*/?\s*[A-Za-z][\w:-]*\s*/?>|<\s*>", re.I)
_SPACE_RE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([,.!?;:%)\]])")

_CLOSERS = "”’」』）)】》\"'"
_OPENERS = "\"'“‘([{《「『【¿¡"


def strip_debris(text: str) -> str:
    """Remove ``<unk>``, ``</s>``, ``<pad>`` and stray tags; collapse whitespace."""
    text = _SPECIAL_RE.sub(" ", text)
    text = _SPACE_RE.sub(" ", text).strip()
    return _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)


def _source_final(source: str) -> str | None:
    """The kind of end (``period``, ``question``...) *source* has, if any."""
    core = source.rstrip().rstrip(_CLOSERS).rstrip()
    for mark, kind in FINAL_MARKS:
        if core.endswith(mark):
            return kind
    return None


def mirror_final_punctuation(translation: str, source: str, target: Language = ENGLISH) -> str:
    """Give *translation* the *target* form of *source*'s final mark, if it has one."""
    kind = _source_final(source)
    if kind is None or not translation:
        return translation
    marks = target.end_marks
    wanted = marks[kind]
    closers = ""
    body = translation
    while body and body[-1] in _CLOSERS:
        closers = body[-1] + closers
        body = body[:-1]
    body = body.rstrip()
    stripped = body.rstrip(target.final_chars)
    if body.endswith(wanted) or (kind == "period" and body.endswith(marks["ellipsis"])):
        return translation
    strong = marks["exclamation"] + marks["question"]
    if stripped != body and wanted in strong and body[-1] in strong:
        # "?!" style endings from the model are kept; only a missing mark is filled.
        return translation
    return stripped + wanted + closers


def capitalize_first(text: str, keep: Sequence[str] = ()) -> str:
    """Upper-case the first letter, after opening quotes, unless a kept span starts there.

    *keep* lists text the user wrote that must survive verbatim ("iPhone" stays "iPhone").
    """
    index = 0
    while index < len(text) and (text[index].isspace() or text[index] in _OPENERS):
        index += 1
    if index == len(text) or not text[index].islower():
        return text
    for span in keep:
        # A span the letter belongs to, even one that starts with an opener: {{count}}.
        at = text.find(span) if span else -1
        if 0 <= at <= index < at + len(span):
            return text
    return text[:index] + text[index].upper() + text[index + 1 :]


_WORD_RE = re.compile(r"\w+")


def has_runaway_repeat(text: str) -> bool:
    """True if a word comes three times in a row, or a pair of words does."""
    words = [w.lower() for w in _WORD_RE.findall(text)]
    for n in (1, 2):
        for i in range(len(words) - 3 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n] == words[i + 2 * n : i + 3 * n]:
                return True
    return False


_PATH_CHARS = ("/", "\\")


def drop_unmirrored_period(translation: str, source: str, spans: Sequence[str] = ()) -> str:
    """Remove a final full stop the model added where the source has no final mark.

    Titles, buttons and lines that end in a URL carry no period ("立即购买" → "Buy now").
    Nor does a sentence whose last word is a URL or path of *spans*: a period glued to
    it would be copied with it.
    """
    body = translation.rstrip()
    ends_in_path = any(
        body[:-1].endswith(span) and any(c in span for c in _PATH_CHARS) for span in spans
    )
    if _source_final(source) is not None and not ends_in_path:
        return translation
    if body.endswith((".", "。")) and not body.endswith(("...", "……")):
        return body[:-1].rstrip()
    return translation
