"""HTML and XML for translation: the text of a document is translated, its markup is not.

:func:`parse_markup` reads a document with the standard library's tokenizer
(:mod:`text.markup_tokens`) and keeps every token's source text, so the document is
written back byte for byte except the text that is translated. What the model sees is
one *segment* per run of text between block-level tags (``<p>``, ``<li>``, ``<td>``,
``<br>``...); the translation pipeline cuts it into sentences itself. Inside a segment,
markup becomes *marks*, one private-use character each (from U+E100, never one the text
holds), which the span guard (``text/spans.py``) masks and restores like any span:

- an inline tag pair (``<b>``, ``<i>``, ``<a href>``, ``<span>``...) is two marks with
  the words it wraps between them; a void inline tag (``<img>``, ``<wbr>``) is one;
- an entity or character reference, a comment, and an inline element kept untouched
  (``<code>`` and its content) is one mark each, put back as written.

Untouched, byte for byte: ``<script>``, ``<style>``, ``<code>``, ``<pre>``, an element
with ``translate="no"`` or ``class="notranslate"`` (and all it holds), and the tags the
caller names (DeepL's ``ignore_tags``); attributes are never translated, nor is a
CDATA section, a comment or a declaration. In XML (``xml=True``) an element is inline
when its parent holds text of its own (DeepL's outline detection), unless it is named in
``splitting_tags`` / ``non_splitting_tags``; HTML custom elements (``<my-tag>``) are
guessed the same way. A segment's leading and trailing whitespace and the marks that
wrap all of its words stay out of the model input; whitespace inside it is collapsed to
one space (HTML does not render more), none at a line break between Chinese characters.

A sentence has :data:`~text.spans.MAX_PLACEHOLDERS` placeholders for its tags and other
spans (neighbouring marks share one); beyond them, comments and then the tag pairs that
wrap the fewest characters are left out of the model input
(:meth:`~text.tagplace.Segment.fit_budget`) rather than letting the span guard carry the
words between spans untranslated.

:meth:`~text.tagplace.Segment.render` writes a translation back (:mod:`text.tagplace`):
exact when the marks come back in source order, and the document's tag sequence never
changes, whatever the model does with the marks. A model in ``verbatim`` span mode
(opus-mt) sees the marks as they are; the pipeline appends the ones it loses to the
sentence, so their tags end up together at its end.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from text.markup_tokens import (
    INLINE,
    INLINE_UNTOUCHED,
    INLINE_VOID,
    UNTOUCHED,
    VOID,
    XML_UNTOUCHED,
    MarkupOptions,
    Token,
    Tree,
    build_tree,
    tokenize,
)
from text.tagplace import Mark, Segment

logger = logging.getLogger(__name__)

MARK_BASE = 0xE100  # below: the model's placeholders U+E000.. and room to spare
_PUA_END = 0xF8FF
_SPACE_RE = re.compile(r"\s+")
_CJK_RE = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

__all__ = ["MarkupDocument", "MarkupOptions", "Segment", "fresh_marks", "parse_markup"]


def fresh_marks(text: str, count: int, base: int = MARK_BASE) -> list[str]:
    """*count* private-use characters from *base* on that *text* does not hold."""
    taken = {c for c in text if base <= ord(c) <= _PUA_END}
    marks: list[str] = []
    code = base
    while len(marks) < count and code <= _PUA_END:
        if chr(code) not in taken:
            marks.append(chr(code))
        code += 1
    if len(marks) < count:
        raise ValueError(f"no {count} free private-use characters left")
    return marks


@dataclass
class MarkupDocument:
    """A document as source text kept verbatim and :class:`Segment` s to translate."""

    parts: list[str | Segment] = field(default_factory=list)

    @property
    def segments(self) -> list[Segment]:
        return [p for p in self.parts if isinstance(p, Segment)]

    @property
    def text(self) -> str:
        """What a reader sees of the translated parts (for language detection)."""
        return " ".join(s.plain for s in self.segments)

    def render(
        self, outputs: Sequence[str], sent: Sequence[str | None] | None = None
    ) -> tuple[str, int]:
        """The document with segment *i* translated as ``outputs[i]`` (from ``sent[i]``,
        by default its masked text), and the number of marks placed by position."""
        segments = iter(zip(outputs, sent or [None] * len(outputs), strict=True))
        out: list[str] = []
        moved = 0
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            text, count = part.render(*next(segments))
            out.append(text)
            moved += count
        return "".join(out), moved


@dataclass(frozen=True)
class _Item:
    """A piece of markup inside a run of text, before it has a character."""

    raw: str
    kind: str  # open, close, atom, comment
    element: int = -1  # the start token of an open or close tag
    droppable: bool = True


class _Walker:
    """Cut the tokens into verbatim parts and segments, in document order."""

    def __init__(self, tokens: Sequence[Token], tree: Tree, options: MarkupOptions) -> None:
        self.tokens, self.tree, self.options = tokens, tree, options
        self.parts: list[str | Segment] = []
        self.items: list[str | _Item] = []

    def walk(self) -> list[str | Segment]:
        i = 0
        while i < len(self.tokens):
            i = self._step(i)
        self._flush()
        return self.parts

    def _step(self, i: int) -> int:
        """Take token *i* (and an untouched element's whole content); the next index."""
        token = self.tokens[i]
        if token.kind == "text":
            self.items.append(token.raw)
        elif token.kind in ("ref", "comment"):
            kind = "atom" if token.kind == "ref" else "comment"
            self.items.append(_Item(token.raw, kind, droppable=token.kind == "comment"))
        elif token.kind in ("start", "empty"):
            return self._tag(i, token)
        elif token.kind == "end":
            start = self.tree.match.get(i)
            if self._inline(start if start is not None else i):
                self.items.append(_Item(token.raw, "close", -1 if start is None else start))
            else:
                self._verbatim(token.raw)
        else:
            self._verbatim(token.raw)
        return i + 1

    def _tag(self, i: int, token: Token) -> int:
        inline = self._inline(i)
        if self._untouched(token):
            last = self.tree.last[i] if token.kind == "start" else i
            raw = "".join(t.raw for t in self.tokens[i : last + 1])
            if inline:
                self.items.append(_Item(raw, "atom", droppable=False))
            else:
                self._verbatim(raw)
            return last + 1
        if not inline:
            self._verbatim(token.raw)
        elif token.kind == "start" and (self.options.xml or token.name not in VOID):
            self.items.append(_Item(token.raw, "open", i))
        else:
            self.items.append(_Item(token.raw, "atom"))
        return i + 1

    def _inline(self, i: int) -> bool:
        """Whether the tag of token *i* sits inside a sentence."""
        name, options = self.tokens[i].name, self.options
        if name in options.splitting_tags:
            return False
        if name in options.non_splitting_tags:
            return True
        if not options.xml:
            if name in INLINE or name in INLINE_VOID or name in INLINE_UNTOUCHED:
                return True
            if "-" not in name:  # a known block element; custom elements are guessed
                return False
        elif not options.outline_detection:
            return True
        return self.tree.parent[i] in self.tree.has_text

    def _untouched(self, token: Token) -> bool:
        kept = XML_UNTOUCHED if self.options.xml else UNTOUCHED
        if token.name in kept or token.name in self.options.ignore_tags:
            return True
        attrs = {k.lower(): (v or "") for k, v in token.attrs}
        return (
            attrs.get("translate", "").strip().lower() == "no"
            or "notranslate" in attrs.get("class", "").split()
        )

    def _verbatim(self, raw: str) -> None:
        self._flush()
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += raw
        else:
            self.parts.append(raw)

    def _flush(self) -> None:
        items, self.items = self.items, []
        if not items:
            return
        raw = "".join(i if isinstance(i, str) else i.raw for i in items)
        built = None
        if any(isinstance(i, str) and i.strip() for i in items):
            built = _segment(items, raw)
        if built is None:
            self._verbatim(raw)
        else:
            self.parts.append(built)


def _segment(items: Sequence[str | _Item], raw: str) -> Segment | None:
    """The segment of a run of text and inline markup (None: no characters left)."""
    atoms: list[str | _Item] = [c for i in items for c in (i if isinstance(i, str) else [i])]
    solid = [k for k, a in enumerate(atoms) if isinstance(a, str) and not a.isspace()]
    first, last = solid[0], solid[-1]
    partner = _pairs(atoms)
    p = 0
    while p < first:  # what wraps all the words, and what comes before them, stays out
        item = atoms[p]
        if isinstance(item, _Item) and item.kind == "open" and first <= partner.get(p, -1) <= last:
            break
        p += 1
    q = len(atoms)
    while q - 1 > last:
        item = atoms[q - 1]
        if isinstance(item, _Item) and item.kind == "close" and p <= partner.get(q - 1, -1) <= last:
            break
        q -= 1
    core = atoms[p:q]
    text = "".join(a for a in core if isinstance(a, str))
    count = sum(isinstance(a, _Item) for a in core)
    try:
        chars = iter(fresh_marks(text, count))
    except ValueError:
        logger.warning("markup: a run of text with %d tags is kept untranslated", count)
        return None
    masked, plain, marks = _masked(core, chars, {k - p: v - p for k, v in partner.items()})
    prefix = "".join(a if isinstance(a, str) else a.raw for a in atoms[:p])
    suffix = "".join(a if isinstance(a, str) else a.raw for a in atoms[q:])
    return Segment(raw, prefix, suffix, masked, tuple(marks), plain)


def _pairs(atoms: Sequence[str | _Item]) -> dict[int, int]:
    """Open tag <-> its close tag, both ways, for the pairs that are both in *atoms*."""
    opened: dict[int, int] = {}
    partner: dict[int, int] = {}
    for k, atom in enumerate(atoms):
        if not isinstance(atom, _Item) or atom.element < 0:
            continue
        if atom.kind == "open":
            opened[atom.element] = k
        elif atom.kind == "close" and atom.element in opened:
            start = opened.pop(atom.element)
            partner[start], partner[k] = k, start
    return partner


def _masked(
    core: Sequence[str | _Item], chars: Iterator[str], partner: dict[int, int]
) -> tuple[str, str, list[Mark]]:
    """The model input, the text without marks and the marks of a segment's core."""
    at = [k for k, atom in enumerate(core) if isinstance(atom, _Item)]
    index = {k: n for n, k in enumerate(at)}
    bounds = zip([-1, *at], [*at, len(core)], strict=True)
    texts = [_collapse("".join(_chars(core[a + 1 : b]))) for a, b in bounds]
    marks: list[Mark] = []
    offset = 0
    for n, k in enumerate(at):
        item = core[k]
        assert isinstance(item, _Item)
        offset += len(texts[n])
        after = core[k + 1] if k + 1 < len(core) else ""
        before = core[k - 1] if k else ""
        marks.append(
            Mark(
                next(chars),
                item.raw,
                item.kind,
                n,
                index.get(partner.get(k, -1), -1),
                offset,
                space_after=isinstance(after, str) and after.isspace(),
                space_before=isinstance(before, str) and before.isspace(),
                droppable=item.droppable,
            )
        )
    masked = texts[0] + "".join(m.char + t for m, t in zip(marks, texts[1:], strict=True))
    return masked, "".join(texts), marks


def _chars(atoms: Sequence[str | _Item]) -> list[str]:
    return [a for a in atoms if isinstance(a, str)]


def parse_markup(source: str, options: MarkupOptions | None = None) -> MarkupDocument:
    """Split an HTML (or XML) document into verbatim parts and segments."""
    tokens = tokenize(source)
    options = options or MarkupOptions()
    return MarkupDocument(_Walker(tokens, build_tree(tokens, options.xml), options).walk())


def translate_markup(
    sources: Sequence[str],
    translate: Callable[[list[str]], list[str]],
    options: MarkupOptions | None = None,
) -> list[str]:
    """Translate documents with *translate* (masked segments in, translations out),
    all segments of all documents in one call."""
    docs = [parse_markup(s, options) for s in sources]
    segments = [s for d in docs for s in d.segments]
    outputs = iter(translate([s.masked for s in segments]) if segments else [])
    results = []
    for doc in docs:
        own = [next(outputs) for _ in doc.segments]
        results.append(doc.render(own)[0])
    return results


def _collapse(text: str) -> str:
    """HTML whitespace inside a segment: one space, none at a line break between CJK."""

    def one(match: re.Match[str]) -> str:
        a, b = match.start(), match.end()
        cjk = a > 0 and b < len(text) and _CJK_RE.match(text[a - 1]) and _CJK_RE.match(text[b])
        return "" if cjk and "\n" in match.group() else " "

    return _SPACE_RE.sub(one, text)
