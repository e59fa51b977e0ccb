"""The whole build: fetch, extract, clean, de-duplicate, split, write, count."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolchain.corpus import frequency
from toolchain.corpus.clean import clean_pair
from toolchain.corpus.sources import (
    SOURCES,
    Source,
    describe,
    describe_artifact,
    fetch,
    write_sources,
)
from toolchain.corpus.split import Pair, dedup, split, write_tsv

log = logging.getLogger(__name__)

COLUMNS = ("raw", "clean", "dedup", "train", "dev", "test")


@dataclass
class SourceStats:
    raw: int = 0
    clean: int = 0
    dedup: int = 0
    train: int = 0
    dev: int = 0
    test: int = 0
    seconds: float = 0.0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {name: getattr(self, name) for name in COLUMNS}
        row["seconds"] = round(self.seconds, 2)
        row["rejected"] = dict(sorted(self.rejected.items()))
        return row


@dataclass
class BuildResult:
    stats: dict[str, SourceStats]
    files: dict[str, int]
    seconds: float


def select(only: list[str] | None) -> list[Source]:
    """The sources to build, in priority order; unknown names raise ``ValueError``."""
    if not only:
        return list(SOURCES)
    unknown = sorted(set(only) - {s.name for s in SOURCES})
    if unknown:
        raise ValueError(f"unknown source(s): {', '.join(unknown)}")
    return [s for s in SOURCES if s.name in only]


def clean_source(source: Source, paths: list[Path], stats: SourceStats) -> list[Pair]:
    """Extract and clean one source's pairs, counting rejections by reason."""
    start = time.perf_counter()
    kept = []
    for en, zh in source.extract(paths):
        stats.raw += 1
        result = clean_pair(en, zh, traditional=source.traditional)
        if isinstance(result, str):
            stats.rejected[result] += 1
        else:
            kept.append(Pair(result[0], result[1], source.domain, source.name))
    stats.clean = len(kept)
    stats.seconds = time.perf_counter() - start
    log.info("%s: %d raw, %d clean (%.1fs)", source.name, stats.raw, stats.clean, stats.seconds)
    return kept


def _write_outputs(
    out: Path, train: list[Pair], dev: list[Pair], test: list[Pair]
) -> dict[str, int]:
    for stale in [*out.glob("dev.*.tsv"), *out.glob("test.*.tsv")]:
        stale.unlink()
    files = {
        "train.tsv": write_tsv(train, out / "train.tsv"),
        "dev.tsv": write_tsv(dev, out / "dev.tsv"),
        "test.tsv": write_tsv(test, out / "test.tsv"),
    }
    for name, pairs in (("dev", dev), ("test", test)):
        for domain in sorted({p.domain for p in pairs}):
            file = f"{name}.{domain}.tsv"
            files[file] = write_tsv((p for p in pairs if p.domain == domain), out / file)
    return files


def _write_frequency(cache: Path, out: Path, *, offline: bool) -> dict[str, Any]:
    """Write ``zh_frequency.txt`` (the ranking the mixture caps the dictionary by)."""
    wheel = fetch(frequency.WORDFREQ, cache, offline=offline)
    kept = frequency.write_ranking(frequency.ranking_from_wheel(wheel), out / frequency.FILENAME)
    record = describe_artifact(frequency.NAME, "dict", frequency.WORDFREQ, wheel, cache)
    return {**record, "words": kept, "output": frequency.FILENAME}


def _count(stats: dict[str, SourceStats], column: str, pairs: list[Pair]) -> None:
    for pair in pairs:
        value = getattr(stats[pair.source], column)
        setattr(stats[pair.source], column, value + 1)


def build(
    cache: Path,
    out: Path,
    *,
    only: list[str] | None = None,
    offline: bool = False,
    side: str = "zh",
) -> BuildResult:
    """Run the pipeline and write ``train/dev/test.tsv``, ``sources.json``, ``stats.json``."""
    start = time.perf_counter()
    sources = select(only)
    out.mkdir(parents=True, exist_ok=True)
    records, pairs = [], []
    stats = {source.name: SourceStats() for source in sources}
    for source in sources:
        paths = [fetch(a, cache, offline=offline) for a in source.artifacts]
        records += [
            describe(source, a, p, cache) for a, p in zip(source.artifacts, paths, strict=True)
        ]
        pairs += clean_source(source, paths, stats[source.name])
    if any(source.domain == "dict" for source in sources):
        records.append(_write_frequency(cache, out, offline=offline))
    write_sources(records, out / "sources.json")
    unique = dedup(pairs, side=side)
    _count(stats, "dedup", unique)
    train, dev, test = split(unique, side=side)
    for column, part in (("train", train), ("dev", dev), ("test", test)):
        _count(stats, column, part)
    for row in stats.values():
        if overlap := row.dedup - row.train - row.dev - row.test:
            row.rejected["held_out_overlap"] += overlap
    files = _write_outputs(out, train, dev, test)
    result = BuildResult(stats, files, time.perf_counter() - start)
    write_stats(result, out / "stats.json", side=side)
    return result


def write_stats(result: BuildResult, path: Path, *, side: str) -> None:
    domains: dict[str, Counter[str]] = {}
    for name, row in result.stats.items():
        domain = next(s.domain for s in SOURCES if s.name == name)
        counter = domains.setdefault(domain, Counter())
        for column in COLUMNS:
            counter[column] += getattr(row, column)
    payload = {
        "sources": {name: row.as_dict() for name, row in result.stats.items()},
        "domains": {name: dict(counter) for name, counter in domains.items()},
        "files": result.files,
        "dedup_side": side,
        "seconds": round(result.seconds, 1),
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
