"""The tokens of an HTML or XML document with their exact source text, and its elements.

The standard library's tokenizer (``html.parser.HTMLParser``, character references left
unconverted) reports where each token starts; the source between two starts is the
token's ``raw`` text, so the tokens joined are the document, always, whatever the parser
thinks of malformed markup. :func:`build_tree` matches start and end tags the way a
lenient reader does (an end tag closes the nearest open element of its name and what is
still open inside it; a stray one closes nothing) and notes which elements hold text of
their own (mixed content, for XML's outline detection).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

logger = logging.getLogger(__name__)

# Phrasing elements whose tags sit inside a sentence; everything else splits sentences.
INLINE = frozenset(
    "a abbr b bdi bdo big button cite data del dfn em font i ins kbd label mark q s samp "
    "small span strike strong sub sup time tt u var".split()
)
# Void elements inside a sentence (one mark each) and all void elements of HTML.
INLINE_VOID = frozenset({"img", "wbr", "input"})
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Elements whose content is never translated; the inline ones are one mark in a sentence.
UNTOUCHED = frozenset({"script", "style", "code", "pre"})
INLINE_UNTOUCHED = frozenset({"code"})
XML_UNTOUCHED = frozenset({"script", "style"})

Attrs = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class MarkupOptions:
    """How to read a document: HTML or XML, and the caller's tag lists (lower case)."""

    xml: bool = False
    ignore_tags: frozenset[str] = frozenset()
    splitting_tags: frozenset[str] = frozenset()
    non_splitting_tags: frozenset[str] = frozenset()
    outline_detection: bool = True


@dataclass(frozen=True)
class Token:
    kind: str  # start, end, empty (<x/>), text, ref, comment, other
    raw: str
    name: str = ""  # a tag's name, lower case
    attrs: Attrs = ()


class _Tokenizer(HTMLParser):
    """Records each token's kind and start; the text is cut from the source later."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.events: list[tuple[tuple[int, int], str, str, Attrs]] = []

    def _add(self, kind: str, name: str = "", attrs: Sequence[tuple[str, str | None]] = ()) -> None:
        self.events.append((self.getpos(), kind, name, tuple(attrs)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("start", tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("empty", tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._add("end", tag)

    def handle_data(self, data: str) -> None:
        self._add("text")

    def handle_entityref(self, name: str) -> None:
        self._add("ref")

    def handle_charref(self, name: str) -> None:
        self._add("ref")

    def handle_comment(self, data: str) -> None:
        self._add("comment")

    def handle_decl(self, decl: str) -> None:
        self._add("other")

    def handle_pi(self, data: str) -> None:
        self._add("other")

    def unknown_decl(self, data: str) -> None:
        self._add("other")


def tokenize(source: str) -> list[Token]:
    """The tokens of *source*; their ``raw`` texts joined are *source*."""
    parser = _Tokenizer()
    parser.feed(source)
    parser.close()
    line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
    offsets = [line_starts[line - 1] + col for (line, col), *_ in parser.events]
    tokens: list[Token] = []
    if not offsets or offsets[0] > 0:
        head = source[: offsets[0]] if offsets else source
        if head:
            tokens.append(Token("other", head))
    ends = [*offsets[1:], len(source)] if offsets else []
    for (_, kind, name, attrs), start, end in zip(parser.events, offsets, ends, strict=True):
        if end > start:
            tokens.append(Token(kind, source[start:end], name, attrs))
    return tokens


@dataclass
class Tree:
    """Which element each token sits in, where each element ends, which hold text."""

    parent: list[int]  # the enclosing element's start token, -1 at the top
    last: list[int]  # for a start token: the last token of its element
    match: dict[int, int]  # a start token and its end token, both ways
    has_text: set[int]  # elements (-1: the top) with text or references of their own


def build_tree(tokens: Sequence[Token], xml: bool) -> Tree:
    """The elements of *tokens*; in HTML, void elements have no content."""
    tree = Tree([-1] * len(tokens), list(range(len(tokens))), {}, set())
    stack: list[int] = []
    for i, token in enumerate(tokens):
        tree.parent[i] = stack[-1] if stack else -1
        if token.kind == "start" and (xml or token.name not in VOID):
            stack.append(i)
        elif token.kind == "end":
            depth = next(
                (d for d in range(len(stack) - 1, -1, -1) if tokens[stack[d]].name == token.name),
                None,
            )
            if depth is None:
                continue  # a stray end tag
            for unclosed in stack[depth + 1 :]:
                tree.last[unclosed] = i - 1
            start = stack[depth]
            tree.last[start] = i
            tree.match[start], tree.match[i] = i, start
            tree.parent[i] = tree.parent[start]
            del stack[depth:]
        elif token.kind == "ref" or (token.kind == "text" and token.raw.strip()):
            tree.has_text.add(tree.parent[i])
    for unclosed in stack:
        tree.last[unclosed] = len(tokens) - 1
    return tree
