"""De-duplication across sources and the deterministic held-out dev/test slices.

Pairs arrive in source priority order. A pair is dropped when its normalised
``(english, chinese)`` was seen before, or when its normalised source side (Chinese by
default, the side the service translates from) was: the first source keeps it. The
dictionary is de-duplicated apart from the text domains: a UI label "继续 → Next" or a
bible verse "说 → Job answered:" is no reason to lose the word's own entry "to continue;
to go on with". The dev and test slices of each domain are the pairs with the smallest
salted SHA-256 of that normalised key, so a rerun on the same data gives the same split.
A training pair whose source side matches any held-out pair, of any domain, is dropped,
so the held-out text never appears in training.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SPLIT_SALT = "zh-en-corpus-v1"
# (dev, test) per domain; a small domain gives at most a tenth of its pairs to each
HELD_OUT = {"dict": (200, 200), "help": (500, 500), "ui": (500, 500), "bible": (500, 500)}
LEXICON_DOMAINS = frozenset({"dict"})  # de-duplicated apart from the text domains
_EDGE_PUNCT = " .,:;!?…。，：；！？、'\"“”‘’「」()（）"
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Pair:
    en: str
    zh: str
    domain: str
    source: str


def fold_en(text: str) -> str:
    """English dedup key: NFKC, case-folded, one space, no edge punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("...", "…")
    return _SPACE_RE.sub(" ", text).strip(_EDGE_PUNCT)


def fold_zh(text: str) -> str:
    """Chinese dedup key: NFKC (full-width -> ASCII), no spaces, no edge punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("...", "…")
    return _SPACE_RE.sub("", text).strip(_EDGE_PUNCT)


def _side_key(folded: tuple[str, str], side: str) -> str | None:
    """The normalised ``side`` of a folded ``(english, chinese)``; ``None`` for side none."""
    return {"en": folded[0], "zh": folded[1]}.get(side)


def _fold(pair: Pair) -> tuple[str, str]:
    return fold_en(pair.en), fold_zh(pair.zh)


def dedup(pairs: Iterable[Pair], side: str = "zh") -> list[Pair]:
    """Keep the first pair per normalised pair and per normalised ``side`` (zh, en, none).

    The dictionary and the text domains are de-duplicated each apart from the other.
    """
    seen_pairs: dict[bool, set[tuple[str, str]]] = {True: set(), False: set()}
    seen_side: dict[bool, set[str]] = {True: set(), False: set()}
    kept = []
    for pair in pairs:
        group = pair.domain in LEXICON_DOMAINS
        folded = _fold(pair)
        key = _side_key(folded, side)
        if folded in seen_pairs[group] or (key is not None and key in seen_side[group]):
            continue
        seen_pairs[group].add(folded)
        if key is not None:
            seen_side[group].add(key)
        kept.append(pair)
    return kept


def split_key(pair: Pair, salt: str = SPLIT_SALT) -> str:
    data = f"{salt}\t{fold_en(pair.en)}\t{fold_zh(pair.zh)}".encode()
    return hashlib.sha256(data).hexdigest()


def held_out_sizes(domain: str, count: int) -> tuple[int, int]:
    dev, test = HELD_OUT.get(domain, (500, 500))
    cap = count // 10
    return min(dev, cap), min(test, cap)


def split(
    pairs: list[Pair], salt: str = SPLIT_SALT, side: str = "zh"
) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """``(train, dev, test)``; each keeps the input order within its slice.

    Training pairs whose normalised ``side`` equals a held-out pair's are left out of all three.
    """
    by_domain: dict[str, list[int]] = {}
    for index, pair in enumerate(pairs):
        by_domain.setdefault(pair.domain, []).append(index)
    role = ["train"] * len(pairs)
    for domain, indices in by_domain.items():
        dev_n, test_n = held_out_sizes(domain, len(indices))
        ranked = sorted(indices, key=lambda i: split_key(pairs[i], salt))
        for i in ranked[:test_n]:
            role[i] = "test"
        for i in ranked[test_n : test_n + dev_n]:
            role[i] = "dev"
    keys = [_side_key(_fold(pair), side) for pair in pairs]
    held_out = {key for key, r in zip(keys, role, strict=True) if r != "train" and key is not None}
    slices: dict[str, list[Pair]] = {"train": [], "dev": [], "test": []}
    for index, pair in enumerate(pairs):
        if role[index] == "train" and keys[index] in held_out:
            continue
        slices[role[index]].append(pair)
    return slices["train"], slices["dev"], slices["test"]


def write_tsv(pairs: Iterable[Pair], path: Path) -> int:
    """Write ``english<TAB>chinese<TAB>domain`` lines; returns the number written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for pair in pairs:
            handle.write(f"{pair.en}\t{pair.zh}\t{pair.domain}\n")
            count += 1
    return count
