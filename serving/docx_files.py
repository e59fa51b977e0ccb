"""Word documents (.docx) for file translation, with python-docx.

What is translated: every paragraph of the body (tables, nested tables and text boxes
included), of the headers and footers and of the comments. Footnotes and endnotes are
left as they are (python-docx does not load them as XML).

How formatting survives: a paragraph is translated as one text, so its sentences are
never cut at a change of style. Its runs (the stretches of one character format) are
grouped: consecutive runs with the same formatting and in the same container (a
hyperlink, the paragraph itself) form one *style group*. With one group (the usual
case) the whole translation goes into the group's first run, and its other runs are
emptied; so the paragraph keeps its style, and the run its font, size, colour and so
on. With several groups (a bold word inside a sentence) the translation is spread over
them in proportion to the source text each held, cut at word ends
(:func:`text.documents.spread`): every format survives, where a bold span falls in
the English sentence is approximate. Runs keep whatever is not text (images, fields,
page breaks); paragraph properties, numbering, tables and sections are not touched.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.parts.comments import CommentsPart
from docx.parts.document import DocumentPart
from docx.parts.hdrftr import FooterPart, HeaderPart

from text.documents import DocumentError, spread

logger = logging.getLogger(__name__)

_P, _R = qn("w:p"), qn("w:r")
_CONTAINERS = (qn("w:hyperlink"), qn("w:smartTag"), qn("w:fldSimple"))
# Children of a w:r that make up its text (and are rewritten); the rest stays.
_TEXT_XPATH = (
    "w:t | w:tab | w:cr | w:noBreakHyphen | w:ptab | w:br[not(@w:type) or @w:type='textWrapping']"
)
_STORY_PARTS = (DocumentPart, HeaderPart, FooterPart, CommentsPart)
MAX_UNZIPPED_BYTES = 128 * 1024 * 1024

Run = Any  # docx.oxml.text.run.CT_R; lxml's typing does not narrow iter() results
Group = list[Run]


class DocxDocument:
    """A .docx file's paragraphs as texts; :meth:`render` writes the translated file."""

    def __init__(self, data: bytes, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES) -> None:
        _check_unzipped_size(data, max_unzipped_bytes)
        try:
            self._doc = docx.Document(io.BytesIO(data))
        except Exception as exc:  # a hostile or broken file may fail anywhere inside
            logger.info("unreadable .docx: %s", type(exc).__name__)
            raise DocumentError("the file is not a readable .docx (Word) document") from None
        self._paragraphs: list[list[Group]] = []
        self._texts: list[str] = []
        for element in self._story_elements():
            for paragraph in element.iter(_P):
                groups = _style_groups(paragraph)
                text = "".join(_run_text(r) for group in groups for r in group)
                if text.strip():
                    self._paragraphs.append(groups)
                    self._texts.append(text)

    @property
    def texts(self) -> list[str]:
        return self._texts

    def _story_elements(self) -> Iterator[Any]:
        seen: set[str] = set()
        for part in self._doc.part.package.iter_parts():
            if isinstance(part, _STORY_PARTS) and str(part.partname) not in seen:
                seen.add(str(part.partname))
                yield part.element

    def render(self, translations: Sequence[str]) -> bytes:
        """The document with each paragraph's text replaced by its translation."""
        if len(translations) != len(self._texts):
            raise ValueError(f"{len(translations)} translations for {len(self._texts)} texts")
        for groups, translation in zip(self._paragraphs, translations, strict=True):
            weights = [sum(len(_run_text(r)) for r in group) for group in groups]
            for group, piece in zip(groups, spread(translation, weights), strict=True):
                _set_run_text(group[0], piece)
                for run in group[1:]:
                    _set_run_text(run, "")
        out = io.BytesIO()
        self._doc.save(out)
        return out.getvalue()


def _check_unzipped_size(data: bytes, limit: int) -> None:
    """Refuse a zip whose members unpack to more than *limit* bytes (a zip bomb);
    zipfile stops reading a member at its declared size, so the sum bounds memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DocumentError("the file is not a readable .docx (Word) document") from None
    if unpacked > limit:
        raise DocumentError(f"the .docx unpacks to {unpacked} bytes; at most {limit} are accepted")


def _paragraph_of(run: Run) -> Any:
    parent = run.getparent()
    while parent is not None and parent.tag != _P:
        parent = parent.getparent()
    return parent


def _run_text(run: Run) -> str:
    return "".join(str(e) for e in run.xpath(_TEXT_XPATH))


def _style_groups(paragraph: Any) -> list[Group]:
    """The paragraph's own runs with text (not those of a text box inside it), grouped
    by container and formatting."""
    groups: list[Group] = []
    last_key: tuple[int, str] | None = None
    for run in paragraph.iter(_R):
        if _paragraph_of(run) is not paragraph or not _run_text(run):
            continue
        parent = run.getparent()
        container = id(parent) if parent.tag in _CONTAINERS else 0
        properties = run.rPr.xml if run.rPr is not None else ""
        key = (container, properties)
        if key == last_key:
            groups[-1].append(run)
        else:
            groups.append([run])
            last_key = key
    return groups


def _set_run_text(run: Run, text: str) -> None:
    """Replace the run's text children with *text* (tabs and line breaks as elements),
    where the first of them was; images, fields and page breaks stay."""
    old = run.xpath(_TEXT_XPATH)
    at = run.index(old[0]) if old else len(run)
    for element in old:
        run.remove(element)
    for piece in _pieces(text):
        if piece == "\t":
            element = OxmlElement("w:tab")
        elif piece == "\n":
            element = OxmlElement("w:br")
        else:
            element = OxmlElement("w:t")
            element.text = piece
            if piece != piece.strip():
                element.set(qn("xml:space"), "preserve")
        run.insert(at, element)
        at += 1


def _pieces(text: str) -> Iterator[str]:
    start = 0
    for i, char in enumerate(text):
        if char in "\t\n":
            if i > start:
                yield text[start:i]
            yield char
            start = i + 1
    if start < len(text):
        yield text[start:]
