"""The training mixture of the demo model: Tatoeba plus the domain corpus, weighted.

Tatoeba (the train side of the dev split) is the in-domain part and is upsampled; the
corpus in ``build/corpus/train.tsv`` (``english<TAB>chinese<TAB>domain``) adds help
pages, UI strings, Bible verses and dictionary entries. Each source has a weight: the
integer part is how many full copies go into an epoch, the fraction a random share on
top, drawn afresh each epoch. Dictionary entries are cut to their first sense and kept
only when short, then capped. Every epoch then goes through
:func:`toolchain.data.training_examples`, so spans are masked with placeholders exactly
as for the shipped model. Everything is deterministic given (seed, epoch).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from text.normalize import SourcePreprocessor
from toolchain.corpus.frequency import by_rank
from toolchain.data import Pair, training_examples

logger = logging.getLogger(__name__)

TATOEBA = "tatoeba"
DEFAULT_WEIGHTS = {TATOEBA: 2.0, "help": 1.0, "ui": 1.0, "bible": 0.25, "dict": 1.0, "shop": 2.0}

# Dictionary glosses that are notes about the word rather than a translation of it.
_DICT_NOTES = re.compile(
    r"\b(variant of|surname|see also|see |abbr\.|CL:|classifier|used in|Taiwan pr\.|"
    r"old variant|archaic|radical|pr\.|[A-Z][a-z]+ \()",
    re.IGNORECASE,
)

# CC-CEDICT glosses a proper name with what it is: "Beijing municipality, capital of the
# People's Republic of China", "Kyoto, Japan", "Suzhou, prefecture-level city in Jiangsu".
# Left whole, such a gloss is too long to drill (北京 was never trained) or teaches a tail
# the translation of a sentence must not carry.
_PLACE_KIND = (
    r"(?:(?:sub-?provincial|prefecture-level|county-level|autonomous)\s+)?"
    r"(?:city|county|district|municipality|province|prefecture|town|township|region)\b"
)
_NAME_HEAD = re.compile(rf"^([A-Z0-9][^,]*?)(?:,\s|\s+{_PLACE_KIND})")
_NAME_LINKS = {"of", "the", "and", "or", "in", "on", "de", "da", "del", "la", "le", "van", "von"}
_NAME_LIST = re.compile(r"(?:[A-Z][\w'’.-]*(?:,? | ))*(?:and|or) [A-Z][\w'’. -]*")


@dataclass
class MixtureConfig:
    """Weights per source, plus the limits on dictionary entries."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    dict_cap: int = 15000
    dict_max_words: int = 4
    dict_max_chars: int = 6
    # Headword → frequency rank (toolchain.corpus.frequency). With it the cap keeps the
    # most frequent words of two characters or more: a single character's first sense
    # (被 "quilt", 后 "empress") misleads more than it teaches.
    dict_ranks: Mapping[str, int] | None = None


def parse_weights(spec: str | None) -> dict[str, float]:
    """``"tatoeba=2,bible=0.25"`` → the default weights with those overridden."""
    weights = dict(DEFAULT_WEIGHTS)
    for item in (spec or "").split(","):
        if item.strip():
            name, _, value = item.partition("=")
            weights[name.strip()] = float(value)
    return weights


def read_corpus(path: str | Path, exclude_zh: Iterable[str] = ()) -> dict[str, list[Pair]]:
    """Read ``english<TAB>chinese<TAB>domain`` lines into pairs by domain.

    Pairs whose Chinese side is in *exclude_zh* (the held-out evaluation sets) are
    dropped so that no evaluation sentence is ever trained on.
    """
    banned = {z.strip() for z in exclude_zh}
    domains: dict[str, list[Pair]] = {}
    dropped = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 3 or not cols[0].strip() or not cols[1].strip():
                continue
            if cols[1].strip() in banned:
                dropped += 1
                continue
            domains.setdefault(cols[2].strip(), []).append(Pair(cols[0].strip(), cols[1].strip()))
    logger.info(
        "corpus %s: %s; %d held-out matches dropped",
        path,
        {d: len(p) for d, p in sorted(domains.items())},
        dropped,
    )
    return domains


def held_out_zh(paths: Iterable[str | Path]) -> set[str]:
    """The Chinese side of every held-out evaluation file that exists."""
    found: set[str] = set()
    for path in paths:
        if Path(path).is_file():
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                cols = line.split("\t")
                if len(cols) >= 2 and cols[1].strip():
                    found.add(cols[1].strip())
    return found


def name_head(sense: str) -> str:
    """The name alone of a gloss that names and then describes (``Beijing, capital of ...``)."""
    match = _NAME_HEAD.match(sense)
    if match is None:
        return sense
    head, tail = match.group(1), sense[match.end() :]
    if any(not _is_name_word(word) for word in head.split()):
        return sense  # "If three walk together, ...": a phrase, not a name
    if _NAME_LIST.fullmatch(tail):
        return sense  # "Russia, China and North Korea": the tail goes on listing names
    return head


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or word in _NAME_LINKS


def dict_entry(pair: Pair, max_words: int, max_chars: int) -> Pair | None:
    """The first sense of a dictionary entry if it is a short plain gloss, else None."""
    if len(pair.zh) > max_chars:
        return None
    sense = name_head(pair.en.split(";")[0].strip())
    if not sense or _DICT_NOTES.search(sense) or len(sense.split()) > max_words:
        return None
    if any(c in sense for c in "()[]/|"):
        return None
    return Pair(sense, pair.zh)


def cap_dictionary(pairs: list[Pair], cfg: MixtureConfig, seed: int) -> list[Pair]:
    """Short first-sense entries, one per headword, at most ``cfg.dict_cap`` of them."""
    seen: set[str] = set()
    kept = []
    for pair in pairs:
        entry = dict_entry(pair, cfg.dict_max_words, cfg.dict_max_chars)
        if entry is not None and entry.zh not in seen:
            seen.add(entry.zh)
            kept.append(entry)
    random.Random(seed).shuffle(kept)
    logger.info("dictionary: %d of %d entries usable, cap %d", len(kept), len(pairs), cfg.dict_cap)
    ranks = cfg.dict_ranks
    if ranks is not None:
        kept = sorted((e for e in kept if len(e.zh) > 1), key=lambda e: by_rank(ranks, e.zh))
        logger.info("dictionary: most frequent first, %d ranked", sum(e.zh in ranks for e in kept))
    return kept[: cfg.dict_cap]


def _weighted(pairs: list[Pair], weight: float, rng: random.Random) -> list[Pair]:
    whole, frac = int(weight), weight - int(weight)
    out = pairs * whole
    if frac > 0:
        out += rng.sample(pairs, round(len(pairs) * frac))
    return out


class Mixture:
    """Sources and weights; :meth:`epoch` gives that epoch's (source, target) examples."""

    def __init__(
        self,
        sources: Mapping[str, list[Pair]],
        cfg: MixtureConfig,
        preprocess: SourcePreprocessor,
        seed: int,
        reverse: bool = False,
    ) -> None:
        self.cfg = cfg
        # en→zh trains on the same examples with the sides swapped.
        self.reverse = reverse
        self.preprocess = preprocess
        self.seed = seed
        self.sources = {
            name: cap_dictionary(pairs, cfg, seed) if name == "dict" else list(pairs)
            for name, pairs in sources.items()
            if cfg.weights.get(name, 0.0) > 0
        }
        unknown = sorted(set(sources) - set(cfg.weights))
        if unknown:
            logger.warning("sources without a weight, left out: %s", unknown)

    def epoch_pairs(self, epoch: int) -> list[tuple[str, Pair]]:
        """(source name, pair) for one epoch, in a seeded shuffled order."""
        rng = random.Random(f"{self.seed}:{epoch}")
        tagged = []
        for name in sorted(self.sources):
            picked = _weighted(self.sources[name], self.cfg.weights[name], rng)
            tagged += [(name, p) for p in picked]
        rng.shuffle(tagged)
        return tagged

    def epoch(self, epoch: int) -> list[tuple[str, str]]:
        """Span-masked (source, target) examples of one epoch."""
        pairs = [p for _, p in self.epoch_pairs(epoch)]
        examples = training_examples(pairs, self.preprocess, self.seed * 1000 + epoch)
        return [(tgt, src) for src, tgt in examples] if self.reverse else examples

    def sizes(self) -> dict[str, float]:
        """Expected pairs per epoch from each source."""
        return {n: len(p) * self.cfg.weights[n] for n, p in sorted(self.sources.items())}


def dev_subset(
    tatoeba_dev: list[Pair],
    corpus_dev: Mapping[str, list[Pair]],
    tatoeba_n: int = 300,
    per_domain: int = 100,
    seed: int = 20261125,
    reverse: bool = False,
) -> dict[str, list[tuple[str, str]]]:
    """A small fixed dev set per source, as (source, reference), for cheap evaluation.

    The source is the Chinese side, or the English one with *reverse* (en→zh).
    """
    out = {TATOEBA: _sample(tatoeba_dev, tatoeba_n, seed, reverse)}
    for name in sorted(corpus_dev):
        out[name] = _sample(corpus_dev[name], per_domain, seed, reverse)
    return out


def _sample(pairs: list[Pair], n: int, seed: int, reverse: bool) -> list[tuple[str, str]]:
    picked = random.Random(seed).sample(pairs, min(n, len(pairs)))
    return [(p.en, p.zh) if reverse else (p.zh, p.en) for p in picked]


def read_corpus_dev(corpus_dir: Path, split: str = "dev") -> dict[str, list[Pair]]:
    """``{split}.<domain>.tsv`` files of the corpus directory, by domain."""
    out = {}
    for path in sorted(corpus_dir.glob(f"{split}.*.tsv")):
        domain = path.name[len(split) + 1 : -len(".tsv")]
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        out[domain] = [Pair(r[0].strip(), r[1].strip()) for r in rows if len(r) >= 2]
    return out
