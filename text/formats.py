"""Two more formats for :func:`text.documents.split_document`: HTML read as text, and JSON Lines.

HTML as text: the content of each block element is one slot, inline tags inside it (the
file translation hands HTML slots to the markup pipeline, ``serving/formatted.py``, which
puts the tags back where the model put their words); ``script``, ``style``, ``pre``,
``textarea``, comments and the like stay literal, ``code``/``kbd``/``samp``/``var``
elements become tokens. JSON Lines: every string value, or those of the named top-level
fields, is a text; each object is written back on its line with its keys in order.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from text.documents import WS_EDGES, DocumentError, Layout, Part, token_maker

logger = logging.getLogger(__name__)


# --- HTML as text -----------------------------------------------------------------------

_HTML_KEEP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?.*?\?>"
    r"|<(script|style|pre|textarea|template|svg|math)\b[^>]*>.*?</\1\s*>",
    re.DOTALL | re.IGNORECASE,
)
_HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_HTML_CODE = re.compile(r"<(code|kbd|samp|var)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_INLINE_TAGS = frozenset(
    "a abbr b bdi bdo cite data dfn em font i ins del mark q ruby rb rp rt s small span "
    "strong sub sup time u wbr".split()
)


def split_html(text: str) -> Layout:
    """The content of each block element is a slot; tags, comments, scripts, styles,
    ``pre`` stay literal. Inline tags stay inside the slot, and the pipeline carries
    them verbatim; ``code``/``kbd``/``samp``/``var`` elements become tokens, untouched."""
    layout = Layout()
    pending: list[str] = []
    for literal, chunk in _html_chunks(text):
        if literal:
            _html_flush(layout, pending)
            layout.literal(chunk)
        else:
            pending.append(chunk)
    _html_flush(layout, pending)
    return layout


def _html_chunks(text: str) -> Iterator[tuple[bool, str]]:
    """``(is_literal, chunk)``: block tags and kept elements literal; text, inline tags
    and code elements not (they join the current slot)."""
    pos = 0
    for kept in _HTML_KEEP.finditer(text):
        yield from _html_tags(text[pos : kept.start()])
        yield True, kept.group()
        pos = kept.end()
    yield from _html_tags(text[pos:])


def _html_tags(text: str) -> Iterator[tuple[bool, str]]:
    pos = 0
    for code in _HTML_CODE.finditer(text):  # inline, and masked whole in the slot
        yield from _html_plain_tags(text[pos : code.start()])
        yield False, code.group()
        pos = code.end()
    yield from _html_plain_tags(text[pos:])


def _html_plain_tags(text: str) -> Iterator[tuple[bool, str]]:
    pos = 0
    for tag in _HTML_TAG.finditer(text):
        if tag.start() > pos:
            yield False, text[pos : tag.start()]
        yield tag.group(1).lower() not in _INLINE_TAGS, tag.group()
        pos = tag.end()
    if pos < len(text):
        yield False, text[pos:]


def _html_flush(layout: Layout, pending: list[str]) -> None:
    content = "".join(pending)
    pending.clear()
    if not re.search(r"[^\W\d_]", _HTML_TAG.sub("", content)):
        layout.literal(content)  # tags and whitespace only
        return
    match = WS_EDGES.match(content)
    assert match is not None
    lead, core, trail = match.groups()
    new_token = token_maker(core)
    table: dict[str, list[Part]] = {}

    def keep(code: re.Match[str]) -> str:
        token = new_token()
        table[token] = [code.group()]
        return token

    masked = _HTML_CODE.sub(keep, core)
    layout.literal(lead)
    layout.parts.append(layout.slot(masked, table))
    layout.literal(trail)


# --- JSON Lines -------------------------------------------------------------------------


class JsonLines:
    """A JSON Lines file: every string value (or those of the top-level *fields*) is a
    text; rendering writes each object back on its line, keys in their order."""

    def __init__(self, text: str, fields: Sequence[str] | None = None) -> None:
        self._fields = set(fields) if fields else None
        self._lines: list[Any] = []  # a parsed object, or a blank line kept as is
        self._texts: list[str] = []
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                self._lines.append(line)
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DocumentError(f"line {number} is not JSON: {exc.msg}") from None
            self._lines.append(_Parsed(value))
            self._collect(value, top=True)

    @property
    def texts(self) -> list[str]:
        return self._texts

    def _selected(self, key: str | None) -> bool:
        """Whether a top-level field (None: the line is no object) is translated."""
        return self._fields is None or key in self._fields

    def _top(self, value: Any) -> Iterator[tuple[str | None, Any]]:
        if isinstance(value, dict):
            yield from value.items()
        else:
            yield None, value

    def _collect(self, value: Any, top: bool = False) -> None:
        if top:
            for key, item in self._top(value):
                if self._selected(key):
                    self._collect(item)
        elif isinstance(value, dict):
            for item in value.values():
                self._collect(item)
        elif isinstance(value, list):
            for item in value:
                self._collect(item)
        elif isinstance(value, str):
            self._texts.append(value)

    def render(self, translations: Sequence[str]) -> str:
        if len(translations) != len(self._texts):
            raise ValueError(f"{len(translations)} translations for {len(self._texts)} texts")
        feed = iter(translations)
        out = []
        for line in self._lines:
            if isinstance(line, _Parsed):
                out.append(json.dumps(self._replace_top(line.value, feed), ensure_ascii=False))
            else:
                out.append(line)
        return "\n".join(out)

    def _replace_top(self, value: Any, feed: Iterator[str]) -> Any:
        if isinstance(value, dict):
            return {k: self._replace(v, feed) if self._selected(k) else v for k, v in value.items()}
        return self._replace(value, feed) if self._selected(None) else value

    def _replace(self, value: Any, feed: Iterator[str]) -> Any:
        if isinstance(value, dict):
            return {k: self._replace(v, feed) for k, v in value.items()}
        if isinstance(value, list):
            return [self._replace(v, feed) for v in value]
        return next(feed) if isinstance(value, str) else value


@dataclass(frozen=True)
class _Parsed:
    value: Any
