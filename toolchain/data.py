"""Training data for the demo model: reading, a grouped dev split, span placeholders.

The pairs file has ``english<TAB>chinese<TAB>attribution`` lines; the attribution names the
two Tatoeba sentence ids. Sentences linked through a shared id (one English sentence with
two Chinese translations, or the reverse) form a group, and a group never straddles the
train/dev split, so the dev score is not inflated by paraphrases seen in training.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from text.normalize import SourcePreprocessor, clean_input
from text.spans import MAX_PLACEHOLDERS, PLACEHOLDERS, find_spans

_IDS_RE = re.compile(r"#(\d+)")


@dataclass(frozen=True)
class Pair:
    en: str
    zh: str
    ids: tuple[str, ...] = ()


def read_pairs(path: str | Path) -> list[Pair]:
    """Read ``english<TAB>chinese[<TAB>attribution]`` lines, skipping malformed ones."""
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
                continue
            ids = tuple(_IDS_RE.findall(cols[2])) if len(cols) > 2 else ()
            pairs.append(Pair(cols[0].strip(), cols[1].strip(), ids))
    return pairs


def write_pairs(pairs: Iterable[Pair], path: str | Path) -> None:
    """Write pairs as ``english<TAB>chinese`` lines (no attribution: derived files only)."""
    with open(path, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(f"{pair.en}\t{pair.zh}\n")


def _find(parent: dict[str, str], key: str) -> str:
    while parent[key] != key:
        parent[key] = parent[parent[key]]
        key = parent[key]
    return key


def group_pairs(pairs: list[Pair]) -> list[list[int]]:
    """Group pair indices linked by a shared sentence id or identical text."""
    parent: dict[str, str] = {}
    keys_per_pair = []
    for pair in pairs:
        keys = [f"id:{i}" for i in pair.ids] + [f"en:{pair.en}", f"zh:{pair.zh}"]
        keys_per_pair.append(keys)
        for key in keys:
            parent.setdefault(key, key)
        root = _find(parent, keys[0])
        for key in keys[1:]:
            parent[_find(parent, key)] = root
    groups: dict[str, list[int]] = {}
    for index, keys in enumerate(keys_per_pair):
        groups.setdefault(_find(parent, keys[0]), []).append(index)
    return sorted(groups.values())


def split_dev(pairs: list[Pair], dev_size: int, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Return (train, dev): whole groups drawn at random until dev holds *dev_size* pairs."""
    groups = group_pairs(pairs)
    random.Random(seed).shuffle(groups)
    dev_idx: set[int] = set()
    for group in groups:
        if len(dev_idx) >= dev_size:
            break
        dev_idx.update(group)
    train = [p for i, p in enumerate(pairs) if i not in dev_idx]
    dev = [p for i, p in enumerate(pairs) if i in dev_idx]
    return train, dev


# --- placeholder training examples -------------------------------------------------

# Transliterated names and places that Tatoeba writes in Chinese characters; an augmented
# copy swaps them for placeholders on both sides so the model learns to carry a
# placeholder through a sentence the way it carries a name.
_NAMES = {
    "汤姆": "Tom",
    "玛丽": "Mary",
    "玛莉": "Mary",
    "约翰": "John",
    "杰克": "Jack",
    "麦克": "Mike",
    "波士顿": "Boston",
    "巴黎": "Paris",
    "伦敦": "London",
    "纽约": "New York",
    "东京": "Tokyo",
    "北京": "Beijing",
    "上海": "Shanghai",
}
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_ZH_DIGITS |= {"八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_MEASURE = "个只本天年岁点次分块元号位张条件杯层米斤周月台辆双座所首部瓶碗名倍种门份家间句遍页度秒"
_ZH_NUM_RE = re.compile(
    f"[零一二两三四五六七八九十百千万]+(?=小时|分钟|星期|公里|美元|英里|公斤|[{_MEASURE}])"
)
_EN_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_EN_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
_EN_WORDS |= {"eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000}
_EN_NUM_RE = re.compile(r"(?<![\w.,:])(\d+|[a-z]+)(?![\w.,:]\w)", re.IGNORECASE)


def zh_number(text: str) -> int:
    """Value of a Chinese numeral such as 三, 十五, 二十, 三百五十, 两千."""
    total = section = digit = 0
    for char in text:
        if char in _ZH_DIGITS:
            digit = _ZH_DIGITS[char]
        elif char == "万":
            total += (section + digit) * 10000
            section = digit = 0
        else:
            section += (digit or 1) * _ZH_UNITS[char]
            digit = 0
    return total + section + digit


def _en_numbers(text: str) -> list[tuple[int, int, int]]:
    found = []
    for match in _EN_NUM_RE.finditer(text):
        token = match.group(1)
        value = int(token) if token.isdigit() else _EN_WORDS.get(token.lower())
        if value is not None:
            found.append((match.start(1), match.end(1), value))
    return found


def _whole_word(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])")


def _natural_links(zh: str, en: str) -> list[tuple[tuple[int, int], tuple[int, int]]] | None:
    """Link each Latin/digit span of *zh* to its one verbatim copy in *en*, or None."""
    links = []
    for a, b in find_spans(zh):
        hits = list(_whole_word(zh[a:b]).finditer(en))
        if len(hits) != 1:
            return None
        links.append(((a, b), hits[0].span()))
    return links


def _synthetic_links(zh: str, en: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    links = []
    for name, english in _NAMES.items():
        zh_hits = [m.span() for m in re.finditer(name, zh)]
        en_hits = [m.span() for m in _whole_word(english).finditer(en)]
        if len(zh_hits) == 1 and len(en_hits) == 1:
            links.append((zh_hits[0], en_hits[0]))
    zh_nums = [m.span() for m in _ZH_NUM_RE.finditer(zh)]
    en_nums = _en_numbers(en)
    if len(zh_nums) == 1 and len(en_nums) == 1:
        (a, b), (c, d, value) = zh_nums[0], en_nums[0]
        if value >= 2 and zh_number(zh[a:b]) == value:
            links.append(((a, b), (c, d)))
    return links


def _mask(text: str, spans: list[tuple[int, int]], marks: list[str]) -> str:
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    out, last = [], 0
    for i in order:
        a, b = spans[i]
        out += [text[last:a], marks[i]]
        last = b
    out.append(text[last:])
    return "".join(out)


def _overlaps(spans: list[tuple[int, int]]) -> bool:
    ordered = sorted(spans)
    return any(x[1] > y[0] for x, y in pairwise(ordered))


def training_examples(
    pairs: Iterable[Pair], preprocess: SourcePreprocessor, seed: int
) -> list[tuple[str, str]]:
    """Turn pairs into (source, target) strings with spans masked as at serving time.

    Each pair yields its natural form (Latin/digit spans masked, as the service masks
    them); pairs with names or numerals also yield a copy where those become
    placeholders. Placeholder ids are drawn at random so every id gets trained, not
    just the first. A pair whose spans do not reappear verbatim in the English is
    dropped: keeping it would teach the model to lose placeholders.
    """
    rng = random.Random(seed)
    examples = []
    for pair in pairs:
        zh = preprocess(clean_input(pair.zh))
        en = " ".join(clean_input(pair.en).split())
        natural = _natural_links(zh, en)
        if natural is None or len(natural) > MAX_PLACEHOLDERS:
            continue
        variants = [natural]
        extra = _synthetic_links(zh, en)
        combined = natural + extra
        if extra and len(combined) <= MAX_PLACEHOLDERS:
            variants.append(combined)
        for links in variants:
            if _overlaps([z for z, _ in links]) or _overlaps([e for _, e in links]):
                continue
            marks = [PLACEHOLDERS[i] for i in rng.sample(range(MAX_PLACEHOLDERS), len(links))]
            src = _mask(zh, [z for z, _ in links], marks)
            tgt = _mask(en, [e for _, e in links], marks)
            examples.append((src, tgt))
    return examples


# --- a dev set for span survival ----------------------------------------------------

_SPAN_FILLERS = (
    "iPhone 15",
    "XL",
    "ABC-123",
    "3.5mm",
    "128GB",
    "99",
    "48",
    "2024",
    "USB-C",
    "Wi-Fi",
    "7.5",
    "30%",
    "www.example.com",
    "info@example.com",
    "Model S",
    "Tom",
    "A4",
    "100",
)


def span_pairs(pairs: Iterable[Pair], seed: int) -> list[Pair]:
    """Dev pairs with a name or numeral swapped, on both sides, for a Latin/digit span.

    The result measures whether spans survive translation verbatim; the English side
    stays a fair reference because the same span is put in the same place there.
    """
    rng = random.Random(seed)
    out = []
    for pair in pairs:
        zh = clean_input(pair.zh)
        en = " ".join(clean_input(pair.en).split())
        links = _synthetic_links(zh, en)
        if not links:
            continue
        (za, zb), (ea, eb) = links[0]
        filler = rng.choice(_SPAN_FILLERS)
        out.append(Pair(en[:ea] + filler + en[eb:], zh[:za] + filler + zh[zb:]))
    return out
