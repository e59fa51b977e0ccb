"""English typography for model output: no CJK punctuation, spacing and quotes right.

Runs on the masked output (spans are placeholders then, so nothing the user wrote is
touched), before the spans are restored. The steps, in order:

1. CJK punctuation and full-width forms become their English forms
   (``、``/``，`` → ``, ``; ``：`` → ``: ``; ``（）`` → ``()``; ``《》``/``「」``/``“”`` → ``"``;
   ``【】`` → ``[]``; ``……`` → ``...``).
2. Spacing: one space between words, none before ``, . : ; ! ? ) ] }`` or after ``( [ {``,
   none inside a pair of quotes, one after a comma or colon that precedes a word.
3. Doubled final marks collapse (``。.`` → ``.``, ``?.`` → ``?``), ``...`` kept.
4. Quotes and brackets balanced when the source's are: a stray closing or opening mark
   the model added is dropped, a missing closing mark at the end is added.
"""

from __future__ import annotations

import re

_CJK_PUNCT = str.maketrans(
    {
        "，": ", ",
        "、": ", ",
        "。": ". ",
        "．": ". ",
        "：": ": ",
        "；": "; ",
        "！": "! ",
        "？": "? ",
        "（": " (",
        "）": ") ",
        "《": ' "',
        "》": '" ',
        "〈": ' "',
        "〉": '" ',
        "「": ' "',
        "」": '" ',
        "『": ' "',
        "』": '" ',
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "【": " [",
        "】": "] ",
        "〔": " [",
        "〕": "] ",
        "～": "~",
        "\u3000": " ",
        "·": "·",
    }
)
CJK_PUNCTUATION_RE = re.compile("[\u3000-\u303f\uff01-\uff5e]")
# Full-width ASCII variants U+FF01..U+FF5E -> U+0021..U+007E (after the table above).
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_ELLIPSIS_RE = re.compile(r"…+|\.{4,}")
_DASHES_RE = re.compile(r"—{2,}")
_SPACES_RE = re.compile(r"[ \t]+")
_BEFORE_RE = re.compile(r" +([,.:;!?)\]}%])")
_AFTER_OPEN_RE = re.compile(r"([(\[{]) +")
_AFTER_COMMA_RE = re.compile(r"([,;:])(?=[A-Za-z\"\u00c0-\u024f])")
_DOUBLE_FINAL_RE = re.compile(r"(?<!\.)\.\s*[.。](?!\.)|([?!])\s*[.。]+(?!\.)")
_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))


def english_punctuation(text: str) -> str:
    """Step 1: CJK and full-width punctuation in English form."""
    text = _ELLIPSIS_RE.sub("...", text)
    text = _DASHES_RE.sub("—", text)
    return text.translate(_CJK_PUNCT).translate(_FULL_WIDTH)


def fix_spacing(text: str) -> str:
    """Step 2: spaces around punctuation and inside quotes."""
    text = _SPACES_RE.sub(" ", text).strip()
    text = _BEFORE_RE.sub(r"\1", text)
    text = _AFTER_OPEN_RE.sub(r"\1", text)
    text = _AFTER_COMMA_RE.sub(r"\1 ", text)
    return _tighten_quotes(text)


def _tighten_quotes(text: str) -> str:
    """Remove the space just inside each pair of straight double quotes."""
    parts = text.split('"')
    if len(parts) < 3:
        return text
    for i in range(1, len(parts), 2):  # odd parts are inside quotes
        if i < len(parts) - 1:
            parts[i] = parts[i].strip()
    return '"'.join(parts)


def collapse_final_marks(text: str) -> str:
    """Step 3: one final mark where the model or a mapping produced two."""
    return _DOUBLE_FINAL_RE.sub(lambda m: m.group(1) or ".", text)


def _source_quotes(source: str) -> int:
    """Number of double-quote marks the source has, counting each pair as two."""
    pairs = sum(source.count(c) for c in "《》「」『』“”〈〉")
    return pairs + source.count('"')


def balance(text: str, source: str) -> str:
    """Step 4: quotes and brackets balanced in *text* where they are in *source*."""
    quoted = _source_quotes(source)
    if text.count('"') % 2 and quoted % 2 == 0:
        text = _fix_odd_quote(text, source, quoted)
    for opener, closer in _PAIRS:
        src_open = source.count(opener) + source.count(_full(opener))
        src_close = source.count(closer) + source.count(_full(closer))
        if src_open == src_close:
            text = _drop_unmatched(text, opener, closer)
    return text


def _full(char: str) -> str:
    return {"(": "（", ")": "）", "[": "【", "]": "】", "{": "｛", "}": "｝"}[char]


def _fix_odd_quote(text: str, source: str, quoted: int) -> str:
    core = source.rstrip()
    ends_quoted = core[-1:] in '”》」』"' or core.rstrip("。.！!？?")[-1:] in '”》」』"'
    if quoted and ends_quoted and not text.rstrip().endswith('"'):
        return fix_spacing(text + '"')  # the model dropped the closing quote
    # Otherwise the model added one: drop the last mark, most often the one it put at
    # the sentence end.
    at = text.rfind('"')
    return fix_spacing(text[:at] + text[at + 1 :])


def _drop_unmatched(text: str, opener: str, closer: str) -> str:
    keep = [True] * len(text)
    depth: list[int] = []
    for i, char in enumerate(text):
        if char == opener:
            depth.append(i)
        elif char == closer:
            if depth:
                depth.pop()
            else:
                keep[i] = False
    for i in depth:
        keep[i] = False
    if all(keep):
        return text
    return fix_spacing("".join(c for c, k in zip(text, keep, strict=True) if k))


def english_separators(gap: str) -> str:
    """The text between spans of one run ("、", "，", " / ") in English form."""
    mapped = english_punctuation(gap)
    stripped = mapped.strip()
    if not stripped:
        return mapped
    lead = " " if stripped[0] in "/-~&+|" and gap[:1].isspace() else ""
    return lead + stripped + ("" if stripped[-1] in "/-~" and not gap[-1:].isspace() else " ")


def typeset(text: str, source: str) -> str:
    """All four steps: *text* is a (masked) English translation of *source*."""
    text = fix_spacing(english_punctuation(text))
    return balance(collapse_final_marks(text), source)


# --- Chinese targets -------------------------------------------------------------------
# SentencePiece's NFKC normalisation gives a Chinese-target model ASCII marks (，→ ,);
# after a Chinese character they are written full-width again, the space after them gone.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_MARK_RE = re.compile(f"(?<=[{_HAN}])([,;:!?]) ?")
_CHINESE_MARKS = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}


def chinese_punctuation(text: str) -> str:
    """``你好, 世界!`` → ``你好，世界！``: marks after Chinese characters in full width."""
    return _HAN_MARK_RE.sub(lambda m: _CHINESE_MARKS[m.group(1)], text)
