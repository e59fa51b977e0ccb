"""Cleaning one pair: markup, accelerators, placeholders, scripts, length ratio, t2s.

:func:`clean_pair` returns the cleaned ``(english, chinese)`` or a short rejection reason
(a string from :data:`REASONS`), so the build can count why pairs were dropped.
Format placeholders (``%s``, ``%1$s``, ``%(name)s``, ``{name}``, ``$(VAR)``, ``%PRODUCTNAME``
...) stay in the text; a pair is kept only when both sides carry the same multiset.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import unicodedata
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)

MAX_EN_CHARS = 1000
MAX_ZH_CHARS = 600
MAX_LINES = 3
RATIO_RANGE = (0.2, 5.0)
REASONS = (
    "empty",
    "multiline",
    "too_long",
    "placeholders",
    "no_cjk_zh",
    "script_en",
    "ratio",
    "untranslated",
)

_PLACEHOLDER_RE = re.compile(
    r"%[A-Z][A-Z0-9_]{2,}%?"  # LibreOffice %PRODUCTNAME, %FILENAME%
    r"|%\(\w+\)[-+#0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"  # python %(name)s
    r"|%(?:\d+\$)?[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
    r"(?:hh|h|ll|l|L|q|j|z|t|I64|I32|I)?[diouxXeEfFgGaAcspn]"  # printf %s %5.2f %1$s %lu
    r"|%<PRI\w+>"  # gettext's %<PRIu64>
    r"|%\d+"  # Qt / LibreOffice %1
    r"|\$\(\w+\)|\$\{\w+\}|\$\[\w+\]"  # $(VAR) ${VAR} $[officename]
    r"|\{\{\s*[\w.]+\s*\}\}"  # template {{ name }}
    r"|\{[\w.]*(?::[^{}]*)?\}"  # python {name} {0} {} {x:>3}
)
_PERCENT_LITERAL = "%%"
_PRINTF_BODY = r"[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGaAcs]"
_POSITIONAL_RE = re.compile(r"%\d+\$" + _PRINTF_BODY)
_PLAIN_PRINTF_RE = re.compile(r"(?<!%)%(" + _PRINTF_BODY + r")")
_MARKUP_TAGS = (
    "a abbr b big blockquote br code div em font h1 h2 h3 h4 h5 h6 hr i img kbd li ol p "
    "pre s small span strong sub sup table tbody td th tr tt u ul var ahelp emph item link"
)
_TAG_RE = re.compile(
    r"</?(?:" + "|".join(_MARKUP_TAGS.split()) + r")\b[^<>]*/?>"  # known markup tags
    r"|<[A-Za-z][\w:-]*\s+[\w:-]+=\s*[\"'][^<>]*>"  # any tag that carries attributes
    r"|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)
_ENTITY_RE = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9a-fA-F]+);")
_ZH_ACCEL_RE = re.compile(r"\s*[(（\[]\s*([_~&])([A-Za-z0-9])\s*[)）\]]")
_ZH_INLINE_ACCEL_RE = re.compile(
    r"(?<=[\u4e00-\u9fff])[_~&](?=[A-Za-z0-9](?![A-Za-z0-9]))"  # 第_N页
)
_EN_ACCEL_RE = re.compile(r"(?<![\w&~_%])[_~&](?=[A-Za-z])(?![A-Za-z0-9#]*;)")
_SPACE_RE = re.compile(r"\s+")
_INVISIBLE_RE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_KANA_HANGUL_RE = re.compile(r"[\u3040-\u30ff\u1100-\u11ff\uac00-\ud7af]")
_EN_WORD_RE = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:['’][A-Za-z]+)?")
_ZH_LATIN_RE = re.compile(r"[A-Za-z0-9]+")


def placeholders(text: str) -> Counter[str]:
    """The multiset of format placeholders in ``text`` (``%%`` is a literal, not one)."""
    return Counter(_PLACEHOLDER_RE.findall(text.replace(_PERCENT_LITERAL, "")))


def strip_markup(text: str) -> str:
    """Drop HTML/Pango markup tags, keep their text, and decode the common entities."""
    text = _TAG_RE.sub("", text)
    return _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)


def strip_accelerators(en: str, zh: str) -> tuple[str, str]:
    """Remove mnemonic markers: ``文件(_F)`` / ``_File`` / ``Ig~nore`` / ``&Quit``.

    The Chinese side names the accelerator in brackets; the same marker and letter are
    then removed from the English wherever they are (GTK and LibreOffice put them inside
    words). Word-initial markers go in any case; ``~~`` and ``~/`` stay literal.
    """
    for marker, letter in _ZH_ACCEL_RE.findall(zh):
        pattern = re.compile(rf"(?<!{re.escape(marker)}){re.escape(marker)}(?={letter})", re.I)
        en = pattern.sub("", en, count=1)
    zh = _ZH_ACCEL_RE.sub("", zh)
    zh = _ZH_INLINE_ACCEL_RE.sub("", zh)
    return _EN_ACCEL_RE.sub("", en), zh


def normalise_space(text: str) -> str:
    """NFC, no invisible characters, runs of white space (tabs, newlines) as one space."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE_RE.sub("", text)
    return _SPACE_RE.sub(" ", text).strip()


@functools.cache
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese with OpenCC's ``t2s`` profile."""
    return _t2s().convert(text)


def has_cjk(text: str) -> bool:
    return _HAN_RE.search(text) is not None


def english_ok(text: str) -> bool:
    """Mostly Latin script: no Han/kana/hangul and nine in ten letters Latin."""
    if _HAN_RE.search(text) or _KANA_HANGUL_RE.search(text):
        return False
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    latin = sum(1 for ch in letters if ch < "\u0250" or "\u1e00" <= ch <= "\u1eff")
    return latin >= 0.9 * len(letters)


def length_units(en: str, zh: str) -> tuple[float, float]:
    """Comparable lengths: English words vs Han characters / 1.5 plus Latin tokens."""
    en_units = len(_EN_WORD_RE.findall(en))
    zh_units = len(_HAN_RE.findall(zh)) / 1.5 + len(_ZH_LATIN_RE.findall(zh))
    return float(en_units), zh_units


def ratio_ok(en: str, zh: str, bounds: tuple[float, float] = RATIO_RANGE) -> bool:
    """Length ratio within ``bounds``, smoothed so that very short pairs are not judged."""
    en_units, zh_units = length_units(en, zh)
    ratio = (zh_units + 2.0) / (en_units + 2.0)
    return bounds[0] <= ratio <= bounds[1]


def number_positional(en: str, zh: str) -> str:
    """Number the English printf placeholders (``%s`` -> ``%1$s``) when the Chinese reorders.

    Translators may swap arguments with ``%2$s ... %1$s``; the English then reads
    ``%s ... %s``. Numbering the English ones in order is the same format string and lets
    both sides carry the same placeholders. Nothing changes unless the counts agree.
    """
    zh_positions = _POSITIONAL_RE.findall(zh)
    en_plain = _PLAIN_PRINTF_RE.findall(en.replace(_PERCENT_LITERAL, ""))
    if not zh_positions or _POSITIONAL_RE.search(en) or len(en_plain) != len(zh_positions):
        return en
    counter = iter(range(1, len(en_plain) + 1))
    return _PLAIN_PRINTF_RE.sub(lambda m: f"%{next(counter)}${m.group(1)}", en)


def prepare(en: str, zh: str) -> tuple[str, str]:
    """Markup, accelerators and white space, in that order, on both sides."""
    en, zh = strip_accelerators(strip_markup(en), strip_markup(zh))
    return normalise_space(en), normalise_space(zh)


def rejection(en: str, zh: str) -> str:
    """The name of the first check a prepared pair fails, or ``""`` when it passes."""
    bare_en, bare_zh = _PLACEHOLDER_RE.sub("", en), _PLACEHOLDER_RE.sub("", zh)
    checks = (
        ("empty", lambda: not en or not zh),
        ("too_long", lambda: len(en) > MAX_EN_CHARS or len(zh) > MAX_ZH_CHARS),
        ("placeholders", lambda: placeholders(en) != placeholders(zh)),
        ("no_cjk_zh", lambda: not has_cjk(bare_zh)),
        ("script_en", lambda: not english_ok(bare_en)),
        ("untranslated", lambda: en == zh),
        ("ratio", lambda: not ratio_ok(en, bare_zh)),
    )
    return next((name for name, failed in checks if failed()), "")


def clean_pair(en: str, zh: str, *, traditional: bool = False) -> tuple[str, str] | str:
    """The cleaned pair, or the name of the first check it fails (see :data:`REASONS`)."""
    if max(en.count("\n"), zh.count("\n")) >= MAX_LINES:
        return "multiline"
    en, zh = prepare(en, zh)
    if traditional:
        zh = to_simplified(zh)
    if placeholders(en) != placeholders(zh):
        en = number_positional(en, zh)
    return rejection(en, zh) or (en, zh)
