"""Command line: ``python -m toolchain.corpus [--cache DIR] [--out DIR] [--only SRC ...]``."""

from __future__ import annotations

import argparse
import logging
import sys

from toolchain.corpus.archives import ArchiveError
from toolchain.corpus.bible import ZTextError
from toolchain.corpus.build import COLUMNS, BuildResult, build
from toolchain.corpus.sources import SOURCE_NAMES, FetchError

log = logging.getLogger("toolchain.corpus")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m toolchain.corpus", description=__doc__)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("build/corpus/cache"),
        help="downloaded packages (default build/corpus/cache)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("build/corpus"),
        help="where the TSV files, sources.json and stats.json go (default build/corpus)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SOURCE_NAMES,
        metavar="SRC",
        help=f"build only these sources ({', '.join(SOURCE_NAMES)})",
    )
    parser.add_argument(
        "--offline", action="store_true", help="never download: fail when the cache lacks a package"
    )
    parser.add_argument(
        "--dedup-side",
        choices=("zh", "en", "none"),
        default="zh",
        help="side whose normalised text may appear only once (default zh)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def format_table(result: BuildResult) -> str:
    """The per-source counts as a fixed-width text table, with a total row."""
    header = ("source", *COLUMNS)
    rows = [(name, *(getattr(row, c) for c in COLUMNS)) for name, row in result.stats.items()]
    totals = ("total", *(sum(r[i + 1] for r in rows) for i in range(len(COLUMNS))))
    width = max(len(str(r[0])) for r in [header, *rows, totals])
    lines = [f"{header[0]:<{width}}" + "".join(f"{h:>9}" for h in header[1:])]
    for row in [*rows, totals]:
        lines.append(f"{row[0]:<{width}}" + "".join(f"{v:>9,}" for v in row[1:]))
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        result = build(
            args.cache, args.out, only=args.only, offline=args.offline, side=args.dedup_side
        )
    except (FetchError, ArchiveError, ZTextError) as exc:
        log.error("%s", exc)
        return 1
    print(format_table(result))  # noqa: T201 - the table is the command's output
    log.info("wrote %s in %.1fs", ", ".join(result.files), result.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
