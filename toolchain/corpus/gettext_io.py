"""Gettext catalogs: a ``.mo`` reader (struct), a ``.po`` reader, and catalog -> pairs.

Both readers return :class:`Message` records. A message with a plural form gives the
English plural with the first translation (Chinese has one plural form) and then the
singular; the cleaning step later drops whichever side's placeholders do not match.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from toolchain.corpus.archives import iter_files

log = logging.getLogger(__name__)

_MO_MAGIC_LE = 0x950412DE
_MO_MAGIC_BE = 0xDE120495
_CHARSET_RE = re.compile(r"charset=([\w.-]+)", re.IGNORECASE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_ESCAPE_RE = re.compile(r"\\(.)")


class CatalogError(ValueError):
    """A catalog file could not be read."""


@dataclass(frozen=True)
class Message:
    msgid: str
    msgstr: tuple[str, ...]
    msgid_plural: str = ""
    context: str = ""


def _charset(header: str) -> str:
    match = _CHARSET_RE.search(header)
    return match.group(1) if match and match.group(1).upper() != "CHARSET" else "utf-8"


def parse_mo(data: bytes) -> list[Message]:
    """Parse a compiled gettext catalog; the header entry (empty msgid) is left out."""
    if len(data) < 20:
        raise CatalogError("file too short for a .mo header")
    (magic,) = struct.unpack_from("<I", data)
    if magic == _MO_MAGIC_LE:
        order = "<"
    elif magic == _MO_MAGIC_BE:
        order = ">"
    else:
        raise CatalogError(f"bad .mo magic {magic:#x}")
    _rev, count, orig_at, trans_at = struct.unpack_from(order + "4I", data, 4)
    raw: list[tuple[bytes, bytes]] = []
    for i in range(count):
        olen, ooff = struct.unpack_from(order + "2I", data, orig_at + 8 * i)
        tlen, toff = struct.unpack_from(order + "2I", data, trans_at + 8 * i)
        if ooff + olen > len(data) or toff + tlen > len(data):
            raise CatalogError("string table points past the end of the file")
        raw.append((data[ooff : ooff + olen], data[toff : toff + tlen]))
    header = next((t for o, t in raw if not o), b"").decode("utf-8", "replace")
    charset = _charset(header)
    messages = []
    for orig, trans in raw:
        if not orig:
            continue
        key = orig.decode(charset, "replace")
        context, sep, key = key.rpartition("\x04")
        msgid, _, plural = key.partition("\x00")
        msgstr = tuple(trans.decode(charset, "replace").split("\x00"))
        messages.append(Message(msgid, msgstr, plural, context if sep else ""))
    return messages


def unescape_po(text: str) -> str:
    """Undo C escapes inside a ``.po`` string literal (without its quotes)."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


@dataclass
class _Entry:
    fields: dict[str, str]
    fuzzy: bool = False


def _po_entries(lines: Iterable[str]) -> Iterator[_Entry]:
    entry = _Entry({})
    key = ""
    for raw_line in lines:
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if entry.fields and "msgstr" in key:
                yield entry
                entry, key = _Entry({}), ""
            if line.startswith("#,") and "fuzzy" in line:
                entry.fuzzy = True
            continue  # comments, references and obsolete (#~) entries
        if line.startswith('"'):
            if key:
                entry.fields[key] += unescape_po(line[1:-1])
            continue
        word, _, rest = line.partition(" ")
        if word in {"msgctxt", "msgid"} and "msgstr" in key:
            yield entry
            entry = _Entry({})
        key = word
        rest = rest.strip()
        entry.fields[key] = unescape_po(rest[1:-1]) if rest.startswith('"') else ""
    if entry.fields:
        yield entry


def parse_po(text: str) -> list[Message]:
    """Parse a ``.po`` catalog, leaving out the header, fuzzy and untranslated entries."""
    messages = []
    for entry in _po_entries(text.splitlines()):
        fields = entry.fields
        msgid = fields.get("msgid", "")
        if not msgid or entry.fuzzy:
            continue
        forms = [fields[k] for k in sorted(fields) if k.startswith("msgstr")]
        if not any(forms):
            continue
        messages.append(
            Message(msgid, tuple(forms), fields.get("msgid_plural", ""), fields.get("msgctxt", ""))
        )
    return messages


def message_pairs(messages: Iterable[Message]) -> Iterator[tuple[str, str]]:
    """``(english, chinese)`` pairs from translated messages, plural form first."""
    for message in messages:
        if not message.msgstr or not message.msgstr[0]:
            continue
        if message.msgid_plural:
            yield message.msgid_plural, message.msgstr[-1]
        yield message.msgid, message.msgstr[0]


LO_UI_MO = re.compile(r"libreoffice/program/resource/zh_CN/LC_MESSAGES/[^/]+\.mo$")
LOCALE_MO = re.compile(r"(?:^|/)locale/zh_CN/LC_MESSAGES/[^/]+\.mo$")
DJANGO_PO = re.compile(r"^django/(?:.+/)?locale/zh_Hans/LC_MESSAGES/[^/]+\.po$")
OSCAR_PO = re.compile(r"^oscar/locale/zh_Hans/LC_MESSAGES/[^/]+\.po$")
PRETIX_PO = re.compile(r"^pretix/locale/zh_Hans/LC_MESSAGES/[^/]+\.po$")
SHUUP_PO = re.compile(r"^shuup/(?:.+/)?locale/zh_Hans/LC_MESSAGES/[^/]+\.po$")
# An sdist: the tarball's top folder is named after the release.
LFS_PO = re.compile(r"^[^/]+/lfs/locale/zh_CN/LC_MESSAGES/[^/]+\.po$")


def extract_catalogs(paths: list[Path], pattern: re.Pattern[str]) -> Iterator[tuple[str, str]]:
    """Pairs from every ``.mo``/``.po`` catalog matching ``pattern`` in the packages."""
    for package in paths:
        catalogs = 0
        for name, content in iter_files(package, pattern):
            catalogs += 1
            try:
                if name.endswith(".po"):
                    messages = parse_po(content.decode("utf-8"))
                else:
                    messages = parse_mo(content)
            except (CatalogError, UnicodeDecodeError) as exc:
                log.warning("%s: %s: %s", package.name, name, exc)
                continue
            yield from message_pairs(messages)
        if not catalogs:
            log.warning("%s: no zh_CN catalog found", package.name)
