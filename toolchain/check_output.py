"""Flag typography, span and structure defects in the service's translations.

    zh-en-translator check tests/data/product_copy.tsv tests/data/docs.tsv
    zh-en-translator check sources.txt --beam 4 --show 10
    zh-en-translator check pairs.tsv --json-only --max-defects 0

Each FILE is pairs (``english<TAB>chinese``: the Chinese side is translated) or plain
sources (one Chinese text per line; a literal ``\\n`` is a line break inside the text).
Texts go through the production path with the cache off, as ``evaluate`` does; then
:func:`check` flags each translation per defect class (:data:`KINDS`). Printed: per class
the sentences flagged, the first examples of each, and last one JSON line. The exit code
is 0 (a report) unless ``--max-defects K`` is given and more than K sentences have a
defect outside ``repeat3`` and ``missing``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine import GenerationOptions
from serving import Translator
from text.languages import CHINESE_RE, ZH_EN
from text.spans import find_spans
from toolchain._output_marks import (
    EMOJI_RE,  # noqa: F401 - public here before the split
    emojis,
    list_marker,
    unbalanced,
)

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = tuple(
    "cjk_punct double_final space_before_punct span_lost marker_lost emoji_lost unbalanced "
    "added_period repeat3 missing".split()
)
# Classes --max-defects counts: repeat3 and missing are model quality, not pipeline bugs.
GATED = tuple(k for k in KINDS if k not in ("repeat3", "missing"))
CHUNK = 64

CJK_PUNCT = frozenset("，。、：；！？（）《》【】「」『』“”‘’…\u3000") | {
    chr(c) for c in range(0xFF01, 0xFF5F)
}
_FINAL_RUN_RE = re.compile(r"[.。．!?！？…]{2,}")
# "?!", "!!" (emphasis), "..." (an ellipsis, alone or with a strong mark): no doubled period
_FINE_RUN_RE = re.compile(r"[!?！？]+|\.{3,}|\.\.\.[!?]+|[!?]+\.\.\.")
_END_GAP_RE = re.compile(r"[.!?。！？]\s+[.。]\s*$")
_SPACE_PUNCT_RE = re.compile(r"\s+[,.:;!?)]|\(\s+")
_PREFIX_START_RE = re.compile(r"[\w/\\.~]")  # " .venv", " ./run", " ..." are no defect
_CLOSERS = "\"'”’)]}》」』】）"
_OPENERS = "\"'“‘([{<`"
_SOURCE_FINAL = "。．.！!？?；;…"
_TRAILING_PATH_RE = re.compile(r"((?:https?://|www\.)\S+|\S*[/\\]\S*)\.$")


@dataclass(frozen=True)
class Defect:
    kind: str  # one of KINDS
    detail: str


@dataclass(frozen=True)
class _Line:
    """One source line, its output, and the output positions inside verbatim spans."""

    source: str
    output: str
    spans: tuple[str, ...]
    masked: frozenset[int]

    @classmethod
    def of(cls, source: str, output: str) -> _Line:
        spans = tuple(source[a:b] for a, b in find_spans(source))
        found = (
            m.span() for span in set(spans) if span for m in re.finditer(re.escape(span), output)
        )
        return cls(source, output, spans, frozenset(i for a, b in found for i in range(a, b)))

    def free(self, start: int, end: int) -> bool:
        """True if no output position in [start, end) is inside a verbatim span."""
        return not any(i in self.masked for i in range(start, end))


def check(source: str, output: str) -> list[Defect]:
    """Every defect of *output* as a translation of *source* (line by line when the
    numbers of lines match)."""
    source = unicodedata.normalize("NFC", source.replace("\r", ""))
    output = unicodedata.normalize("NFC", output.replace("\r", ""))
    if not source.strip():
        return []
    if not output.strip():
        return [Defect("missing", "empty output")]
    if output.strip() == source.strip() and CHINESE_RE.search(source):
        return [Defect("missing", "output is the untranslated source")]
    src_lines, out_lines = source.split("\n"), output.split("\n")
    if len(src_lines) > 1 and len(src_lines) == len(out_lines):
        return [
            Defect(d.kind, f"line {n}: {d.detail}")
            for n, (s, o) in enumerate(zip(src_lines, out_lines, strict=True), 1)
            for d in check(s, o)
        ]
    line = _Line.of(source, output)
    return [d for detector in DETECTORS for d in detector(line)]


def _cjk_punct(line: _Line) -> list[Defect]:
    found = [c for i, c in enumerate(line.output) if c in CJK_PUNCT and i not in line.masked]
    if not found:
        return []
    return [Defect("cjk_punct", " ".join(f"{c!r}x{n}" for c, n in Counter(found).items()))]


def _double_final(line: _Line) -> list[Defect]:
    out = line.output
    runs = [(m.group(), m.start(), m.end()) for m in _FINAL_RUN_RE.finditer(out)]
    gap = _END_GAP_RE.search(out)
    if gap:
        runs.append((gap.group().strip(), gap.start(), gap.end()))
    bad = [
        run
        for run, a, b in runs
        if not _FINE_RUN_RE.fullmatch(run) and line.free(a, b) and run not in line.source
    ]
    return [Defect("double_final", repr(run)) for run in dict.fromkeys(bad)]


def _space_before_punct(line: _Line) -> list[Defect]:
    out, bad = line.output, []
    for m in _SPACE_PUNCT_RE.finditer(out):
        mark = m.group().strip()
        if mark in ".:?!" and _PREFIX_START_RE.match(out, m.end()):
            continue
        text = re.sub(r"\s+", " ", m.group())
        if line.free(m.start(), m.end()) and text not in line.source:
            bad.append(text)
    return [Defect("space_before_punct", repr(t)) for t in dict.fromkeys(bad)]


def _span_lost(line: _Line) -> list[Defect]:
    lost = [s for s in dict.fromkeys(line.spans) if s not in line.output]
    return [Defect("span_lost", repr(s)) for s in lost]


def _marker_lost(line: _Line) -> list[Defect]:
    marker = list_marker(line.source)
    if marker is None or line.output.lstrip().startswith(marker[1]):
        return []
    return [Defect("marker_lost", f"{marker[0]!r} not kept (want {marker[1][0]!r})")]


def _emoji_lost(line: _Line) -> list[Defect]:
    lost = emojis(line.source) - emojis(line.output)
    return [Defect("emoji_lost", " ".join(lost.elements()))] if lost else []


def _unbalanced(line: _Line) -> list[Defect]:
    if unbalanced(line.source):
        return []
    bad = unbalanced(line.output)
    return [Defect("unbalanced", " ".join(bad))] if bad else []


def _added_period(line: _Line) -> list[Defect]:
    out = line.output.rstrip().rstrip(_CLOSERS).rstrip()
    src = line.source.rstrip().rstrip(_CLOSERS).rstrip()
    if not out or not src:
        return []
    ellipsis = out.endswith(("...", "…"))
    if out[-1] in ".。" and not ellipsis and src[-1] not in _SOURCE_FINAL:
        return [Defect("added_period", f"source ends with {src[-1]!r}")]
    path = _TRAILING_PATH_RE.search(out)
    token = path.group(1).lstrip(_OPENERS) if path and not ellipsis else ""
    if not token or token not in line.source:
        return []
    starts = [m.end() for m in re.finditer(re.escape(token), line.source)]
    if any(line.source[i : i + 1] in (".", "。", "．") for i in starts):
        return []
    return [Defect("added_period", f"period after {token!r}")]


def _repeat3(line: _Line) -> list[Defect]:
    words = re.findall(r"\w+", line.output.lower())
    source = " ".join(re.findall(r"\w+", line.source.lower()))
    for n in (1, 2):
        for i in range(len(words) - 3 * n + 1):
            gram = words[i : i + n]
            if words[i + n : i + 2 * n] != gram or words[i + 2 * n : i + 3 * n] != gram:
                continue
            if (n == 1 and len(gram[0]) < 2) or (n == 2 and gram[0] == gram[1]):
                continue
            if " ".join(gram * 3) not in source:
                return [Defect("repeat3", repr(" ".join(gram)))]
    return []


DETECTORS: tuple[Callable[[_Line], list[Defect]], ...] = (
    *(_cjk_punct, _double_final, _space_before_punct, _span_lost, _marker_lost),
    *(_emoji_lost, _unbalanced, _added_period, _repeat3),
)


@dataclass(frozen=True)
class Result:
    """One source text (where it came from), its translation and the defects found."""

    file: str
    line: int
    source: str
    output: str = ""
    defects: tuple[Defect, ...] = ()

    @property
    def kinds(self) -> set[str]:
        return {d.kind for d in self.defects}


@dataclass
class Report:
    files: list[str]
    results: list[Result] = field(default_factory=list)
    model: str = ""
    beam: int = 1

    def counts(self) -> dict[str, int]:
        """Sentences flagged per class (a sentence counts once per class)."""
        return {kind: sum(kind in r.kinds for r in self.results) for kind in KINDS}

    def flagged(self, kinds: Sequence[str] = KINDS) -> int:
        return sum(bool(r.kinds & set(kinds)) for r in self.results)

    def span_survival(self) -> dict:
        total = kept = 0
        for r in self.results:
            for a, b in find_spans(r.source):
                total += 1
                kept += r.source[a:b] in r.output
        ratio = round(kept / total, 4) if total else None
        return {"spans": total, "verbatim": kept, "ratio": ratio}

    def summary(self) -> dict:
        n, counts = len(self.results), self.counts()
        return {
            "files": self.files,
            "sentences": n,
            "defects": counts,
            "flagged": self.flagged(),
            "span_survival": self.span_survival(),
            "repeat3_ratio": round(counts["repeat3"] / n, 4) if n else None,
            "model": self.model,
            "beam": self.beam,
        }


def read_sources(path: Path) -> list[Result]:
    """The Chinese texts of a pairs file (``english<TAB>chinese``) or a plain one."""
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = any("\t" in line for line in lines)
    samples = []
    for number, line in enumerate(lines, 1):
        if pairs:
            cols = line.split("\t")
            if len(cols) < 2 or not cols[1].strip():
                continue
            chinese = CHINESE_RE.search(cols[1]) or not CHINESE_RE.search(cols[0])
            text = cols[1] if chinese else cols[0]
        else:
            text = line.replace("\\n", "\n")
        if text.strip():
            samples.append(Result(str(path), number, text.strip()))
    return samples


def check_files(
    paths: Sequence[Path],
    translator: Translator,
    options: GenerationOptions | None = None,
    limit: int | None = None,
) -> Report:
    """Translate every source of *paths* (the first *limit*) and check each output."""
    samples = [s for path in paths for s in read_sources(path)][:limit]
    options = options or GenerationOptions(beam_size=1)
    outputs: list[str] = []
    for i in range(0, len(samples), CHUNK):
        texts = [s.source for s in samples[i : i + CHUNK]]
        outputs += translator.translate(texts, options, timeout=3600, use_cache=False)[0]
    report = Report([str(p) for p in paths], model=translator.model_id, beam=options.beam_size)
    for sample, output in zip(samples, outputs, strict=True):
        defects = tuple(check(sample.source, output))
        report.results.append(dataclasses.replace(sample, output=output, defects=defects))
    logger.info("checked %d sentences of %d file(s)", len(samples), len(paths))
    return report


def render(report: Report, show: int = 5) -> str:
    """The human part of the report: a table per class, then examples."""
    n = len(report.results) or 1
    rows = [f"{'class':<20}{'sentences':>10}{'%':>8}"]
    for kind, count in report.counts().items():
        rows.append(f"{kind:<20}{count:>10}{100 * count / n:>8.1f}")
    rows.append(f"{'any':<20}{report.flagged():>10}{100 * report.flagged() / n:>8.1f}")
    for kind in KINDS:
        hits = [r for r in report.results if kind in r.kinds][:show]
        if hits:
            rows.append(f"\n{kind}:")
        for r in hits:
            details = "; ".join(d.detail for d in r.defects if d.kind == kind)
            rows.append(f"  {Path(r.file).name}:{r.line}  {details}")
            source, output = (t.replace("\n", " ⏎ ") for t in (r.source, r.output))
            rows.append(f"    {source}\n    → {output}")
    return "\n".join(rows) + "\n"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="zh-en-translator check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("files", type=Path, nargs="+", help="pairs or plain source files")
    parser.add_argument("--model", type=Path, help="model directory (default: the configured one)")
    parser.add_argument("--beam", type=int, default=1, help="beam size (default 1: greedy)")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    parser.add_argument("--limit", type=int, help="only the first N texts (over all files)")
    parser.add_argument("--show", type=int, default=5, help="examples per class (default 5)")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    parser.add_argument("--max-defects", type=int, help="exit 1 above K sentences flagged")
    return parser.parse_args(argv)


def _load(args: argparse.Namespace) -> Translator | None:
    from config import load_settings

    overrides = {
        "cache_size": 0,
        "intra_op_threads": args.threads,
        "max_beam_size": max(8, args.beam),
        "queue_size": 100_000,
    }
    settings = load_settings(overrides)
    model_path = args.model.resolve() if args.model else settings.model_path
    translator = Translator(settings, model_path)
    translator.start(background=False)
    if translator.ready and translator.direction == ZH_EN:
        return translator
    problem = translator.error or f"it translates {translator.direction}, not {ZH_EN}"
    sys.stderr.write(f"cannot use the model {model_path}: {problem}\n")
    translator.close()
    return None


def main(argv: list[str] | None = None, translator: Translator | None = None) -> int:
    """Run the check; *translator* (started, owned by the caller) replaces the model."""
    args = _parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    own = translator is None
    translator = translator or _load(args)
    if translator is None:
        return 1
    try:
        report = check_files(
            args.files, translator, GenerationOptions(beam_size=args.beam), args.limit
        )
    finally:
        if own:
            translator.close()
    if not args.json_only:
        sys.stdout.write(render(report, args.show))
    sys.stdout.write(json.dumps(report.summary(), ensure_ascii=False) + "\n")
    if args.max_defects is not None and report.flagged(GATED) > args.max_defects:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
