"""Cut a text document into what is translated and what is kept, and put it back together.

Pure functions on strings, for the file endpoints and ``zh-en-translator translate-file``.
A document becomes a :class:`Layout`: literal text kept byte for byte (markup, code,
indices, timings, whitespace) and *slots*, the texts to translate (``layout.texts``).
``layout.render(translations)`` writes the document again with each slot replaced by
its translation, in order.

A slot may hold *tokens*: ``{{md0}}``-style format placeholders, which the translation
pipeline carries through verbatim (``text/spans.py``). Each stands for a piece of the
document that must not be translated as part of the sentence, like a Markdown link's
target or a code span, or one whose inside is translated on its own, like a link's
text (a slot of its own). The sentence around them is translated whole; rendering puts
the pieces back where the translation has their tokens (a lost token is appended, a
doubled one kept once).

Formats (``split_document``): plain text (paragraphs) and SubRip subtitles here,
Markdown in ``text/markdown.py``, HTML read as text and JSON Lines in ``text/formats.py``.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger(__name__)

WS_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)
_TOKEN_PREFIXES = ("md", "mdx", "mdq", "mdz")


class DocumentError(ValueError):
    """The document cannot be read as its format (the message says where)."""


class Translatable(Protocol):
    """What the file translation needs of a split document."""

    @property
    def texts(self) -> list[str]: ...

    def render(self, translations: Sequence[str]) -> str: ...


@dataclass
class Slot:
    """A text to translate (``Layout.texts[index]``), with the tokens it contains."""

    index: int
    tokens: dict[str, list[Part]] = field(default_factory=dict)
    keep_case: bool = False  # the source began with a Latin letter: keep its capital


Part = str | Slot


class Layout:
    """Literal text and slots, in document order; see the module docstring."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self._texts: list[str] = []

    @property
    def texts(self) -> list[str]:
        return self._texts

    def literal(self, text: str) -> None:
        if not text:
            return
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    def slot(self, text: str, tokens: dict[str, list[Part]] | None = None) -> Slot:
        """Register *text* for translation and return its slot (not yet placed)."""
        self._texts.append(text)
        return Slot(len(self._texts) - 1, tokens or {}, bool(re.match("[A-Za-z]", text)))

    def text(self, text: str) -> None:
        """Place *text* to translate; its leading and trailing whitespace stay literal."""
        match = WS_EDGES.match(text)
        assert match is not None
        lead, core, trail = match.groups()
        self.literal(lead)
        if core:
            self.parts.append(self.slot(core))
        self.literal(trail)

    def render(self, translations: Sequence[str]) -> str:
        if len(translations) != len(self._texts):
            raise ValueError(f"{len(translations)} translations for {len(self._texts)} texts")
        return render_parts(self.parts, translations)


_SENTENCE_END = re.compile(r"(?:^|[.!?:。！？：\n][\"')\]]*)\s*$")
_TITLE_WORD = re.compile(r"[A-Z][a-z]+(?:'[a-z]+)?\b")


def render_parts(
    parts: Sequence[Part], translations: Sequence[str], lower_first: bool = False
) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        text = _render_slot(part, translations)
        if lower_first and not part.keep_case and _TITLE_WORD.match(text):
            text = text[0].lower() + text[1:]
        lower_first = False
        out.append(text)
    return "".join(out)


def _render_slot(slot: Slot, translations: Sequence[str]) -> str:
    """The slot's translation with its tokens replaced. A piece translated on its own (a
    link's text) comes back capitalised like a sentence: inside a sentence its first
    word is lower-cased again, unless its source began with a Latin letter."""
    out = translations[slot.index]
    for token, parts in slot.tokens.items():
        at = out.find(token)
        inside = at > 0 and not _SENTENCE_END.search(out[:at])
        piece = render_parts(parts, translations, lower_first=inside)
        if at < 0:
            logger.warning("a kept piece lost its place in the translation; appended")
            out = f"{out} {piece}" if out and not out.endswith(" ") else out + piece
            continue
        out = out[:at] + piece + out[at + len(token) :].replace(token, "")
    return out


def token_maker(text: str) -> Callable[[], str]:
    """A source of fresh ``{{mdN}}`` tokens, with a prefix *text* does not contain."""
    prefix = next((p for p in _TOKEN_PREFIXES if "{{" + p not in text), "mdw")
    count = iter(range(1_000_000))
    return lambda: f"{{{{{prefix}{next(count)}}}}}"


def tokens_in(text: str, table: dict[str, list[Part]]) -> dict[str, list[Part]]:
    return {t: parts for t, parts in table.items() if t in text}


# --- long texts -------------------------------------------------------------------------

_TAG = re.compile(r"<[^<>]*>")
_CUT_AFTER = re.compile(r"\n+|(?<=[。！？!?；;…])\s*|(?<=[.])\s+")


def split_long(text: str, limit: int) -> list[tuple[str, str | None]]:
    """Cut *text* into ``(piece, separator)`` pairs of at most *limit* characters each:
    at line breaks, else after sentence ends, else anywhere (separator None: nothing was
    between the pieces). Pieces and separators joined are *text*. Translate the pieces
    and join them with :func:`join_long`."""
    if len(text) <= limit:
        return [(text, None)]
    tags = [(m.start(), m.end()) for m in _TAG.finditer(text)]  # never cut inside a tag
    cuts = [
        (m.start(), m.end())
        for m in _CUT_AFTER.finditer(text)
        if m.start() > 0 and not any(a < m.start() < b for a, b in tags)
    ]
    out: list[tuple[str, str | None]] = []
    start = 0
    while len(text) - start > limit:
        fitting = [c for c in cuts if start < c[0] <= start + limit]
        if fitting:
            end, resume = fitting[-1]
            out.append((text[start:end], text[end:resume]))
        else:
            end = resume = start + limit
            out.append((text[start:end], None))
        start = resume
    out.append((text[start:], None))
    return out


def join_long(translations: Sequence[str], separators: Sequence[str | None], gap: str) -> str:
    """The pieces' translations joined: a separator with a line break is kept, any other
    becomes the target language's sentence gap (``" "`` for English, ``""`` Chinese)."""
    out = []
    for translation, sep in zip(translations, separators, strict=True):
        out.append(translation + ("" if sep is None else sep if "\n" in sep else gap))
    return "".join(out)


# --- spreading a translation over styled runs ----------------------------------------


def spread(text: str, weights: Sequence[int]) -> list[str]:
    """Cut *text* into ``len(weights)`` consecutive pieces of about the weights' shares.

    For a paragraph whose runs differ in style: its translation is spread over the runs
    in proportion to the source text each held. With spaces in *text* the cuts move to
    the nearest word end (the space stays with the piece before it); without (Chinese)
    they fall between characters. Joined, the pieces are *text*.
    """
    if len(weights) <= 1:
        return [text]
    total = sum(weights) or 1
    spaced = " " in text
    cuts: list[int] = []
    acc, prev = 0, 0
    for weight in weights[:-1]:
        acc += weight
        at = round(len(text) * acc / total)
        if spaced:
            at = _nearest_word_end(text, at, prev)
        prev = max(at, prev)
        cuts.append(prev)
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def _nearest_word_end(text: str, at: int, low: int) -> int:
    """The position after a space nearest to *at*, not before *low* (else *at*)."""
    for distance in range(len(text) + 1):
        for pos in (at - distance, at + distance):
            if low <= pos <= len(text) and (pos in (0, len(text)) or text[pos - 1] == " "):
                return pos
    return at


# --- plain text -------------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")


def split_plain(text: str) -> Layout:
    """Paragraphs (separated by blank lines) are slots; the blank lines stay."""
    layout = Layout()
    start = 0
    for match in _BLANK_LINES.finditer(text):
        layout.text(text[start : match.start()])
        layout.literal(match.group())
        start = match.end()
    layout.text(text[start:])
    return layout


# --- SubRip -----------------------------------------------------------------------------

_SRT_INDEX = re.compile(r"^\s*\d+\s*$")
_SRT_TIME = r"\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}")


def split_srt(text: str) -> Layout:
    """Each cue's text is one slot (its line breaks kept); indices and timings stay."""
    layout = Layout()
    start = 0
    blocks = list(_BLANK_LINES.finditer(text))
    for match in [*blocks, None]:
        end = match.start() if match else len(text)
        _srt_cue(layout, text[start:end])
        if match:
            layout.literal(match.group())
            start = match.end()
    return layout


def _srt_cue(layout: Layout, block: str) -> None:
    lines = block.split("\n")
    head = 0
    if head < len(lines) and _SRT_INDEX.match(lines[head]):
        head += 1
    if head < len(lines) and _SRT_TIMING.match(lines[head]):
        head += 1
    if head == 0 and block.strip():
        logger.debug("a subtitle block without index or timing is translated as text")
    layout.literal("\n".join(lines[:head]) + ("\n" if 0 < head < len(lines) else ""))
    layout.text("\n".join(lines[head:]))


# --- formats ----------------------------------------------------------------------------

FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".srt": "srt",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
}


def split_document(kind: str, text: str, fields: Sequence[str] | None = None) -> Translatable:
    """Split *text* of format *kind* (a value of :data:`FORMATS`)."""
    from text.formats import JsonLines, split_html
    from text.markdown import split_markdown

    if kind == "jsonl":
        return JsonLines(text, fields)
    splitters: dict[str, Callable[[str], Layout]] = {
        "text": split_plain,
        "markdown": split_markdown,
        "srt": split_srt,
        "html": split_html,
    }
    if kind not in splitters:
        raise DocumentError(f"unknown document format {kind!r}")
    return splitters[kind](text)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # how to write the translation back
    newline: str


def decode(data: bytes) -> Decoded:
    """The text of a file: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030.
    CRLF line ends are read as LF and written back as CRLF."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    elif data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        newline = "\r\n" if "\r\n" in text else "\n"
        return Decoded(text.replace("\r\n", "\n"), encoding, newline)
    raise DocumentError("the file is not text in UTF-8, UTF-16 (with BOM) or GB18030")


def encode(text: str, decoded: Decoded) -> bytes:
    """*text* in the encoding and line ends the source file had."""
    if decoded.newline != "\n":
        text = text.replace("\n", decoded.newline)
    return text.encode(decoded.encoding, errors="strict")
