"""What a translation direction assumes about its two languages, in one place.

A :class:`Language` says how to recognise text in it (its script), what must be kept
away from the model when it is the source (:mod:`text.spans`), and how it is written
when it is the target: the sentence-final marks, whether sentences start with a capital,
and what separates sentences that the source ran together. A :class:`Direction` pairs a
source with a target; the model's manifest (``source_lang``, ``target_lang``) picks it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from text.spans import find_latin_spans, find_spans

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
CHINESE_RE = re.compile(f"[{_CJK}]")
LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")

# Sentence-final marks of either script, longest first, and the kind of end each makes.
FINAL_MARKS: tuple[tuple[str, str], ...] = (
    ("……", "ellipsis"),
    ("...", "ellipsis"),
    ("…", "ellipsis"),
    ("。", "period"),
    ("．", "period"),
    ("！", "exclamation"),
    ("？", "question"),
    ("；", "semicolon"),
    ("：", "colon"),
    (".", "period"),
    ("!", "exclamation"),
    ("?", "question"),
    (";", "semicolon"),
    (":", "colon"),
)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    script: re.Pattern[str]
    # Offsets of what is carried verbatim when this language is the source.
    find_spans: Callable[[str], list[tuple[int, int]]]
    # How this language writes each kind of sentence end, as a target.
    end_marks: Mapping[str, str]
    # Characters that already end a sentence in this language's output.
    final_chars: str
    capitalize: bool
    # Put between two translated sentences that had no whitespace between them.
    sentence_gap: str
    # Whether spaces between two source sentences of one line are kept as they are
    # (English) or become sentence_gap (Chinese writes sentences without spaces).
    keeps_inline_gaps: bool
    # A short everyday sentence in this language: the warm-up of a model reading it.
    warmup: str
    # How this language brackets a leading tag (【限时特价】 → [Limited-time offer]);
    # None: lines are not taken apart (text.structure) for this target.
    tag_brackets: tuple[str, str] | None = None
    # Output is typeset with ASCII punctuation and English spacing (text.typography).
    ascii_punctuation: bool = False

    def has_script(self, text: str) -> bool:
        """True if *text* holds at least one character of this language's script."""
        return self.script.search(text) is not None


CHINESE = Language(
    code="zh",
    name="Chinese",
    script=CHINESE_RE,
    find_spans=find_spans,
    end_marks=MappingProxyType(
        {
            "ellipsis": "……",
            "period": "。",
            "exclamation": "！",
            "question": "？",
            "semicolon": "；",
            "colon": "：",
        }
    ),
    final_chars="。！？；：….!?;:",
    capitalize=False,
    sentence_gap="",
    keeps_inline_gaps=False,
    warmup="你好，世界。",
)

ENGLISH = Language(
    code="en",
    name="English",
    script=LATIN_RE,
    find_spans=find_latin_spans,
    end_marks=MappingProxyType(
        {
            "ellipsis": "...",
            "period": ".",
            "exclamation": "!",
            "question": "?",
            "semicolon": ";",
            "colon": ":",
        }
    ),
    final_chars=".!?;:…",
    capitalize=True,
    sentence_gap=" ",
    keeps_inline_gaps=True,
    warmup="Hello, world.",
    tag_brackets=("[", "]"),
    ascii_punctuation=True,
)

LANGUAGES: Mapping[str, Language] = MappingProxyType({"zh": CHINESE, "en": ENGLISH})


class UnknownLanguage(ValueError):
    """A language code this service has no profile for."""


def language(code: str) -> Language:
    """Return the profile of *code* (``zh``, ``en``; case and region ignored)."""
    base = code.strip().lower().replace("_", "-").split("-")[0]
    try:
        return LANGUAGES[base]
    except KeyError:
        known = ", ".join(sorted(LANGUAGES))
        raise UnknownLanguage(f"unknown language {code!r}; known: {known}") from None


@dataclass(frozen=True)
class Direction:
    source: Language
    target: Language

    @classmethod
    def of(cls, source: str, target: str) -> Direction:
        """The direction from language code *source* to *target*."""
        return cls(language(source), language(target))

    @property
    def key(self) -> str:
        """``zh-en`` style name, as used in settings, logs and error messages."""
        return f"{self.source.code}-{self.target.code}"

    def __str__(self) -> str:
        return self.key


ZH_EN = Direction(CHINESE, ENGLISH)
