"""LibreOffice help: paragraphs keyed by (file, paragraph id), aligned across languages.

Debian's ``libreoffice-help-<lang>`` packages ship the help as pre-rendered HTML under
``usr/share/libreoffice/help/<LANG>/text/<module>/<file>.html`` (the ``.xhp`` sources are
compiled away). Every translatable paragraph keeps its source id (``par_id3146957``,
``hd_id3147291``) as the ``id`` of its ``<p>``/``<hN>`` element, the same in every language,
so pairing the two trees by relative path and id aligns them. Of the ``hidden`` variants
that the help's script switches between, only the ``default...`` one (not the macOS one)
is kept; scripts are left out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from toolchain.corpus.archives import iter_files

log = logging.getLogger(__name__)

_PARA_ID_RE = re.compile(r"^(?:par|hd|bas|lang|xap|bm)_id\w+$")
_BLOCK_TAGS = frozenset("p h1 h2 h3 h4 h5 h6 h td th li".split())
_SKIP_TAGS = frozenset("script style noscript".split())
_VOID_TAGS = frozenset("br img input meta link hr area base col embed source wbr".split())
_HELP_RE = r"usr/share/libreoffice/help/{lang}/text/.+\.x?html?$"
ParagraphKey = tuple[str, str, int]


class _ParagraphParser(HTMLParser):
    """Collect the text of id-bearing block elements; nested blocks are their own items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[tuple[str, str]] = []
        self._stack: list[tuple[str, bool, int]] = []  # tag, hidden/skip, index or -1
        self._open: list[tuple[int, list[str]]] = []

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden, _index in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            if tag == "br" and self._open:
                self._open[-1][1].append(" ")
            return
        values = dict(attrs)
        ident = values.get("id") or ""
        hidden = tag in _SKIP_TAGS or ("hidden" in values and not ident.startswith("default"))
        index = -1
        if tag in _BLOCK_TAGS and _PARA_ID_RE.match(ident) and not self._hidden():
            index = len(self.paragraphs)
            self.paragraphs.append((ident, ""))
            self._open.append((index, []))
        self._stack.append((tag, hidden, index))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS or not any(t == tag for t, _h, _i in self._stack):
            return
        while self._stack:
            open_tag, _hidden, index = self._stack.pop()
            if index >= 0:
                _index, parts = self._open.pop()
                self.paragraphs[index] = (self.paragraphs[index][0], "".join(parts))
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open and not self._hidden():
            self._open[-1][1].append(data)

    def close(self) -> None:
        super().close()
        while self._stack:
            self.handle_endtag(self._stack[-1][0])


def html_paragraphs(text: str) -> list[tuple[str, str]]:
    """``(id, text)`` for each id-bearing paragraph or heading, in document order."""
    parser = _ParagraphParser()
    parser.feed(text)
    parser.close()
    return [(ident, " ".join(body.split())) for ident, body in parser.paragraphs]


def keyed_paragraphs(relpath: str, text: str) -> dict[ParagraphKey, str]:
    """Paragraphs keyed by ``(file, id, n)``; ``n`` counts repeats of an id in one file."""
    seen: dict[str, int] = {}
    keyed: dict[ParagraphKey, str] = {}
    for ident, body in html_paragraphs(text):
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        if body:
            keyed[relpath, ident, n] = body
    return keyed


def read_help_tree(deb: Path, lang: str) -> dict[ParagraphKey, str]:
    """All paragraphs of one language's help package, keyed by path under ``<lang>/``."""
    pattern = re.compile(_HELP_RE.format(lang=re.escape(lang)))
    prefix = f"usr/share/libreoffice/help/{lang}/"
    paragraphs: dict[ParagraphKey, str] = {}
    files = 0
    for path, content in iter_files(deb, pattern):
        files += 1
        paragraphs.update(keyed_paragraphs(path.removeprefix(prefix), content.decode("utf-8")))
    log.info("%s: %d help files, %d paragraphs", deb.name, files, len(paragraphs))
    return paragraphs


def align(
    english: dict[ParagraphKey, str], chinese: dict[ParagraphKey, str]
) -> Iterator[tuple[str, str]]:
    """Pairs for the keys present in both trees, in the English tree's order."""
    for key, en in english.items():
        zh = chinese.get(key)
        if zh:
            yield en, zh


def extract_help(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """Pairs from ``[libreoffice-help-en-us.deb, libreoffice-help-zh-cn.deb]``."""
    english = read_help_tree(paths[0], "en-US")
    chinese = read_help_tree(paths[1], "zh-CN")
    yield from align(english, chinese)
