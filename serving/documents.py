"""Translate a whole file: open it by its extension, translate its texts, write it back.

Shared by the file endpoints (``web/files.py``) and ``zh-en-translator translate-file``.
The formats and what each keeps are described in ``text/documents.py``,
``text/markdown.py`` and ``serving/docx_files.py``.

A file's texts go to the translator in batches of at most ``max_batch_items`` texts and
about :data:`BATCH_CHARS` characters, each batch one ``Translator.translate`` call with
the usual deadline, so a long file never needs one long deadline and its progress can
be reported after each batch (``progress(done_chars, total_chars)``). A text longer than
``max_chars`` is cut at line breaks or sentence ends first (``text.documents.split_long``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, cast

from serving.errors import BadRequest, PayloadTooLarge, TextTooLong, UnsupportedMediaType
from serving.formatted import translate_formatted
from serving.jobs import RequestStats
from serving.registry import TranslatorRegistry
from serving.translator import Translator
from text.detect import detect
from text.documents import (
    FORMATS,
    Decoded,
    DocumentError,
    Translatable,
    decode,
    encode,
    join_long,
    split_document,
    split_long,
)
from text.markup import MarkupOptions

if TYPE_CHECKING:
    from serving.docx_files import DocxDocument

logger = logging.getLogger(__name__)

BATCH_CHARS = 2000
DETECT_SAMPLE_CHARS = 4000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {**FORMATS, ".docx": "docx"}
MIMETYPES = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "srt": "application/x-subrip",
    "html": "text/html",
    "jsonl": "application/jsonl",
    "docx": DOCX,
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]+")

Progress = Callable[[int, int], None]


class UnsupportedFileType(UnsupportedMediaType):
    code = "unsupported_file_type"


class UnreadableFile(BadRequest):
    code = "unreadable_file"


class FileTooLarge(PayloadTooLarge):
    code = "file_too_large"


@dataclass
class OpenedFile:
    """A file split into its texts, ready to be translated and written back."""

    name: str  # the uploaded name, made safe
    kind: str  # a value of EXTENSIONS
    document: Translatable | DocxDocument
    decoded: Decoded | None = None  # how a text format was read (to write it back alike)

    @property
    def texts(self) -> list[str]:
        return self.document.texts

    @property
    def characters(self) -> int:
        return sum(len(t) for t in self.texts)

    @property
    def mimetype(self) -> str:
        return MIMETYPES[self.kind]

    def output_name(self, target: str) -> str:
        """``notes.md`` → ``notes.en.md``."""
        path = PurePosixPath(self.name)
        return f"{path.stem}.{target}{path.suffix}"

    def render(self, translations: Sequence[str]) -> bytes:
        if self.kind == "docx":
            return cast("DocxDocument", self.document).render(translations)
        assert self.decoded is not None
        return encode(cast("Translatable", self.document).render(translations), self.decoded)


def safe_name(name: str | None) -> str:
    """The last path component of an uploaded name, without control or path characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" ._")[-120:]
    return cleaned or "document.txt"


def supported_extensions() -> list[str]:
    return sorted(EXTENSIONS)


def open_file(name: str | None, data: bytes, fields: Sequence[str] | None = None) -> OpenedFile:
    """Split an uploaded file; raise UnsupportedFileType or UnreadableFile."""
    filename = safe_name(name)
    suffix = PurePosixPath(filename).suffix.lower()
    kind = EXTENSIONS.get(suffix)
    if kind is None:
        raise UnsupportedFileType(
            f"files of type {suffix or '(no extension)'!r} cannot be translated; "
            f"send one of {', '.join(supported_extensions())}"
        )
    try:
        if kind == "docx":
            # Imported here: python-docx and lxml cost the web process memory, and most
            # services never see a Word file.
            from serving.docx_files import DocxDocument

            return OpenedFile(filename, kind, DocxDocument(data))
        decoded = decode(data)
        return OpenedFile(filename, kind, split_document(kind, decoded.text, fields), decoded)
    except DocumentError as exc:
        raise UnreadableFile(f"{filename}: {exc}") from None


def check_characters(opened: OpenedFile, limit: int) -> None:
    if opened.characters > limit:
        raise TextTooLong(
            f"{opened.name} has {opened.characters} characters to translate; the limit is "
            f"{limit} per file. Split the file into smaller ones."
        )


def detected_source(opened: OpenedFile) -> str | None:
    """The language of the file's texts (a sample of them), or None if unknown."""
    sample, size = [], 0
    for text in opened.texts:
        sample.append(text)
        size += len(text)
        if size >= DETECT_SAMPLE_CHARS:
            break
    return detect("\n".join(sample)).language


def pick_translator(
    registry: TranslatorRegistry, opened: OpenedFile, source: str | None, target: str | None
) -> Translator:
    """The translator for *source* → *target*; ``source="auto"``: detected from the file
    (a file already in the target language goes to the translator into it, which passes
    its target-language parts through)."""
    if source is None or source.lower() != "auto":
        return registry.get(source, target)
    into = registry.get(None, target)  # an unserved target fails here
    found = detected_source(opened)
    if found is None or found == into.direction.target.code:
        return into
    return registry.get(found, into.direction.target.code)


def translate_file(
    translator: Translator,
    opened: OpenedFile,
    *,
    max_chars: int,
    max_items: int,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> tuple[bytes, RequestStats]:
    """Translate every text of *opened* and return the written file and the stats."""
    units: list[tuple[int, str, str | None]] = []  # (text index, piece, separator)
    edges: list[tuple[str, str]] = []
    for index, text in enumerate(opened.texts):
        core = text.strip()
        start = text.find(core) if core else len(text)
        edges.append((text[:start], text[start + len(core) :]))
        units += [(index, piece, sep) for piece, sep in split_long(core, max_chars) if core]
    run = _batch_translator(translator, opened.kind, use_cache)
    results, stats = _translate_pieces(run, [u[1] for u in units], max_items, progress)
    by_text: dict[int, list[int]] = {}
    for i, unit in enumerate(units):
        by_text.setdefault(unit[0], []).append(i)
    gap = translator.direction.target.sentence_gap
    out: list[str] = []
    for index, (lead, trail) in enumerate(edges):
        mine = by_text.get(index, [])
        body = join_long([results[i] for i in mine], [units[i][2] for i in mine], gap)
        out.append(lead + body + trail)
    return opened.render(out), stats


Translate = Callable[[list[str]], tuple[list[str], RequestStats]]


def _batch_translator(translator: Translator, kind: str, use_cache: bool) -> Translate:
    """How a batch is translated: HTML through the markup pipeline (inline tags become
    marks the model keeps in place, ``serving/formatted.py``), the rest as plain text."""
    if kind != "html":
        return lambda batch: translator.translate(batch, use_cache=use_cache)
    markup = MarkupOptions()

    def run(batch: list[str]) -> tuple[list[str], RequestStats]:
        done = translate_formatted(translator, batch, markup, use_cache=use_cache)
        return done.texts, done.stats

    return run


def _translate_pieces(
    run: Translate,
    pieces: list[str],
    max_items: int,
    progress: Progress | None,
) -> tuple[list[str], RequestStats]:
    total = sum(len(p) for p in pieces)
    results: list[str] = []
    stats = RequestStats()
    done = 0
    if progress:
        progress(0, total)
    for batch in _batches(pieces, max_items, BATCH_CHARS):
        out, batch_stats = run(batch)
        results += out
        for field in fields(RequestStats):
            value = getattr(stats, field.name) + getattr(batch_stats, field.name)
            setattr(stats, field.name, value)
        done += sum(len(p) for p in batch)
        if progress:
            progress(done, total)
    return results, stats


def _batches(pieces: list[str], max_items: int, max_chars: int) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for piece in pieces:
        if batches[-1] and (len(batches[-1]) >= max_items or size + len(piece) > max_chars):
            batches.append([])
            size = 0
        batches[-1].append(piece)
        size += len(piece)
    return [b for b in batches if b]
