"""Markdown for translation: what is prose becomes slots of a :class:`~text.documents.Layout`.

Line by line, without building a syntax tree:

- kept byte for byte: fenced code blocks (````` ``` ````` and ``~~~``), indented code
  blocks, YAML front matter, HTML comments, thematic breaks, setext underlines, link
  reference definitions, table delimiter rows, blank lines;
- the markers of headings, list items (and task boxes), block quotes and table cells
  stay; what follows them is translated;
- the lines of one paragraph (soft-wrapped) are translated as one text and written on
  one line, so a sentence wrapped over two lines is not translated in halves; a hard
  break (two trailing spaces or a backslash) is kept.

Inside a text, what the model must not touch or would lose becomes a token
(``text/documents.py``): code spans, autolinks and footnote references are kept as they
are; a link or image keeps its target and title as written while its text is translated
on its own; emphasis (``**``, ``*``, ``__``, ``_``, ``~~``) keeps its markers around its
translated inside.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from text.documents import Layout, Part, Slot, token_maker, tokens_in

logger = logging.getLogger(__name__)

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")
_BLANK = re.compile(r"^[ \t]*$")
_HEADING = re.compile(r"^( {0,3}#{1,6})([ \t]+)(.*?)((?:[ \t]+#+)?[ \t]*)$")
_HEADING_EMPTY = re.compile(r"^ {0,3}#{1,6}[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_LIST = re.compile(r"^([ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(?:\[[ xX]\][ \t]+)?|$))(.*)$")
_QUOTE = re.compile(r"^((?: {0,3}>[ \t]?)+)(.*)$")
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S")
_TABLE_DELIM = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_HARD_BREAK = re.compile(r"(?: {2,}|\\)$")
_CELL_PIPE = re.compile(r"((?<!\\)\|)")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Inline: kept as written.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>]+)>")
_FOOTNOTE = re.compile(r"\[\^[^\]\s]+\]")
# Links and images: the label is translated, the rest kept.
_DEST = r"(?:<[^<>\n]*>|(?:[^()\s\\]|\\.|\([^()\s]*\))*)"
_TITLE = r"""(?:[ \t]+(?:"[^"]*"|'[^']*'|\([^()]*\)))?"""
_LABEL = r"(?P<label>(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)"
_TAIL = rf"(?P<rest>\]\({_DEST}{_TITLE}[ \t]*\)|\]\[[^\[\]]*\])"
_IMAGE = re.compile(rf"(?P<open>!\[){_LABEL}{_TAIL}")
_LINK = re.compile(rf"(?<![\\!])(?P<open>\[){_LABEL}{_TAIL}")
# Emphasis: the inside is translated between its markers, strongest first.
_EMPHASIS = (
    re.compile(r"(?P<m>\*\*)(?=\S)(?P<in>.+?)(?<=\S)\*\*"),
    re.compile(r"(?<!\w)(?P<m>__)(?=\S)(?P<in>.+?)(?<=\S)__(?!\w)"),
    re.compile(r"(?P<m>~~)(?=\S)(?P<in>.+?)(?<=\S)~~"),
    re.compile(r"(?P<m>\*)(?=[^\s*])(?P<in>.+?)(?<=[^\s*])\*"),
    re.compile(r"(?<!\w)(?P<m>_)(?=[^\s_])(?P<in>.+?)(?<=[^\s_])_(?!\w)"),
)


def split_markdown(text: str) -> Layout:
    """Split a Markdown document; see the module docstring."""
    return _Splitter(text).run()


def mask_inline(layout: Layout, text: str) -> Slot:
    """A slot for one Markdown text, its code, links and emphasis as tokens."""
    table: dict[str, list[Part]] = {}
    masked = _Masker(layout, table, token_maker(text)).mask(text)
    return layout.slot(masked, tokens_in(masked, table))


class _Masker:
    def __init__(
        self, layout: Layout, table: dict[str, list[Part]], new_token: Callable[[], str]
    ) -> None:
        self.layout, self.table, self.new_token = layout, table, new_token

    def _token(self, parts: list[Part]) -> str:
        token = self.new_token()
        self.table[token] = parts
        return token

    def _inner(self, text: str) -> Part:
        if not text.strip():
            return text
        masked = self.mask(text)
        return self.layout.slot(masked, tokens_in(masked, self.table))

    def mask(self, text: str) -> str:
        for kept in (_CODE_SPAN, _AUTOLINK, _FOOTNOTE):
            text = kept.sub(lambda m: self._token([m.group()]), text)
        for link in (_IMAGE, _LINK):
            text = link.sub(
                lambda m: self._token([m["open"], self._inner(m["label"]), m["rest"]]), text
            )
        for emphasis in _EMPHASIS:
            text = emphasis.sub(lambda m: self._token([m["m"], self._inner(m["in"]), m["m"]]), text)
        return text


class _Splitter:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.layout = Layout()
        self.in_list = False
        self.prev_blank = True
        self.after_paragraph = False

    def run(self) -> Layout:
        i = self._front_matter()
        while i < len(self.lines):
            i = self._block(i) + 1
        return self.layout

    # --- output helpers ------------------------------------------------------------

    def _end_line(self, index: int) -> None:
        if index < len(self.lines) - 1:
            self.layout.literal("\n")

    def _keep(self, start: int, end: int) -> int:
        """Lines start..end (inclusive) literal; returns *end*."""
        self.layout.literal("\n".join(self.lines[start : end + 1]))
        self._end_line(end)
        return end

    def _inline(self, text: str) -> None:
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :] if text.strip() else ""
        core = text.strip()
        self.layout.literal(lead)
        if core:
            self.layout.parts.append(mask_inline(self.layout, core))
        self.layout.literal(trail)

    # --- blocks --------------------------------------------------------------------

    def _front_matter(self) -> int:
        if not self.lines or self.lines[0].rstrip() != "---":
            return 0
        for end in range(1, len(self.lines)):
            if self.lines[end].rstrip() in ("---", "..."):
                self._keep(0, end)
                return end + 1
        return 0

    def _block(self, i: int) -> int:
        """Handle the block starting at line *i*; return the last line it took."""
        line = self.lines[i]
        after_paragraph, self.after_paragraph = self.after_paragraph, False
        blank_before, self.prev_blank = self.prev_blank, bool(_BLANK.match(line))
        kept = self._kept_until(i, after_paragraph)
        if kept is not None:
            return self._keep(i, kept)
        if "|" in line and i + 1 < len(self.lines) and _TABLE_DELIM.match(self.lines[i + 1]):
            return self._table(i)
        if blank_before and not _INDENTED.match(line) and not _LIST.match(line):
            self.in_list = False
        return self._text(i)

    def _kept_until(self, i: int, after_paragraph: bool) -> int | None:
        """The last line of a literal block starting at line *i*, or None."""
        line = self.lines[i]
        if _FENCE.match(line):
            return self._fence_end(i)
        if _INDENTED.match(line) and not after_paragraph and not self.in_list:
            return self._indented_end(i)
        if line.lstrip().startswith("<!--"):
            return self._comment_end(i)
        one_line = _BLANK.match(line) or _RULE.match(line) or _LINK_DEF.match(line)
        if one_line or (after_paragraph and _SETEXT.match(line)):
            return i
        return None

    def _fence_end(self, i: int) -> int:
        match = _FENCE.match(self.lines[i])
        assert match is not None
        fence = match.group(2)
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        for end in range(i + 1, len(self.lines)):
            if closing.match(self.lines[end]):
                return end
        return len(self.lines) - 1  # unclosed: code to the end, as CommonMark reads it

    def _indented_end(self, i: int) -> int:
        end = i
        for j in range(i + 1, len(self.lines)):
            if _INDENTED.match(self.lines[j]):
                end = j
            elif not _BLANK.match(self.lines[j]):
                break
        return end

    def _comment_end(self, i: int) -> int:
        for end in range(i, len(self.lines)):
            if "-->" in self.lines[end]:
                return end
        return len(self.lines) - 1

    def _table(self, i: int) -> int:
        end = i
        for j in range(i, len(self.lines)):
            line = self.lines[j]
            if _BLANK.match(line) or "|" not in line:
                break
            end = j
            if j == i + 1:
                self.layout.literal(line)
            else:
                for cell in _CELL_PIPE.split(line):
                    if cell == "|":
                        self.layout.literal(cell)
                    else:
                        self._inline(cell)
            self._end_line(j)
        return end

    def _text(self, i: int) -> int:
        """A heading, or a paragraph (maybe in a quote or list item) with its soft-wrapped
        continuation lines."""
        prefix, rest = "", self.lines[i]
        quote = _QUOTE.match(rest)
        if quote:
            prefix, rest = quote.group(1), quote.group(2)
        heading = _HEADING.match(rest)
        if heading:
            self.layout.literal(prefix + heading.group(1) + heading.group(2))
            self._inline(heading.group(3))
            self.layout.literal(heading.group(4))
            self._end_line(i)
            return i
        if _HEADING_EMPTY.match(rest) or _RULE.match(rest):
            return self._keep(i, i)
        item = _LIST.match(rest)
        if item:
            self.in_list = True
            prefix, rest = prefix + item.group(1), item.group(2)
        return self._paragraph(i, prefix, rest, bool(quote))

    def _paragraph(self, i: int, prefix: str, first: str, quoted: bool) -> int:
        parts, end = [first], i
        while not _HARD_BREAK.search(self.lines[end]) and self._continues(end + 1, quoted):
            end += 1
            line = self.lines[end]
            quote = _QUOTE.match(line)
            parts.append((quote.group(2) if quote else line).lstrip())
        hard = _HARD_BREAK.search(self.lines[end])
        if hard:
            parts[-1] = _HARD_BREAK.sub("", parts[-1])
        text = parts[0]
        for part in parts[1:]:
            joint = "" if _CJK.search(text[-1:]) and _CJK.match(part) else " "
            text = text.rstrip() + joint + part
        self.layout.literal(prefix)
        self._inline(text)
        if hard:
            self.layout.literal(hard.group())
        self._end_line(end)
        self.after_paragraph = True
        return end

    def _continues(self, j: int, quoted: bool) -> bool:
        """Whether line *j* continues the paragraph above it (a lazy continuation)."""
        if j >= len(self.lines):
            return False
        line = self.lines[j]
        quote = _QUOTE.match(line)
        if bool(quote) != quoted:
            return False
        body = quote.group(2) if quote else line
        starts_block = (
            _BLANK.match(body)
            or _FENCE.match(body)
            or _HEADING.match(body)
            or _HEADING_EMPTY.match(body)
            or _RULE.match(body)
            or _SETEXT.match(body)
            or _LIST.match(body)
            or body.lstrip().startswith(("<!--", "|"))
            or _LINK_DEF.match(body)
        )
        return not starts_block
