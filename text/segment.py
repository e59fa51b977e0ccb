"""Cut a text into sentences the model can take, and put the translations back together.

Whitespace is never translated: blank lines, line breaks and indentation between
sentences are kept as *gaps* and reappear verbatim around the translations. Sentences
end at ``。！？；…`` or their ASCII forms, with closing quotes and brackets kept on the
sentence they close. A dot inside a number, a URL or an e-mail address is not an end.
A sentence longer than the model accepts is cut at commas and, as a last resort, at a
token boundary; its pieces are translated one by one and joined with the target
language's sentence gap, so nothing is silently truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from text.languages import CHINESE_RE
from text.spans import SpanFinder, find_spans
from text.structure import Frame, frame_line

_CLOSERS = "”’」』）)】》〉\"'］]"
# A run of sentence-final marks, then any closing quotes or brackets.
_END_RE = re.compile(rf"(?:[。！？；!?;]+|…+|\.{{3,}}|\.)[{re.escape(_CLOSERS)}]*")
_CLAUSE_RE = re.compile(r"(?<=[，,、：:；;—])")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Piece:
    """A unit to translate, with the whitespace that preceded it in the source."""

    gap: str
    text: str
    # True for the 2nd, 3rd... parts of a sentence that was too long and had to be cut.
    continuation: bool = False
    # Carried verbatim around the translation: a tag's brackets, a line's trailing emoji.
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class Document:
    pieces: tuple[Piece, ...]
    tail: str

    def join(
        self, translations: Sequence[str], sentence_gap: str = " ", keep_inline_gaps: bool = True
    ) -> str:
        """Reassemble *translations* (one per piece) with the source's whitespace.

        Where the source ran two sentences together (Chinese does), *sentence_gap* goes
        between their translations: a space for English, nothing for Chinese. Without
        *keep_inline_gaps*, spaces between two sentences of one line become
        *sentence_gap* too (English spaces its sentences, Chinese does not); line
        breaks and indentation are always kept.
        """
        out: list[str] = []
        for piece, translated in zip(self.pieces, translations, strict=True):
            inline = piece.gap and "\n" not in piece.gap and out and out[-1][-1:] != "\n"
            if inline and not keep_inline_gaps:
                out.append(sentence_gap)
            elif piece.gap:
                out.append(piece.gap)
            elif out and translated and not out[-1][-1:].isspace():
                out.append(sentence_gap)
            out.append(piece.prefix + translated + piece.suffix)
        out.append(self.tail)
        return "".join(out)


def _ends(line: str, finder: SpanFinder) -> list[int]:
    """Offsets just past each sentence end in *line*."""
    protected = finder(line)
    ends = []
    for match in _END_RE.finditer(line):
        start, end = match.span()
        if any(a <= start < b for a, b in protected):
            continue  # a dot inside 3.5, a URL or an address
        if (
            match.group() == "."
            and end < len(line)
            and not line[end].isspace()
            and not CHINESE_RE.match(line[end])
        ):
            continue  # "e.g.x", "Mr.Smith": a bare dot followed by text is no end
        ends.append(end)
    return ends


def _sentences(line: str, finder: SpanFinder) -> list[tuple[str, str]]:
    """(gap, sentence) pairs of one line; the line's trailing whitespace is returned last."""
    result, last = [], 0
    for end in [*_ends(line, finder), len(line)]:
        chunk = line[last:end]
        last = end
        stripped = chunk.lstrip()
        if stripped.strip():
            body = stripped.rstrip()
            result.append((chunk[: len(chunk) - len(stripped)], body))
            trailing = stripped[len(body) :]
            if trailing:
                result.append((trailing, ""))
        elif chunk:
            result.append((chunk, ""))
    return result


def segment(
    text: str,
    finder: SpanFinder = find_spans,
    brackets: tuple[str, str] | None = None,
) -> Document:
    """Split *text* into pieces, keeping every whitespace character as a gap.

    *finder* marks the spans (numbers, URLs) whose dots do not end a sentence. With
    *brackets* (the target's ``[``, ``]``), each line is framed first
    (:func:`text.structure.frame_line`): list markers and emoji go verbatim into the
    gaps, leading tags become pieces of their own wrapped in *brackets*.
    """
    pieces: list[Piece] = []
    gap = ""
    for index, line in enumerate(text.split("\n")):
        if index:
            gap += "\n"
        if brackets is None:
            frame = Frame((), line, "")
        else:
            body = line.lstrip()
            gap += line[: len(line) - len(body)]
            frame = frame_line(body)
        first = len(pieces)
        for part, is_tag in frame.head:
            if not is_tag:
                gap += part
                continue
            assert brackets is not None
            pieces.append(Piece(gap, part, prefix=brackets[0], suffix=brackets[1]))
            gap = ""
        for space, sentence in _sentences(frame.body, finder):
            gap += space
            if sentence:
                pieces.append(Piece(gap, sentence))
                gap = ""
        if frame.tail:
            if len(pieces) > first:
                last = pieces[-1]
                pieces[-1] = replace(last, suffix=last.suffix + _spaced(frame.tail))
            else:
                gap += frame.tail
    return Document(tuple(pieces), gap)


def _spaced(tail: str) -> str:
    """Trailing emoji after an English sentence, with a space before them."""
    return tail if tail[:1].isspace() else " " + tail


def _inside_word(text: str, at: int) -> bool:
    """True if offset *at* falls between two ASCII letters or digits."""
    left, right = text[at - 1], text[at]
    return left.isascii() and left.isalnum() and right.isascii() and right.isalnum()


def _cut_by_tokens(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    parts = []
    while count(text) > limit:
        low, high = 1, len(text) - 1
        while low < high:  # longest prefix that fits
            mid = (low + high + 1) // 2
            if count(text[:mid]) <= limit:
                low = mid
            else:
                high = mid - 1
        cut = low
        # Do not split a Latin word or a number if a boundary lies in the second half.
        back = cut
        while back > 1 and _inside_word(text, back):
            back -= 1
        if back >= max(1, cut // 2) and not _inside_word(text, back):
            cut = back
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def split_long(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    """Cut *text* so every part has at most *limit* tokens: at clauses, then at tokens."""
    if count(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for clause in (c for c in _CLAUSE_RE.split(text) if c):
        candidate = current + clause
        if current and count(candidate) > limit:
            parts.append(current.strip())
            current = clause
        else:
            current = candidate
    if current.strip():
        parts.append(current.strip())
    result: list[str] = []
    for part in parts:
        result += _cut_by_tokens(part, count, limit) if count(part) > limit else [part]
    return [p for p in result if p]


def fit_to_model(doc: Document, count: Callable[[str], int], limit: int) -> Document:
    """Return *doc* with over-long pieces cut into continuation pieces."""
    pieces: list[Piece] = []
    for piece in doc.pieces:
        parts = split_long(piece.text, count, limit)
        if len(parts) == 1:
            pieces.append(piece)
            continue
        pieces.append(Piece(piece.gap, parts[0], piece.continuation, piece.prefix))
        pieces += [Piece("", part, True) for part in parts[1:-1]]
        pieces.append(Piece("", parts[-1], True, suffix=piece.suffix))
    return Document(tuple(pieces), doc.tail)


def collapse_spaces(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()
