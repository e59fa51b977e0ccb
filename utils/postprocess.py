"""Post-processing of raw model output: four small, pure stages.

1. :func:`strip_debris`: special tokens and tag debris out, whitespace collapsed.
2. :func:`mirror_final_punctuation`: the source's sentence-final mark, in English form;
   nothing added when the source has none (titles, buttons: "立即购买" → "Buy now").
3. :func:`capitalize_first`: first letter of the sentence upper-cased.
4. :class:`BlockedWords`: an optional whole-word policy that rejects a translation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from utils.errors import BlockedContent

_SPECIAL_RE = re.compile(r"</?(?:unk|s|pad|mask)>|<\s*/?\s*[A-Za-z][\w:-]*\s*/?>|<\s*>", re.I)
_SPACE_RE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([,.!?;:%)\]])")

# Source end mark -> English end mark. Order matters: longer marks first.
_FINAL_MARKS = (
    ("……", "..."),
    ("...", "..."),
    ("…", "..."),
    ("。", "."),
    ("．", "."),
    ("！", "!"),
    ("？", "?"),
    ("；", ";"),
    (".", "."),
    ("!", "!"),
    ("?", "?"),
    (";", ";"),
)
_CLOSERS = "”’」』）)】》\"'"
_ENGLISH_FINAL = ".!?;:…"
_OPENERS = "\"'“‘([{《「『【¿¡"


def strip_debris(text: str) -> str:
    """Remove ``<unk>``, ``</s>``, ``<pad>`` and stray tags; collapse whitespace."""
    text = _SPECIAL_RE.sub(" ", text)
    text = _SPACE_RE.sub(" ", text).strip()
    return _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)


def _source_final(source: str) -> str | None:
    core = source.rstrip().rstrip(_CLOSERS).rstrip()
    for mark, english in _FINAL_MARKS:
        if core.endswith(mark):
            return english
    return None


def mirror_final_punctuation(translation: str, source: str) -> str:
    """Give *translation* the English form of *source*'s final mark, if it has one."""
    wanted = _source_final(source)
    if wanted is None or not translation:
        return translation
    closers = ""
    body = translation
    while body and body[-1] in _CLOSERS:
        closers = body[-1] + closers
        body = body[:-1]
    body = body.rstrip()
    stripped = body.rstrip(_ENGLISH_FINAL)
    if body.endswith(wanted) or (wanted == "." and body.endswith("...")):
        return translation
    if stripped != body and wanted in "!?" and body[-1] in "!?":
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
    if any(span and text.startswith(span, index) for span in keep):
        return text
    return text[:index] + text[index].upper() + text[index + 1 :]


class BlockedWords:
    """Reject translations that contain any configured word (whole word, any case)."""

    def __init__(self, words: Iterable[str]) -> None:
        words = [w for w in (w.strip() for w in words) if w]
        self._pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)
            if words
            else None
        )

    def check(self, text: str) -> str:
        """Return *text* unchanged, or raise BlockedContent."""
        if self._pattern is not None and self._pattern.search(text):
            raise BlockedContent(
                "The translation contains content blocked by this service's policy."
            )
        return text
