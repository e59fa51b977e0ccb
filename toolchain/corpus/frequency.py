"""A Chinese word-frequency ranking, to choose which dictionary entries the model drills.

CC-CEDICT has no frequencies, and a random share of its 100k headwords spends most of
the dictionary's budget on idioms and names a user never types. wordfreq's Chinese list
(web, subtitles, Wikipedia, news) ranks words as people write them today; the corpus
build stores it as ``zh_frequency.txt``, one word per line, most frequent first, and the
training mixture keeps the highest-ranked entries. The list only orders entries: none of
its words become training pairs.

wordfreq ships the list as a "cBpack": a msgpack array whose first item is a header and
whose item *i* lists the words *i* centibels below the most frequent. The few msgpack
types it uses are decoded here, so the build needs no msgpack package.
"""

from __future__ import annotations

import gzip
import logging
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

from toolchain.corpus.sources import Artifact

log = logging.getLogger(__name__)

NAME = "zh-frequency"
WORDFREQ = Artifact("pypi", "wordfreq", "3.1.1", "Apache-2.0 (code); CC-BY-SA-4.0 (word lists)")
MEMBER = "wordfreq/data/large_zh.msgpack.gz"
FILENAME = "zh_frequency.txt"
# Far past any dictionary cap in use; the tail of the list is one-off tokens.
KEEP = 200_000


class FormatError(ValueError):
    """The word list is not the cBpack this module reads."""


class _Reader:
    """A decoder for the msgpack subset of a cBpack: maps, arrays, strings, small ints."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def _take(self, n: int) -> bytes:
        chunk = self.data[self.at : self.at + n]
        if len(chunk) < n:
            raise FormatError("truncated msgpack data")
        self.at += n
        return chunk

    def _uint(self, size: int) -> int:
        value: int = struct.unpack({1: ">B", 2: ">H", 4: ">I"}[size], self._take(size))[0]
        return value

    def value(self) -> object:
        tag = self._take(1)[0]
        if tag <= 0x7F:
            return tag
        if 0x80 <= tag <= 0x8F:
            return self._map(tag & 0x0F)
        if 0x90 <= tag <= 0x9F:
            return self._array(tag & 0x0F)
        if 0xA0 <= tag <= 0xBF:
            return self._take(tag & 0x1F).decode("utf-8")
        sizes = {0xD9: ("str", 1), 0xDA: ("str", 2), 0xDB: ("str", 4), 0xDC: ("array", 2),
                 0xDD: ("array", 4), 0xDE: ("map", 2), 0xDF: ("map", 4)}  # fmt: skip
        if tag not in sizes:
            raise FormatError(f"unexpected msgpack type 0x{tag:02x} at byte {self.at - 1}")
        kind, size = sizes[tag]
        n = self._uint(size)
        if kind == "str":
            return self._take(n).decode("utf-8")
        return self._array(n) if kind == "array" else self._map(n)

    def _array(self, n: int) -> list[object]:
        return [self.value() for _ in range(n)]

    def _map(self, n: int) -> dict[object, object]:
        return {self.value(): self.value() for _ in range(n)}


def read_cbpack(data: bytes) -> list[str]:
    """The words of a cBpack, most frequent first."""
    items = _Reader(data).value()
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise FormatError("a cBpack is an array that starts with a header map")
    if items[0].get("format") != "cB":
        raise FormatError(f"not a cBpack header: {items[0]!r}")
    words: list[str] = []
    for bucket in items[1:]:
        if not isinstance(bucket, list):
            raise FormatError("a cBpack bucket is an array of words")
        words += [w for w in bucket if isinstance(w, str)]
    return words


def ranking_from_wheel(wheel: Path) -> list[str]:
    """The Chinese word list inside a wordfreq wheel, most frequent first."""
    with zipfile.ZipFile(wheel) as archive:
        data = gzip.decompress(archive.read(MEMBER))
    words = read_cbpack(data)
    log.info("%s: %d Chinese words ranked", wheel.name, len(words))
    return words


def write_ranking(words: list[str], path: Path, keep: int = KEEP) -> int:
    """Write the first *keep* words, one per line; how many were written."""
    kept = list(dict.fromkeys(words))[:keep]
    path.write_text("".join(f"{w}\n" for w in kept), encoding="utf-8")
    return len(kept)


def read_ranking(path: Path) -> dict[str, int]:
    """Word → rank (0 is the most frequent) from a ``zh_frequency.txt``."""
    ranks: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and line not in ranks:
            ranks[line] = len(ranks)
    return ranks


def by_rank(words: Mapping[str, int], word: str) -> int:
    """A sort key: the word's rank, after every ranked word when it has none."""
    return words.get(word, len(words))
