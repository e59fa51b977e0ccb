"""Protect what the user wrote in Latin script or digits from the model.

Numbers, units, model numbers, brand names, URLs and e-mail addresses must come out
exactly as they went in. A small model mangles them ("满99元包邮" → "front of 9"), so
every such span is swapped for a placeholder token before translation and put back
afterwards. Two modes, chosen by the model's manifest:

* ``placeholder``: spans become private-use characters U+E000.. that the model was
  trained to copy; :meth:`SpanGuard.restore` puts the originals back.
* ``verbatim``: the text goes in unchanged (for models such as opus-mt-zh-en that copy
  Latin text well); :meth:`SpanGuard.restore` only checks that every span came back.

When a check fails, ``restore`` returns ``None`` and the translator falls back (see
``serving/translator.py``); nothing is ever dropped silently.

What counts as a span depends on the source language: in Chinese text every Latin or
digit run is one (:func:`find_spans`); in English text only what no translation may
change: URLs, e-mail addresses and placeholders already present (:func:`find_latin_spans`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PLACEHOLDER_BASE = 0xE000
MAX_PLACEHOLDERS = 10
PLACEHOLDERS = tuple(chr(PLACEHOLDER_BASE + i) for i in range(MAX_PLACEHOLDERS))

_ALNUM = "A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_URL = r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
# A run of letters/digits; inner connectors (3.5, 1,000, Wi-Fi, 7:45, Tom's) and single
# spaces between Latin words (iPhone 15 Pro) stay inside; a trailing % or ％ joins it.
_TOKEN = rf"[{_ALNUM}](?:[{_ALNUM}]|[.,:/_+\-'&#．]+(?=[{_ALNUM}])|[ \t]+(?=[{_ALNUM}]))*[%％]?"
_PRIVATE_USE = "[\ue000-\uf8ff]+"
SPAN_RE = re.compile(f"{_URL}|{_EMAIL}|{_TOKEN}|{_PRIVATE_USE}")
LATIN_SPAN_RE = re.compile(f"{_URL}|{_EMAIL}|{_PRIVATE_USE}")
_URL_TRAILING = ".,;:!?)]}'\""

SpanFinder = Callable[[str], list[tuple[int, int]]]


def find_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of every protected span in Chinese *text*."""
    return _find(SPAN_RE, text)


def find_latin_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the protected spans of English *text*."""
    return _find(LATIN_SPAN_RE, text)


def _find(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span()
        if match.group().startswith(("http", "www.")):
            end = start + len(match.group().rstrip(_URL_TRAILING))
        spans.append((start, end))
    return spans


@dataclass(frozen=True)
class Protected:
    """A sentence with its spans masked, and the spans in source order."""

    text: str
    spans: tuple[str, ...]
    # True when there were more spans than placeholders: only a split can keep them all.
    overflow: bool = False


class SpanGuard:
    """Mask spans before translation and check or restore them afterwards."""

    def __init__(
        self,
        mode: str,
        preprocess: Callable[[str], str] | None = None,
        finder: SpanFinder = find_spans,
    ) -> None:
        if mode not in ("placeholder", "verbatim"):
            raise ValueError(f"span mode must be 'placeholder' or 'verbatim', not {mode!r}")
        self.mode = mode
        # In verbatim mode the model sees spans after source preprocessing (full-width
        # digits become ASCII), so the check looks for that form.
        self._preprocess = preprocess or (lambda s: s)
        self.find = finder

    def protect(self, text: str) -> Protected:
        """Return *text* with spans masked (placeholder mode) or untouched (verbatim)."""
        offsets = self.find(text)
        spans = tuple(text[a:b] for a, b in offsets)
        if self.mode == "verbatim" or not spans:
            return Protected(text, spans)
        if len(spans) > MAX_PLACEHOLDERS:
            return Protected(text, spans, overflow=True)
        parts, last = [], 0
        for i, (a, b) in enumerate(offsets):
            parts += [text[last:a], PLACEHOLDERS[i]]
            last = b
        parts.append(text[last:])
        return Protected("".join(parts), spans)

    def restore(self, output: str, protected: Protected) -> str | None:
        """Return *output* with every span back, or None if a span was lost or garbled."""
        if not protected.spans:
            return output
        if self.mode == "verbatim":
            for span in protected.spans:
                seen = self._preprocess(span)
                if seen not in output:
                    return None
                if seen != span:
                    output = output.replace(seen, span, 1)
            return output
        expected = PLACEHOLDERS[: len(protected.spans)]
        found = [ch for ch in output if PLACEHOLDER_BASE <= ord(ch) < 0xF900]
        if sorted(found) != list(expected):
            return None
        for mark, span in zip(expected, protected.spans, strict=True):
            output = output.replace(mark, span)
        return output


def split_around_spans(text: str, finder: SpanFinder = find_spans) -> list[tuple[str, bool]]:
    """Cut *text* into (piece, is_span) pairs so spans can be kept apart from the model."""
    pieces: list[tuple[str, bool]] = []
    last = 0
    for a, b in finder(text):
        if a > last:
            pieces.append((text[last:a], False))
        pieces.append((text[a:b], True))
        last = b
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces
