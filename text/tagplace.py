"""Put a segment's tags back into its translation (see :mod:`text.markup`).

The translation holds one private-use *mark* per tag of the source segment. Where the
model returned every mark once and in source order, each tag goes exactly where its mark
is. Otherwise the tag sequence still comes out as in the source, never dropped, doubled
or unbalanced:

- the longest run of marks in source order keeps the model's positions (its *anchors*);
  a pair keeps them only with both of its tags anchored;
- each other mark (moved, lost, doubled: the first copy counts; or left out of the model
  input, :meth:`Segment.fit_budget`) goes between its anchored neighbours: at the
  source's offset when the text between them is the source's, else at the word start
  (a closing tag: word end) nearest its relative position there;
- a pair the model moved or lost, with no anchor between its two tags, goes back
  together, both tags at the opening tag's place: its words are no longer wrapped. A
  pair left out of the input wraps what stands at its relative position.

Spacing follows the source: no space just inside a tag pair the source wrote tight
(``<b>word</b>``), the model's space moved outside it. Text is escaped (``&``, ``<``,
``>``) and each mark replaced by its tag as written.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from text.segment import segment
from text.spans import MAX_PLACEHOLDERS, SpanFinder, find_spans, join_runs

logger = logging.getLogger(__name__)

_SENTENCE_START_RE = re.compile(r"[.!?][\"')\]]*\s+|[。！？]\s*")
_WORD_RE = re.compile(r"\w+")
_SPACES_RE = re.compile(r" {2,}")
_CLOSING = ",.;:!?)]}"
_SPACE_BEFORE_RE = re.compile(r" +([,.;:!?)\]}])")
_WORD_CHARS = "'’-"
_OPENERS = "\"'“‘([{"
_NO_SPACE_BEFORE = ",.;:!?)]}%'\"…，。；：！？）"
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


@dataclass(frozen=True)
class Mark:
    """One tag (or entity, comment, untouched element) of a segment, as a character."""

    char: str  # the private-use character standing for it in the model input
    raw: str  # the markup as written in the source
    kind: str  # open, close, atom (entity, void tag, untouched element), comment
    index: int  # its place among the segment's marks, in source order
    partner: int = -1  # the other tag of a pair in the same segment
    offset: int = 0  # where it stands in the segment's text without marks
    space_after: bool = False  # the source has whitespace right after it
    space_before: bool = False  # ... right before it
    droppable: bool = True  # may be left out of the model input (not an entity's text)


@dataclass(frozen=True)
class Segment:
    """A run of a document's text between block tags: what the model translates."""

    raw: str  # the run as written in the source
    prefix: str  # source text kept before the translated part
    suffix: str  # and after it
    masked: str  # the translated part: its text with one private-use character per mark
    marks: tuple[Mark, ...]  # in source order
    plain: str  # the translated part's text without marks

    def fit_budget(
        self, text: str, finder: SpanFinder = find_spans, limit: int = MAX_PLACEHOLDERS
    ) -> str:
        """*text* (:attr:`masked`, perhaps with more spans in it) without the marks of
        the tags a sentence has no placeholder left for: comments first, then the pairs
        that wrap the fewest characters, then void tags. :meth:`render` puts them back
        by position."""
        droppable = [m for m in self.marks if m.droppable]
        if not droppable or placeholders(text, finder) <= limit:
            return text
        dropped: set[str] = set()
        for piece in segment(text, finder).pieces:
            sentence = piece.text
            order = sorted(
                (m for m in droppable if m.char in sentence),
                key=lambda m: (m.kind != "comment", m.kind == "atom", self._wrapped(m)),
            )
            while order and placeholders(sentence, finder) > limit:
                mark = order.pop(0)
                gone = {mark.char} | {p.char for p in self.marks if p.index == mark.partner}
                dropped |= gone
                sentence = "".join(c for c in sentence if c not in gone)
                order = [m for m in order if m.char not in gone]
        logger.debug("markup: %d tag mark(s) over the placeholder budget", len(dropped))
        return "".join(c for c in text if c not in dropped)

    def _wrapped(self, mark: Mark) -> int:
        """How many characters a pair wraps (a single mark: none)."""
        if mark.partner < 0:
            return 0
        return abs(self.marks[mark.partner].offset - mark.offset)

    def recapitalize(self, output: str) -> str:
        """*output* with a capital where a sentence starts after a tag's mark (the
        pipeline capitalises the first character, here the mark), unless the word is
        the source's own (a Latin span, carried as written)."""
        chars = {m.char for m in self.marks}
        letters = list(output)
        for start in [0] + [m.end() for m in _SENTENCE_START_RE.finditer(output)]:
            i, skipped = start, False
            while i < len(output) and (
                output[i] in chars or output[i].isspace() or output[i] in _OPENERS
            ):
                skipped = skipped or output[i] in chars
                i += 1
            if not skipped or i == len(output) or not output[i].islower():
                continue
            word = _WORD_RE.match(output, i)
            if word is not None and word.group() not in self.plain:
                letters[i] = output[i].upper()
        return "".join(letters)

    def render(self, output: str, sent: str | None = None) -> tuple[str, int]:
        """The segment's markup with *output* (a translation of *sent*, by default
        :attr:`masked`) as its text, and how many marks were placed by position rather
        than where the model put them. Output that is the input is the source as written."""
        sent = self.masked if sent is None else sent
        if output == sent:
            return self.raw, 0
        withheld = frozenset(m.char for m in self.marks if m.char not in sent)
        body, moved = place_marks(output, self.marks, self.plain, withheld)
        if moved:
            logger.info("markup: %d of %d tag mark(s) placed by position", moved, len(self.marks))
        return self.prefix + body + self.suffix, moved


def placeholders(sentence: str, finder: SpanFinder = find_spans) -> int:
    """Placeholders the span guard needs for *sentence* (a list of spans shares one)."""
    offsets = finder(sentence)
    return len(join_runs(sentence, offsets, len(offsets) + 1)) if offsets else 0


def place_marks(
    output: str, marks: Sequence[Mark], source: str, withheld: frozenset[str] = frozenset()
) -> tuple[str, int]:
    """The markup of *output* with every mark's tag in source order, and how many marks
    were placed by position. *source* is the segment's text without marks; *withheld*
    the marks left out of the model input."""
    index = {m.char: m.index for m in marks}
    chars: list[str] = []
    found: dict[int, int] = {}
    order: list[int] = []
    for char in output:
        k = index.get(char)
        if k is None:
            chars.append(char)
        elif k not in found:  # a copy: the first counts
            found[k] = len(chars)
            order.append(k)
    text = "".join(chars)
    anchored = anchors(order, marks)
    positions = _positions(text, source, marks, found, anchored, withheld)
    return _assemble(text, marks, positions), len(marks) - len(anchored)


def anchors(order: Sequence[int], marks: Sequence[Mark]) -> set[int]:
    """The marks that keep the model's position: the longest run of *order* (mark
    indices as the output has them) in source order, less pairs with one tag out; then,
    in source order, each other mark or whole pair that still fits the run."""
    kept = set(_longest_increasing(order))
    for mark in marks:
        if mark.partner >= 0 and (mark.index in kept) != (mark.partner in kept):
            kept.discard(mark.index)
            kept.discard(mark.partner)
    rank = {k: r for r, k in enumerate(order)}
    for mark in marks:
        group = {mark.index} if mark.partner < 0 else {mark.index, mark.partner}
        if (mark.kind == "close" and mark.partner >= 0) or not group <= rank.keys() - kept:
            continue  # a pair's close goes with its open; lost or kept marks are done
        trial = sorted(kept | group)
        if all(rank[a] < rank[b] for a, b in pairwise(trial)):
            kept |= group
    return kept


def _longest_increasing(values: Sequence[int]) -> list[int]:
    """The longest strictly increasing subsequence of *values* (patience sorting)."""
    tails: list[int] = []  # values[...] ending each pile
    tail_at: list[int] = []  # position in values of each pile's end
    previous = [-1] * len(values)
    for i, value in enumerate(values):
        pile = bisect_left(tails, value)
        if pile == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[pile] = value
            tail_at[pile] = i
        previous[i] = tail_at[pile - 1] if pile else -1
    run: list[int] = []
    at = tail_at[-1] if tail_at else -1
    while at >= 0:
        run.append(values[at])
        at = previous[at]
    return run[::-1]


def _positions(
    text: str,
    source: str,
    marks: Sequence[Mark],
    found: dict[int, int],
    anchored: set[int],
    withheld: frozenset[str],
) -> list[int]:
    """Where each mark goes in *text*, non-decreasing in source order."""
    fixed = sorted(anchored)
    positions = [0] * len(marks)
    for mark in marks:
        k = mark.index
        if k in anchored:
            positions[k] = found[k]
            continue
        before = bisect_left(fixed, k)
        prev = fixed[before - 1] if before else None
        after = bisect_right(fixed, k)
        nxt = fixed[after] if after < len(fixed) else None
        lo, slo = (found[prev], marks[prev].offset) if prev is not None else (0, 0)
        hi, shi = (found[nxt], marks[nxt].offset) if nxt is not None else (len(text), len(source))
        closing = mark.kind == "close"
        positions[k] = _where(text[lo:hi], source[slo:shi], mark.offset - slo, closing) + lo
    for mark in marks:  # a moved pair with nothing anchored inside goes back together
        k, partner = mark.index, mark.partner
        moved = mark.kind == "open" and partner > k and {k, partner}.isdisjoint(anchored)
        moved = moved and mark.char not in withheld  # withheld pairs wrap what is there
        if moved and not any(k < a < partner for a in fixed):
            for inner in range(k + 1, partner + 1):
                if inner not in anchored:
                    positions[inner] = positions[k]
    for k in range(1, len(positions)):
        positions[k] = max(positions[k], positions[k - 1])
    return positions


def _where(gap: str, source_gap: str, offset: int, closing: bool) -> int:
    """Where in *gap* (translated text between two anchors) a mark goes that stood at
    *offset* in *source_gap* (the source text between them): there if the text is the
    source's, else at the word start (word end, *closing*) nearest the same share."""
    if gap == source_gap:
        return offset
    target = (offset / len(source_gap) if source_gap else 0.0) * len(gap)
    if not any(c.isspace() for c in gap):
        cuts = list(range(len(gap) + 1))  # no spaces (Chinese): any character boundary
    else:
        inside = [c.isalnum() or c in _WORD_CHARS for c in gap]
        before, after = (True, False) if closing else (False, True)
        cuts = [i for i in range(1, len(gap)) if (inside[i - 1], inside[i]) == (before, after)]
    cuts += [0, len(gap)]
    return min(cuts, key=lambda cut: (abs(cut - target), cut))


def _assemble(text: str, marks: Sequence[Mark], positions: Sequence[int]) -> str:
    """*text* with each mark's markup at its position, spaced like the source."""
    bounds = [0, *positions, len(text)]
    pieces = [text[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    for mark in marks:
        k = mark.index
        if mark.kind == "open" and not mark.space_after and pieces[k + 1][:1].isspace():
            pieces[k + 1] = pieces[k + 1].lstrip()
            j = k
            while j > 0 and not pieces[j]:
                j -= 1
            if pieces[j] and not pieces[j][-1].isspace():
                pieces[j] += " "
        elif mark.kind == "close" and not mark.space_before and pieces[k][-1:].isspace():
            pieces[k] = pieces[k].rstrip()
            j = k + 1
            while j < len(pieces) - 1 and not pieces[j]:
                j += 1
            following = pieces[j]
            if following and not following[0].isspace() and following[0] not in _NO_SPACE_BEFORE:
                pieces[j] = " " + following
    pieces[0], pieces[-1] = pieces[0].lstrip(), pieces[-1].rstrip()
    _single_spaces(pieces, marks)
    out = [pieces[0].translate(_ESCAPES)]
    for mark, piece in zip(marks, pieces[1:], strict=True):
        out += [mark.raw, piece.translate(_ESCAPES)]
    return "".join(out)


def _single_spaces(pieces: list[str], marks: Sequence[Mark]) -> None:
    """One space where taking marks out of the text left two, none before a closing
    mark: within a piece, and across tags (entities and other marks show)."""
    for i, piece in enumerate(pieces):
        pieces[i] = _SPACE_BEFORE_RE.sub(r"\1", _SPACES_RE.sub(" ", piece))
    written = [i for i, piece in enumerate(pieces) if piece]
    for i, j in pairwise(written):
        tags_only = all(m.kind in ("open", "close") for m in marks[i:j])
        left, right = pieces[i], pieces[j]
        if tags_only and left.endswith(" ") and (right[0] == " " or right[0] in _CLOSING):
            pieces[i] = left[:-1]
