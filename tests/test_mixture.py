"""The training mixture reader (toolchain/mixture.py), on tiny invented data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from text.normalize import SourcePreprocessor
from text.spans import PLACEHOLDERS
from toolchain.data import Pair
from toolchain.mixture import (
    DEFAULT_WEIGHTS,
    Mixture,
    MixtureConfig,
    cap_dictionary,
    dev_subset,
    dict_entry,
    held_out_zh,
    name_head,
    parse_weights,
    read_corpus,
    read_corpus_dev,
)

PRE = SourcePreprocessor(["opus_punct"])


def _sources() -> dict[str, list[Pair]]:
    return {
        "tatoeba": [Pair(f"I have {n} cats.", f"我有{n}只猫。") for n in range(10, 20)],
        "ui": [Pair(f"Open file {i}", f"打开文件{i}") for i in range(10)],
        "bible": [Pair(f"Verse {i}.", f"经文{i}。") for i in range(20)],
        "dict": [Pair("cat; feline", "猫"), Pair("variant of 猫", "貓"), Pair("dog", "狗")],
    }


def _cfg(**weights: float) -> MixtureConfig:
    return MixtureConfig(weights={"tatoeba": 2.0, "ui": 1.0, "bible": 0.25, "dict": 1.0} | weights)


def test_read_corpus_groups_by_domain_and_drops_held_out(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("Open\t打开\tui\nSave\t保存\tui\nbad line\nLight\t光\tbible\n", "utf-8")
    domains = read_corpus(path, exclude_zh={"保存"})
    assert domains == {"ui": [Pair("Open", "打开")], "bible": [Pair("Light", "光")]}


def test_held_out_zh_reads_the_chinese_column(tmp_path: Path) -> None:
    path = tmp_path / "docs.tsv"
    path.write_text("Install\t安装\nFAQ\t常见问题\n", "utf-8")
    assert held_out_zh([path, tmp_path / "missing.tsv"]) == {"安装", "常见问题"}


def test_dictionary_entries_keep_a_short_first_sense() -> None:
    assert dict_entry(Pair("magnetic; magnetism", "磁性"), 4, 6) == Pair("magnetic", "磁性")
    assert dict_entry(Pair("variant of 猫", "貓"), 4, 6) is None
    assert dict_entry(Pair("a very long gloss of many words", "长"), 4, 6) is None
    assert dict_entry(Pair("cat", "一二三四五六七"), 4, 6) is None
    assert dict_entry(Pair("tea (drink)", "茶"), 4, 6) is None


def test_dictionary_names_drop_their_description() -> None:
    described = Pair("Hecheng municipality, port on the Lan river", "河城")
    assert dict_entry(described, 4, 6) == Pair("Hecheng", "河城")
    assert name_head("Lanzhou, Qinghai") == "Lanzhou"
    assert name_head("Fengyang prefecture-level city in Anhui") == "Fengyang"
    assert name_head("Old Stone Bridge, built in 1602") == "Old Stone Bridge"
    # Lists of names and phrases with a comma stay whole.
    assert name_head("Mars, Venus and Jupiter") == "Mars, Venus and Jupiter"
    assert name_head("When the rain stops, we leave") == "When the rain stops, we leave"
    assert name_head("green tea, steamed") == "green tea, steamed"


def test_dictionary_cap_and_one_entry_per_headword() -> None:
    pairs = [Pair(f"word{i}", f"词{i}") for i in range(50)] + [Pair("again", "词1")]
    capped = cap_dictionary(pairs, MixtureConfig(dict_cap=10), seed=1)
    assert len(capped) == 10
    assert len({p.zh for p in capped}) == 10
    assert capped == cap_dictionary(pairs, MixtureConfig(dict_cap=10), seed=1)


def test_ranked_dictionary_keeps_the_most_frequent_words() -> None:
    pairs = [Pair(f"word{i}", f"词{i}") for i in range(20)] + [Pair("quilt", "被")]
    ranks = {"被": 0, "词7": 1, "词3": 2, "词12": 3}
    capped = cap_dictionary(pairs, MixtureConfig(dict_cap=4, dict_ranks=ranks), seed=1)
    assert [p.zh for p in capped[:3]] == ["词7", "词3", "词12"]
    assert len(capped) == 4 and "被" not in {p.zh for p in capped}


def test_epoch_weights_upsample_and_downsample() -> None:
    mixture = Mixture(_sources(), _cfg(), PRE, seed=7)
    counts = Counter(name for name, _ in mixture.epoch_pairs(0))
    assert counts == {"tatoeba": 20, "ui": 10, "bible": 5, "dict": 2}
    assert mixture.sizes()["tatoeba"] == 20


def test_epochs_are_deterministic_and_differ() -> None:
    one = Mixture(_sources(), _cfg(), PRE, seed=7)
    two = Mixture(_sources(), _cfg(), PRE, seed=7)
    assert one.epoch(3) == two.epoch(3)
    assert one.epoch(3) != one.epoch(4)
    assert one.epoch(0) != Mixture(_sources(), _cfg(), PRE, seed=8).epoch(0)


def test_zero_weight_or_unknown_sources_are_left_out() -> None:
    sources = _sources() | {"news": [Pair("News.", "新闻。")]}
    mixture = Mixture(sources, _cfg(bible=0.0), PRE, seed=1)
    assert set(mixture.sources) == {"tatoeba", "ui", "dict"}


def test_epoch_examples_mask_spans_with_placeholders() -> None:
    mixture = Mixture({"ui": [Pair("Open file 3", "打开文件3")]}, _cfg(), PRE, seed=1)
    ((src, tgt),) = mixture.epoch(0)
    mark = src[-1]
    assert mark in PLACEHOLDERS
    assert src == "打开文件" + mark
    assert tgt == "Open file " + mark


def test_parse_weights_overrides_defaults() -> None:
    weights = parse_weights("tatoeba=3, bible=0")
    assert weights["tatoeba"] == 3.0 and weights["bible"] == 0.0
    assert weights["ui"] == DEFAULT_WEIGHTS["ui"]
    assert parse_weights(None) == DEFAULT_WEIGHTS


def test_dev_subset_is_fixed_and_sized(tmp_path: Path) -> None:
    (tmp_path / "dev.ui.tsv").write_text("".join(f"Open {i}\t打开{i}\n" for i in range(9)), "utf-8")
    (tmp_path / "dev.tsv").write_text("Open\t打开\n", "utf-8")
    corpus_dev = read_corpus_dev(tmp_path)
    assert list(corpus_dev) == ["ui"]
    tatoeba = [Pair(f"Hi {i}.", f"你好{i}。") for i in range(30)]
    first = dev_subset(tatoeba, corpus_dev, tatoeba_n=5, per_domain=4)
    assert {k: len(v) for k, v in first.items()} == {"tatoeba": 5, "ui": 4}
    assert first == dev_subset(tatoeba, corpus_dev, tatoeba_n=5, per_domain=4)
    assert first["ui"][0][0].startswith("打开")


def test_reversed_mixture_trains_english_to_chinese() -> None:
    pairs = {"ui": [Pair("Open file 3", "打開文件3。")]}
    mixture = Mixture(pairs, _cfg(), SourcePreprocessor(["t2s"]), seed=1, reverse=True)
    ((src, tgt),) = mixture.epoch(0)
    mark = src[-1]
    assert src == "Open file " + mark
    assert tgt == "打开文件" + mark + "。"  # Simplified, Chinese punctuation kept


def test_reversed_dev_subset_puts_english_first() -> None:
    tatoeba = [Pair(f"Hi {i}.", f"你好{i}。") for i in range(30)]
    forward = dev_subset(tatoeba, {}, tatoeba_n=5)
    backward = dev_subset(tatoeba, {}, tatoeba_n=5, reverse=True)
    assert backward["tatoeba"] == [(en, zh) for zh, en in forward["tatoeba"]]
