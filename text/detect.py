"""Tell Chinese from English by script statistics: CJK characters against Latin letters.

No model and no dictionary: the two languages this service knows are written in
different scripts, so counting them is enough. Digits, punctuation, whitespace and
emoji belong to neither and are not counted; URLs, e-mail addresses and HTML tags or
entities are removed first, since their letters say nothing about the text's language.

Mixed text ("我用iPhone拍照") is reported as its majority language: the translation
pipeline already translates only the source-language parts of a text. One Chinese
character weighs as much as :data:`WEIGHTS` says in Latin letters (an English word has
about 4.7 letters, a Chinese word about 1.6 characters), so a brand name in a Chinese
sentence does not outvote the sentence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from text.languages import LANGUAGES

logger = logging.getLogger(__name__)

# Letters of each language's script, in Latin-letter units.
WEIGHTS: Mapping[str, float] = MappingProxyType({"zh": 3.0, "en": 1.0})

# Below this much weighted evidence the confidence shrinks in proportion: one Chinese
# character or a two-letter word is a guess, two characters or a six-letter word is not.
MIN_EVIDENCE = 6.0

_NOISE_RE = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.\-]{0,30}://|www\.)\S+"  # URLs
    r"|[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"  # e-mail addresses
    r"|</?[A-Za-z][^<>]{0,200}>"  # HTML tags
    r"|&(?:[A-Za-z]{2,10}|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});"  # HTML entities
)


class Detection(NamedTuple):
    """The detected language code and a confidence from 0 to 1.

    ``language`` is None when the text has no letter of any known script (empty,
    digits, emoji); its confidence is then 0.
    """

    language: str | None
    confidence: float


def script_counts(text: str) -> dict[str, int]:
    """How many characters of each language's script *text* has, noise removed."""
    cleaned = _NOISE_RE.sub(" ", text)
    return {code: len(LANGUAGES[code].script.findall(cleaned)) for code in WEIGHTS}


def detect(text: str) -> Detection:
    """The majority language of *text* by weighted script counts, with a confidence.

    The confidence is the majority's share of the weighted letters, scaled down for
    texts shorter than :data:`MIN_EVIDENCE`. A tie goes to the first language of
    :data:`WEIGHTS` (Chinese).
    """
    counts = script_counts(text)
    weighted = {code: counts[code] * weight for code, weight in WEIGHTS.items()}
    total = sum(weighted.values())
    if total == 0:
        return Detection(None, 0.0)
    best = max(weighted, key=lambda code: weighted[code])
    share = weighted[best] / total
    evidence = min(1.0, total / MIN_EVIDENCE)
    return Detection(best, round(share * evidence, 4))


def detect_many(texts: list[str]) -> list[Detection]:
    """:func:`detect` for each text, in order."""
    return [detect(t) for t in texts]
