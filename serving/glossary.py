"""Glossaries: source term → target term, the target written verbatim in the translation.

A glossary comes with a request (the native API's ``"glossary": {"源词": "target"}``) or
is stored under an id (DeepL's ``/v2/glossaries``) in a :class:`GlossaryStore`: in
memory, per process, bounded (:data:`MAX_GLOSSARIES` glossaries of at most
:data:`MAX_ENTRIES` entries, terms of at most :data:`MAX_TERM_CHARS` characters, at most
:data:`MAX_STORE_CHARS` characters of terms in all); over a bound is a 413 that says which.

How a glossary is applied (:func:`mask_terms`, :func:`unmask_terms`): the source terms
found in a text become private-use marks, which the span guard masks and restores like
any span (``text/spans.py``), so the model translates the sentence around a placeholder
and the target term is written where the model put it, verbatim. Matching is exact
(case-sensitive, after Unicode NFC); the longest term is taken first, then the leftmost;
a term made of Latin letters or digits at an edge only matches a whole word there
(``cat`` is not found in ``category``). A term is *unapplied* where it occurs but could
not be used: inside or across a span the pipeline already protects (a URL, code, a
number: ``iPhone`` in ``iPhone 15 Pro``), across another term taken first (``大学生``
in ``北京大学生`` when ``北京大学`` is a term), across a tag (``苹<b>果</b>``, in HTML
the tag splits the term), or lost on the way (never seen: the pipeline puts back every
span). An occurrence inside a longer term that was applied is not reported.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import threading
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from serving.errors import BadRequest, NotFound, PayloadTooLarge
from text.markup import fresh_marks
from text.segment import segment
from text.spans import MAX_PLACEHOLDERS, SpanFinder, find_spans
from text.tagplace import placeholders

logger = logging.getLogger(__name__)

MAX_GLOSSARIES = 100
MAX_ENTRIES = 10_000
MAX_TERM_CHARS = 256
MAX_NAME_CHARS = 256
MAX_STORE_CHARS = 5_000_000  # all terms of all stored glossaries
ENTRIES_FORMATS = ("tsv", "csv")


class GlossaryNotFound(NotFound):
    code = "glossary_not_found"


class GlossaryLimit(PayloadTooLarge):
    code = "glossary_limit"


@dataclass(frozen=True)
class Glossary:
    """Source term → target term, in the order given; a stored one has an id."""

    entries: Mapping[str, str]
    glossary_id: str = ""
    name: str = ""
    source_lang: str = ""
    target_lang: str = ""
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @cached_property
    def matcher(self) -> TermMatcher:
        return TermMatcher(self.entries)


def _check_term(term: object, where: str) -> str:
    if not isinstance(term, str):
        raise BadRequest(f"{where} must be a string, got {type(term).__name__}")
    term = unicodedata.normalize("NFC", term.strip())
    if not term:
        raise BadRequest(f"{where} is empty")
    if len(term) > MAX_TERM_CHARS:
        raise BadRequest(f"{where} has {len(term)} characters; the limit is {MAX_TERM_CHARS}")
    for char in term:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp") or "\ue000" <= char <= "\uf8ff":
            raise BadRequest(f"{where} contains the character U+{ord(char):04X}, not allowed")
    return term


def check_entries(entries: Iterable[tuple[object, object]], where: str = "entry") -> dict[str, str]:
    """Validated entries: terms stripped, NFC, no control or private-use characters, no
    source term twice, at most :data:`MAX_ENTRIES`. BadRequest (or GlossaryLimit) says
    which entry is wrong."""
    checked: dict[str, str] = {}
    for number, (source, target) in enumerate(entries, 1):
        if number > MAX_ENTRIES:
            raise GlossaryLimit(f"A glossary holds at most {MAX_ENTRIES} entries.")
        term = _check_term(source, f"{where} {number}: the source term")
        if term in checked:
            raise BadRequest(f"{where} {number} duplicates the source term {term!r}")
        checked[term] = _check_term(target, f"{where} {number}: the target term")
    return checked


def parse_entries(text: str, entries_format: str = "tsv") -> dict[str, str]:
    """Entries from DeepL's formats: ``tsv`` (``source<TAB>target`` per line) or ``csv``
    (``source,target`` per row, optionally with the two language codes after them)."""
    if entries_format not in ENTRIES_FORMATS:
        raise BadRequest(f"entries_format must be 'tsv' or 'csv', got {entries_format!r}")
    lines = text.replace("\r\n", "\n").split("\n")
    rows: list[tuple[int, list[str]]] = []
    if entries_format == "tsv":
        rows = [(n, line.split("\t")) for n, line in enumerate(lines, 1) if line.strip()]
    else:
        for n, row in enumerate(csv.reader(lines), 1):
            if any(cell.strip() for cell in row):
                rows.append((n, row))
    pairs = []
    for number, cells in rows:
        wanted = (2,) if entries_format == "tsv" else (2, 4)
        if len(cells) not in wanted:
            expected = "a tab" if entries_format == "tsv" else "2 or 4 comma-separated values"
            raise BadRequest(f"Entry on line {number} must have {expected}: {cells!r}"[:200])
        pairs.append((cells[0], cells[1]))
    entries = check_entries(pairs)
    if not entries:
        raise BadRequest("The glossary has no entries.")
    return entries


def entries_tsv(glossary: Glossary) -> str:
    return "\n".join(f"{s}\t{t}" for s, t in glossary.entries.items())


class GlossaryStore:
    """Glossaries kept in memory under an id, thread-safe and bounded."""

    def __init__(
        self, max_glossaries: int = MAX_GLOSSARIES, max_chars: int = MAX_STORE_CHARS
    ) -> None:
        self.max_glossaries, self.max_chars = max_glossaries, max_chars
        self._lock = threading.Lock()
        self._glossaries: dict[str, Glossary] = {}
        self._chars = 0

    def create(
        self, name: str, source_lang: str, target_lang: str, entries: Mapping[str, str]
    ) -> Glossary:
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > MAX_NAME_CHARS:
            raise BadRequest(f"A glossary needs a name of 1 to {MAX_NAME_CHARS} characters.")
        glossary = Glossary(dict(entries), str(uuid.uuid4()), name, source_lang, target_lang)
        size = _size(glossary)
        with self._lock:
            if len(self._glossaries) >= self.max_glossaries:
                raise GlossaryLimit(
                    f"This server keeps at most {self.max_glossaries} glossaries; "
                    "delete one before creating another."
                )
            if self._chars + size > self.max_chars:
                raise GlossaryLimit(
                    f"The glossaries on this server hold at most {self.max_chars} characters "
                    f"of terms; {self._chars} are taken and this one has {size}."
                )
            self._glossaries[glossary.glossary_id] = glossary
            self._chars += size
        logger.info("glossary %s created: %d entries", glossary.glossary_id, len(entries))
        return glossary

    def get(self, glossary_id: str) -> Glossary:
        with self._lock:
            glossary = self._glossaries.get(glossary_id)
        if glossary is None:
            raise GlossaryNotFound(f"Glossary {glossary_id[:64]!r} not found.")
        return glossary

    def list(self) -> list[Glossary]:
        with self._lock:
            return list(self._glossaries.values())

    def delete(self, glossary_id: str) -> None:
        with self._lock:
            glossary = self._glossaries.pop(glossary_id, None)
            if glossary is None:
                raise GlossaryNotFound(f"Glossary {glossary_id[:64]!r} not found.")
            self._chars -= _size(glossary)
        logger.info("glossary %s deleted", glossary_id)


def _size(glossary: Glossary) -> int:
    return sum(len(s) + len(t) for s, t in glossary.entries.items())


# --- applying a glossary ------------------------------------------------------------------


def _wordish(char: str) -> bool:
    return char.isascii() and char.isalnum()


class TermMatcher:
    """Finds a glossary's source terms in a text: per first character, the lengths of the
    terms that start with it, so a position costs one lookup per distinct length."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self.entries = dict(entries)
        lengths: dict[str, set[int]] = {}
        for term in self.entries:
            lengths.setdefault(term[0], set()).add(len(term))
        self._lengths = {c: sorted(ls, reverse=True) for c, ls in lengths.items()}

    def occurrences(self, text: str) -> list[tuple[int, int, str]]:
        """Every (start, end, term) in *text*, overlapping ones included."""
        found = []
        for start, char in enumerate(text):
            for length in self._lengths.get(char, ()):
                end = start + length
                term = text[start:end]
                if end > len(text) or term not in self.entries:
                    continue
                if _wordish(term[0]) and start and _wordish(text[start - 1]):
                    continue
                if _wordish(term[-1]) and end < len(text) and _wordish(text[end]):
                    continue
                found.append((start, end, term))
        return found


@dataclass(frozen=True)
class TermMasks:
    """A text with its glossary terms as marks; what each mark is written as."""

    text: str
    targets: Mapping[str, str] = field(default_factory=dict)  # mark → target term
    sources: Mapping[str, str] = field(default_factory=dict)  # mark → source term
    unapplied: tuple[str, ...] = ()


def _choose(
    found: Sequence[tuple[int, int, str]], spans: Sequence[tuple[int, int]], length: int
) -> tuple[list[tuple[int, int, str]], list[str]]:
    """The occurrences to apply, longest first, and the terms that could not be."""
    chosen: list[tuple[int, int, str]] = []
    unapplied: list[str] = []
    owner = [-1] * length  # which chosen occurrence covers each character
    span_at = [-1] * length  # which protected span does
    for n, (a, b) in enumerate(spans):
        span_at[a:b] = [n] * (b - a)
    for start, end, term in sorted(found, key=lambda o: (o[0] - o[1], o[0])):
        clash = {owner[i] for i in range(start, end) if owner[i] >= 0}
        if clash:
            taken = [chosen[c] for c in clash]
            inside = any(a <= start and end <= b for a, b, _ in taken)
            if not inside and all(t != term for _, _, t in taken):
                unapplied.append(term)
            continue
        touched = {span_at[i] for i in range(start, end) if span_at[i] >= 0}
        if any(not (start <= spans[n][0] and spans[n][1] <= end) for n in touched):
            unapplied.append(term)  # inside or across a protected span
            continue
        owner[start:end] = [len(chosen)] * (end - start)
        chosen.append((start, end, term))
    return sorted(chosen), unapplied


def mask_terms(
    text: str, matcher: TermMatcher, finder: SpanFinder = find_spans, plain: str | None = None
) -> TermMasks:
    """*text* with each applicable source term replaced by a mark (one per term).

    *plain*: what a reader sees of *text* (markup's marks left out): a term found there
    and not in *text* has a tag inside it, and is reported unapplied.
    """
    text = unicodedata.normalize("NFC", text)
    found = matcher.occurrences(text)
    split: list[str] = []
    if plain is not None:  # more occurrences there than here: a tag inside one
        seen = Counter(term for _, _, term in found)
        read = Counter(t for _, _, t in matcher.occurrences(unicodedata.normalize("NFC", plain)))
        split = [t for t, count in read.items() if count > seen[t]]
    if not found:
        return TermMasks(text, unapplied=tuple(dict.fromkeys(split)))
    chosen, unapplied = _choose(found, finder(text), len(text))
    unapplied += split
    terms = list(dict.fromkeys(term for _, _, term in chosen))
    marks = dict(zip(terms, fresh_marks(text, len(terms)), strict=True))
    parts, last = [], 0
    for start, end, term in chosen:
        parts += [text[last:start], marks[term]]
        last = end
    parts.append(text[last:])
    return TermMasks(
        "".join(parts),
        {marks[t]: matcher.entries[t] for t in terms},
        {marks[t]: t for t in terms},
        tuple(dict.fromkeys(unapplied)),
    )


def fit_terms(
    text: str, masks: TermMasks, finder: SpanFinder = find_spans, limit: int = MAX_PLACEHOLDERS
) -> tuple[str, TermMasks]:
    """*text* (:attr:`TermMasks.text`, perhaps with tags left out) with the terms of a
    sentence that has no placeholder left for them written back as source words (the
    shortest first), and those terms unapplied: the model translates them freely rather
    than the guard carrying the words between spans untranslated."""
    if not masks.targets or placeholders(text, finder) <= limit:
        return text, masks
    out, at, dropped = [], 0, []
    for piece in segment(text, finder).pieces:
        start = text.find(piece.text, at)
        sentence = piece.text
        order = sorted(
            (m for m in masks.targets if m in sentence), key=lambda m: len(masks.sources[m])
        )
        while order and placeholders(sentence, finder) > limit:
            mark = order.pop(0)
            sentence = sentence.replace(mark, masks.sources[mark])
            dropped.append(masks.sources[mark])
        out += [text[at:start], sentence]
        at = start + len(piece.text)
    out.append(text[at:])
    unapplied = tuple(dict.fromkeys([*masks.unapplied, *dropped]))
    logger.debug("glossary: %d term(s) over the placeholder budget", len(dropped))
    return "".join(out), dataclasses.replace(masks, unapplied=unapplied)


def unmask_terms(output: str, masks: TermMasks, spaced: bool = False) -> tuple[str, list[str]]:
    """*output* with every mark written as its target term; the terms whose mark is
    missing (not applied after all). *spaced* (a target that spaces its words): a term
    that would touch a Latin letter or digit, or the next term, gets a space there."""
    missing = [masks.sources[m] for m in masks.targets if m not in output]
    if not masks.targets:
        return output, missing
    out: list[str] = []
    for i, char in enumerate(output):
        target = masks.targets.get(char)
        if target is None:
            out.append(char)
            continue
        if spaced and _wordish(target[0]) and _touches(output, i, -1, masks, False):
            out.append(" ")
        out.append(target)
        if spaced and _wordish(target[-1]) and _touches(output, i, 1, masks, True):
            out.append(" ")
    return "".join(out), missing


def _touches(output: str, at: int, step: int, masks: TermMasks, terms: bool) -> bool:
    """Whether a letter or digit (or, with *terms*, a term starting with one) is next to
    *at* in direction *step*, other marks (markup) skipped."""
    at += step
    while 0 <= at < len(output) and "\ue000" <= output[at] <= "\uf8ff":
        target = masks.targets.get(output[at])
        if target is not None:
            return terms and _wordish(target[0])
        at += step
    return 0 <= at < len(output) and _wordish(output[at])
