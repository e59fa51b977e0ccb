"""Protect what the user wrote in Latin script, digits, code or symbols from the model.

Numbers, units, prices, model numbers, brand names, code, paths, URLs, placeholders and
emoji must come out exactly as they went in. A small model mangles them ("满99元包邮" →
"front of 9"), so every such span is swapped for a placeholder token before translation
and put back afterwards. Two modes, chosen by the model's manifest:

* ``placeholder``: spans become private-use characters U+E000.. that the model was
  trained to copy; :meth:`SpanGuard.restore` puts the originals back.
* ``verbatim``: the text goes in unchanged (for models such as opus-mt-zh-en that copy
  Latin text well); :meth:`SpanGuard.restore` only checks that every span came back.

When a check fails, ``restore`` returns ``None`` and the translator falls back (see
``serving/translator.py``); nothing is ever dropped silently.

What counts as a span depends on the source language: in Chinese text every Latin,
digit, code or symbol run is one (:func:`find_spans`); in English text only what no
translation may change: URLs, e-mail addresses, code in backticks, format placeholders,
HTML tags and entities, emoji and placeholders already present (:func:`find_latin_spans`).

How a Chinese span is built (``SPAN_RE``): a few classes are *standalone* (backtick
code, URLs, e-mail addresses, HTML tags and entities, emoji, private-use characters);
everything else is a *chain* of terms. A term is a letter/digit run with an optional
lead (sign, currency, option dash, ``$``, path root, ``#``/``@``) and trails (unit,
percent, call parentheses, trailing path separator...), or a format placeholder. Terms
join into one span across inner connectors (``3.5``, ``Wi-Fi``, ``a/b``), ranges and
dimensions (``10~20``, ``1920×1080``) and a single space (``iPhone 15 Pro``). A span
never holds a CJK character (except inside backticks), never starts or ends with a
space, and never takes the punctuation around it (``访问 https://a.cn/x。``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

PLACEHOLDER_BASE = 0xE000
MAX_PLACEHOLDERS = 10
PLACEHOLDERS = tuple(chr(PLACEHOLDER_BASE + i) for i in range(MAX_PLACEHOLDERS))

# --- characters ---------------------------------------------------------------------------
# CJK ideographs, as in text.languages (which imports this module, so it cannot be shared).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
# CJK and full-width punctuation: never inside a span (except in backticks).
_CJK_PUNCT = (
    "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u201c\u201d\u2018\u2019"
)
# Latin letters: ASCII, Latin-1 and Latin Extended-A/B without × (U+00D7) and ÷ (U+00F7),
# Latin Extended Additional, full-width A-Z a-z; plus µ μ Ω, which only occur in units.
_LETTER = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
    "\uff21-\uff3a\uff41-\uff5a\u00b5\u03bc\u03a9"
)
_DIGIT = "0-9\uff10-\uff19"
_ALNUM = _LETTER + _DIGIT
_NO_SPAN = _CJK + _CJK_PUNCT + r"\s"

# --- standalone classes: never joined to their neighbours ---------------------------------
# Code in backticks, whatever it holds (Chinese included): `make test`, ``a `b` c``.
_BACKTICK = r"``[^\n]+?``|`[^`\n]+`"
# URLs with a scheme or www.; trailing punctuation is trimmed afterwards (_trim_url).
_URL_START = r"(?<![A-Za-z0-9+.\-])(?:[A-Za-z][A-Za-z0-9+.\-]{0,30}://|www\.)"
_URL = rf"(?P<url>{_URL_START}[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+)"
# E-mail addresses: a@b.cn, foo.bar+tag@example.co.uk.
_EMAIL = r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
# HTML/XML tags: <div>, </p>, <br/>, <img src=x onerror=alert(1)>, <token>.
_HTML_TAG = rf"</?[A-Za-z][A-Za-z0-9:\-]*(?:[ \t][^<>\n{_CJK}{_CJK_PUNCT}]*?)?/?>"
# HTML entities: &nbsp; &amp; &#39; &#x27;
_ENTITY = r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
# Emoji: a pictograph (or a symbol, digit, # or * made one by VS16) with its skin tone,
# variation selector, keycap and tag marks; ZWJ sequences and runs (flags, ⭐⭐⭐) are one.
_EMOJI_BASE = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55"
    "\u231a\u231b\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa\u3030\u303d\u3297\u3299]"
)
_EMOJI_MARK = "[\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
# Symbols that are emoji only with VS16 (U+FE0F): ©️ ™️ ↔️ ▶️ 1️⃣ #️⃣.
_EMOJI_BY_VS16 = (
    "[#*0-9\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u24c2\u25aa-\u25fe](?=\ufe0f)"
)
_EMOJI_ONE = rf"(?:{_EMOJI_BASE}|{_EMOJI_BY_VS16}){_EMOJI_MARK}*"
_EMOJI = rf"(?:{_EMOJI_ONE}(?:\u200d{_EMOJI_ONE})*)+"
# Placeholders already in the text (the service's own, or a user's private-use icons).
_PRIVATE_USE = "[\ue000-\uf8ff]+"

# --- format placeholders: terms of their own ----------------------------------------------
# printf and strftime: %s %d %1$s %.2f %-5d %(name)s %% %Y; not followed by a letter/digit.
_PRINTF = (
    rf"(?<![{_DIGIT}])%(?:\d+\$|\([A-Za-z_][A-Za-z0-9_]*\))?[-+0#']*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
    r"(?:hh|ll|[hlLqjzt])?[A-Za-z%@](?![A-Za-z0-9])"
)
# Braces: {name} {0} {} {value:.2f} {{count}} {{ user.name }} ${name} ${VAR:-x} $(VAR).
_BRACES = (
    r"\{\{[ \t]*[#/^]?[A-Za-z_][A-Za-z0-9_.]*[ \t]*\}\}"
    rf"|\$?\{{[A-Za-z0-9_.]*(?:![rsa])?(?::[^{{}}{_NO_SPAN}]*)?\}}"
    r"|\$\([A-Za-z_][A-Za-z0-9_]*\)"
)
# Windows environment variables: %APPDATA%.
_WIN_ENV = r"%[A-Za-z_][A-Za-z0-9_]*%"
_FORMAT = f"{_WIN_ENV}|{_PRINTF}|{_BRACES}"

# --- leads: what may open a letter/digit term ---------------------------------------------
# Signed numbers: -5, +3.5, ±0.5, −2 (a sign straight before a digit or a currency).
_SIGN = "[-+\u00b1\u2212]"
# Currency with an amount: ¥1,299.00 ￥99 $5 €3 £20 US$10 HK$8 -¥200.00.
_CURRENCY = rf"(?:[A-Z]{{1,3}}\$|[$¥￥€£₩₹₽])(?=[{_DIGIT}])"
_NUMBER_LEAD = rf"{_SIGN}?{_CURRENCY}|{_SIGN}(?=[{_DIGIT}])"
# Command-line options: --verbose, -o (not after a word: Wi-Fi is a connector).
_OPTION = r"(?<![\w\-])--?(?=[A-Za-z])"
# Shell variables: $HOME, $env:PATH ($5 is a price).
_SIGIL = r"\$(?=[A-Za-z_])"
# File paths: /etc/x, ~/.config, ./build, ../a, .venv; not after a word, nor after a
# Chinese character unless two levels deep (元/kg keeps "kg", 见/etc/hosts is a path).
# C:\Program Files\App needs no lead: ":" and "\" are connectors.
_PATH_ROOT = (
    rf"(?:(?<![\w.~/\\])(?:(?:~|\.{{1,2}})?/(?:\.{{1,2}}/)*\.?|\.)"
    rf"|(?<=[{_CJK}])/(?=[_{_ALNUM}.\-]+/))(?=[_{_ALNUM}])"
)
# Hashtags and mentions in ASCII: #summer2025, @alice, @dev-team. A tag in Chinese
# (#夏日好物推荐#, @小林的厨房) has to be translated, so it is left to the model.
_TAG = rf"(?<![\w&#@.])[#@](?=[_{_ALNUM}])"
_LEAD = f"{_NUMBER_LEAD}|{_OPTION}|{_SIGIL}|{_PATH_ROOT}|{_TAG}"

# --- trails: what may close a letter/digit term -------------------------------------------
# Units and degree signs: 5°C 37.5℃ 90° 20㎡ 5m² 50% ８０％ 3‰ (kg, mm, GHz are letters).
_UNIT = "°(?:[CFK](?![A-Za-z]))?|[℃℉‰%％²³]|[\u3380-\u33df]"
# Calls and indexing: foo() foo(bar, 1) dayjs.utc() a[0]; no Chinese inside.
_CALL = rf"\((?:[^()\n{_CJK}{_CJK_PUNCT}]|\([^()\n{_CJK}{_CJK_PUNCT}]*\))*\)"
_INDEX = rf"\[[^\[\]\n{_CJK}{_CJK_PUNCT}]*\]"
# A directory's trailing separator before a space or punctuation: docs/images/, App\.
_PATH_END = r"[/\\](?!\w)"
# 50+ C++ C# #tag# __init__ Windows® (a + or # before a letter or digit is a connector).
_SUFFIX = rf"\+{{1,2}}(?![+{_ALNUM}])|#(?![#{_ALNUM}])|_+(?![_{_ALNUM}])|[®™]"
_TRAIL = f"{_UNIT}|{_CALL}|{_INDEX}|{_PATH_END}|{_SUFFIX}"

# --- chains -------------------------------------------------------------------------------
_WORD = rf"(?:{_LEAD})?(?:(?<![_{_ALNUM}])_+)?[{_ALNUM}]+(?:{_TRAIL})*"
# A term never starts a URL: "iPhone https://x" is two spans, the URL trimmed on its own.
_TERM = rf"(?!{_URL_START})(?:{_FORMAT}|{_WORD})"
# Between terms: inner connectors (3.5 1,000 7:45 Wi-Fi Tom's a/b C:\ a=b 4K@60Hz),
# ranges and dimensions with optional spaces (10~20kg, 1920×1080, 3 * 4), one space.
_CONNECTOR = r"[.,:/_+\-'&#．=@\\]+"
_RANGE = r"[ \t]?[~～×*][ \t]?"
_JOIN = rf"{_CONNECTOR}|{_RANGE}|[ \t]"
_CHAIN = rf"{_TERM}(?:(?:{_JOIN}){_TERM})*"

_STANDALONE = f"{_BACKTICK}|{_URL}|{_EMAIL}|{_HTML_TAG}|{_ENTITY}|{_EMOJI}|{_PRIVATE_USE}"
SPAN_RE = re.compile(f"{_STANDALONE}|{_CHAIN}")
# Numbers standing on their own in English (3, 19.99, $1,299.00, -5, 50%, 10:30, 2.0): the
# en→zh model is trained with them as placeholders, as they are on the Chinese side.
# Not inside a word: MP3, 3rd and 5kg are the model's to translate.
_EN_NUMBER = rf"(?<![\w.])(?:{_NUMBER_LEAD})?[0-9]+(?:[.,:][0-9]+)*(?:{_UNIT})?(?![\w])"
LATIN_SPAN_RE = re.compile(
    f"{_BACKTICK}|{_URL}|{_EMAIL}|{_HTML_TAG}|{_ENTITY}|{_FORMAT}|{_EMOJI}|{_PRIVATE_USE}"
    f"|{_EN_NUMBER}"
)
_URL_TRAILING = ".,;:!?)]}'\""

SpanFinder = Callable[[str], list[tuple[int, int]]]
_WORD_IN_GAP_RE = re.compile(r"\w")
_LIST_GAP_RE = re.compile(r" ?[、，,] ?")


def find_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of every protected span in Chinese *text*."""
    return _find(SPAN_RE, text)


def find_latin_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the protected spans of English *text*."""
    return _find(LATIN_SPAN_RE, text)


def _trim_url(url: str) -> str:
    """*url* without the punctuation that ends the sentence around it.

    A closing parenthesis stays when the URL opened one (``wiki/Foo_(bar)``).
    """
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _find(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span()
        url = match.group("url")
        if url is not None:
            end = start + len(_trim_url(url))
        spans.append((start, end))
    return spans


@dataclass(frozen=True)
class Protected:
    """A sentence with its spans masked, and the spans in source order."""

    text: str
    # What each placeholder stands for: the span as written, or for a run of spans
    # joined to fit the placeholders ("S、M、L"), the run with its separators in the
    # target's form ("S, M, L").
    spans: tuple[str, ...]


class SpanGuard:
    """Mask spans before translation and check or restore them afterwards."""

    def __init__(
        self,
        mode: str,
        preprocess: Callable[[str], str] | None = None,
        finder: SpanFinder = find_spans,
        separators: Callable[[str], str] | None = None,
    ) -> None:
        if mode not in ("placeholder", "verbatim"):
            raise ValueError(f"span mode must be 'placeholder' or 'verbatim', not {mode!r}")
        self.mode = mode
        # In verbatim mode the model sees spans after source preprocessing (full-width
        # digits become ASCII), so the check looks for that form.
        self._preprocess = preprocess or (lambda s: s)
        self.find = finder
        # How the text between spans joined into one placeholder is written in the
        # target ("、" → ", " for English); unchanged by default.
        self._separators = separators or (lambda s: s)

    def protect(self, text: str) -> Protected:
        """Return *text* with spans masked (placeholder mode) or untouched (verbatim).

        More spans than placeholders ("尺码：S、M、L、XL、…") are joined into runs,
        those separated by punctuation alone first, so every one still has a place.
        """
        offsets = self.find(text)
        if self.mode == "verbatim" or not offsets:
            return Protected(text, tuple(text[a:b] for a, b in offsets))
        runs = join_runs(text, offsets, MAX_PLACEHOLDERS)
        parts, spans, last = [], [], 0
        for i, run in enumerate(runs):
            a, b = run[0][0], run[-1][1]
            parts += [text[last:a], PLACEHOLDERS[i]]
            spans.append(self._shown(text, run))
            last = b
        parts.append(text[last:])
        return Protected("".join(parts), tuple(spans))

    def _shown(self, text: str, run: list[tuple[int, int]]) -> str:
        """A run of spans as it goes back into the translation."""
        shown = text[run[0][0] : run[0][1]]
        for (_, end), (start, stop) in pairwise(run):
            shown += self._separators(text[end:start]) + text[start:stop]
        return shown

    def restore(self, output: str, protected: Protected) -> str | None:
        """Return *output* with every span back, or None if a span was lost or garbled."""
        if not protected.spans:
            return output
        if self.mode == "verbatim":
            for span in protected.spans:
                seen = self._preprocess(span)
                if seen not in output:
                    return None
                if seen != span:
                    output = output.replace(seen, span, 1)
            return output
        expected = PLACEHOLDERS[: len(protected.spans)]
        found = [ch for ch in output if PLACEHOLDER_BASE <= ord(ch) < 0xF900]
        if sorted(found) != list(expected):
            return None
        for mark, span in zip(expected, protected.spans, strict=True):
            output = output.replace(mark, span)
        return output


def join_runs(text: str, offsets: list[tuple[int, int]], limit: int) -> list[list[tuple[int, int]]]:
    """Group neighbouring spans into runs: at most *limit* of them.

    A list of spans ("S、M、L", "红色/蓝色" aside, "A, B") is always one run: one
    placeholder the model keeps in place, where several would be reordered or lost.
    Beyond *limit*, spans with only punctuation between them are joined next, and only
    then spans with words between them, shortest gap first.
    """
    runs = [[offsets[0]]] if offsets else []
    for span in offsets[1:]:
        if _LIST_GAP_RE.fullmatch(text[runs[-1][-1][1] : span[0]]):
            runs[-1].append(span)
        else:
            runs.append([span])
    while len(runs) > limit:

        def cost(i: int) -> tuple[bool, int]:
            gap = text[runs[i][-1][1] : runs[i + 1][0][0]]
            return _WORD_IN_GAP_RE.search(gap) is not None, len(gap)

        best = min(range(len(runs) - 1), key=cost)
        runs[best : best + 2] = [runs[best] + runs[best + 1]]
    return runs


def split_around_spans(text: str, finder: SpanFinder = find_spans) -> list[tuple[str, bool]]:
    """Cut *text* into (piece, is_span) pairs so spans can be kept apart from the model."""
    pieces: list[tuple[str, bool]] = []
    last = 0
    for a, b in finder(text):
        if a > last:
            pieces.append((text[last:a], False))
        pieces.append((text[a:b], True))
        last = b
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces
