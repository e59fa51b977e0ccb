"""Text normalisation: request-level cleaning and per-model source preprocessing.

Two different jobs live here on purpose, because both decide what the model sees:

* :func:`clean_input` runs once per request on the raw text (Unicode NFC, control
  characters out, line breaks kept).
* :class:`SourcePreprocessor` runs per sentence, just before SentencePiece, and applies
  the steps a model was *trained* with, as recorded in its ``manifest.json``. Applying
  them at serving time is what keeps translations from degrading (OPUS-MT models, for
  instance, never saw full-width Chinese punctuation during training).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

# Control characters (category Cc) except tab and newline; plus the invisible
# formatting characters OPUS-MT's preprocessing deletes. ZWJ (U+200D) stays: emoji
# sequences need it.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
_CRLF_RE = re.compile(r"\r\n?")

# OPUS-MT-train's preprocess-spm.sh ("noflags" branch), as a character table. Its
# mapping of "１" to '"' is a typo in that script; we map it to "1" like the other digits.
_OPUS_PUNCT = {
    "，": ",",
    "、": ",",
    "”": '"',
    "“": '"',
    "∶": ":",
    "：": ":",
    "？": "?",
    "《": '"',
    "》": '"',
    "）": ")",
    "！": "!",
    "（": "(",
    "；": ";",
    "」": '"',
    "「": '"',
    "～": "~",
    "’": "'",
    "━": "-",
    "〈": "<",
    "〉": ">",
    "【": "[",
    "】": "]",
    "％": "%",
    **{chr(0xFF10 + d): str(d) for d in range(10)},
}
_OPUS_TABLE = str.maketrans(_OPUS_PUNCT)
_OPUS_PERIOD_RE = re.compile(r"[。．] *")
_SPACES_RE = re.compile(r" {2,}")


def clean_input(text: str) -> str:
    """Return *text* in NFC with control characters removed and line ends unified."""
    # Remove first: a control character between a letter and its combining mark would
    # otherwise keep the pair from composing.
    text = _CONTROL_RE.sub("", _CRLF_RE.sub("\n", text))
    return unicodedata.normalize("NFC", text)


def opus_punct(text: str) -> str:
    """Map Chinese punctuation and full-width digits to ASCII as OPUS-MT training did."""
    text = _OPUS_PERIOD_RE.sub(". ", text.translate(_OPUS_TABLE))
    text = text.replace("…", "...")
    return _SPACES_RE.sub(" ", text).strip()


def _t2s() -> Callable[[str], str]:
    # Imported lazily: only models trained on Simplified text need OpenCC.
    import opencc

    return opencc.OpenCC("t2s").convert


def _whitespace(text: str) -> str:
    return " ".join(text.split())


_STEP_FACTORIES: dict[str, Callable[[], Callable[[str], str]]] = {
    "opus_punct": lambda: opus_punct,
    "t2s": _t2s,
    "whitespace": lambda: _whitespace,
}

KNOWN_STEPS = frozenset(_STEP_FACTORIES)


class SourcePreprocessor:
    """Apply a model's recorded source preprocessing steps, in order."""

    def __init__(self, steps: Iterable[str]) -> None:
        self.steps = tuple(steps)
        unknown = [s for s in self.steps if s not in _STEP_FACTORIES]
        if unknown:
            raise ValueError(
                f"unknown source preprocessing step(s) {unknown}; known: {sorted(KNOWN_STEPS)}"
            )
        self._funcs = [_STEP_FACTORIES[s]() for s in self.steps]

    def __call__(self, text: str) -> str:
        for func in self._funcs:
            text = func(text)
        return text
