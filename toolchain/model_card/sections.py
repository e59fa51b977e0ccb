"""The generated sections of the card and the text helpers they share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from toolchain.model_card.common import DIRECTIONS, TATOEBA, _rel

SET_TITLES = {
    "help": "LibreOffice help (corpus dev)",
    "ui": "UI strings: LibreOffice, Debian, Django (corpus dev)",
    "bible": "Bible verses (corpus dev)",
    "dict": "CC-CEDICT entries (corpus dev)",
    "shop": "shop software strings: Oscar, pretix, Shuup, LFS, Medusa, Vendure (corpus dev)",
    "product_copy": "product copy (`tests/data/product_copy.tsv`)",
    "docs": "software documentation (`tests/data/docs.tsv`)",
}
DOMAIN_TITLES = {
    TATOEBA: "Tatoeba (train side of the dev split)",
    "help": "LibreOffice help pages",
    "ui": "UI strings (LibreOffice, Debian catalogs, Django)",
    "bible": "Bible verses (CUV / WEB)",
    "dict": "CC-CEDICT entries (first sense, short)",
    "shop": "shop software strings (Django Oscar, pretix, Shuup, LFS, Medusa, Vendure)",
}
STEP_TEXT = {
    "opus_punct": "OPUS-MT's punctuation mapping (full-width to ASCII)",
    "t2s": "Traditional → Simplified conversion (OpenCC `t2s`)",
}
PAD_ZERO = 1e-6  # a <pad> row below this (largest |value|) counts as zero
# Keys of a training-history entry that are not dev scores.
_HISTORY_META = {"step", "epoch", "loss", "lr_progress", "train_minutes", "eval_seconds"}


def _dir_mb(path: Path, exclude: str | None = None) -> float:
    files = [
        p
        for p in path.rglob("*")
        if p.is_file() and (exclude is None or exclude not in p.relative_to(path).parts)
    ]
    return sum(p.stat().st_size for p in files) / 2**20


def _preprocessing_text(steps: Sequence[str]) -> str:
    if not steps:
        return "none"
    return ", ".join(STEP_TEXT.get(s, f"`{s}`") for s in steps)


def _best_entry(summary: dict) -> dict:
    history = summary.get("history", [])
    if not history:
        return {}
    best_step = summary.get("train_state", {}).get("best_step")
    for entry in history:
        if entry.get("step") == best_step:
            return dict(entry)
    return dict(max(history, key=lambda e: e.get("score", -1.0)))


def _pieces(path: Path) -> int | None:
    if not path.is_file():
        return None
    import sentencepiece as spm

    return int(spm.SentencePieceProcessor(model_file=str(path)).get_piece_size())


def mixture_section(summary: dict, stats: dict, direction: str) -> str:
    """The data mixture, the run, and the dev BLEU the run measured (training_summary.json)."""
    mix = summary.get("mixture", {})
    weights, sizes = mix.get("weights", {}), mix.get("sizes", {})
    domain_stats = stats.get("domains", {})
    chosen = (
        "the most frequent headwords of two characters or more by wordfreq's Chinese list "
        "(`zh_frequency.txt`)"
        if mix.get("dict_order") == "frequency"
        else "a random share"
    )
    lines = [
        "Training mixture, per epoch (`toolchain/mixture.py`): a weight's integer part is",
        "whole copies, its fraction a random share drawn afresh each epoch; dictionary entries",
        'are cut to their first short sense (a proper name\'s to the name: "Beijing", not',
        '"Beijing municipality, capital of ..."), one per headword, at most '
        f"{mix.get('dict_cap', 0):,}: {chosen}.",
        "",
        "| source | weight | pairs in an epoch | share | pairs in its training split |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    total = sum(sizes.values()) or 1.0
    for name in sorted(sizes, key=lambda n: (n != TATOEBA, n)):
        train = domain_stats.get(name, {}).get("train")
        if name == TATOEBA and weights.get(name):
            train = round(sizes[name] / weights[name])
        corpus_n = f"{train:,}" if isinstance(train, int) else "-"
        lines.append(
            f"| {DOMAIN_TITLES.get(name, name)} | {weights.get(name, 0):g} | "
            f"{round(sizes[name]):,} | {100 * sizes[name] / total:.0f} % | {corpus_n} |"
        )
    lines.append(f"| total | | {round(total):,} | 100 % | |")
    if direction == "en-zh":
        lines += [
            "",
            "English → Chinese trains on these very pairs with the sides swapped (English",
            "source, Chinese target); the Chinese targets are converted Traditional →",
            "Simplified (OpenCC `t2s`) and keep their own punctuation.",
        ]
    return "\n".join(lines) + "\n"


def training_section(summary: dict, manifest: dict, ckpt: Path) -> str:
    """Model, vocabulary, schedule, steps and time of a mixture run."""
    arch, cfg, run = manifest["architecture"], summary.get("config", {}), summary.get("run", {})
    state = summary.get("train_state", {})
    src, tgt = _pieces(ckpt / "source.spm"), _pieces(ckpt / "target.spm")
    spm_text = f"{src:,} + {tgt:,} pieces" if src and tgt else "the run's"
    vocab_n = summary.get("vocab_size", arch.get("vocab_size"))
    warm = summary.get("warm_start")
    warm_text = (
        f" Warm start from `{warm['from']}`: {warm.get('tensors')} tensors of the same shape"
        f" copied, and the embedding rows of the {warm.get('rows'):,} pieces the two"
        " vocabularies share."
        if warm
        else " Fresh initialisation."
    )
    if warm and warm.get("composed_rows"):
        warm_text += (
            f" The source model gained {warm['composed_rows']:,} whole-word pieces"
            " (`toolchain/vocab_extend.py`: frequent words such as 你好 that the old pieces"
            " split and do not explain, each with and without the word-start mark); each"
            " new row started as the mean of the rows of the pieces it replaces."
        )
    if warm and state.get("warmup_from"):
        # The summary holds one session's settings; a warm-started run spans several.
        warm_text += (
            f" The mixture and peak learning rate given here are those of the last session"
            f" (steps {state['warmup_from']}–{summary.get('steps', '?')}); the earlier"
            " sessions of the run used other weights."
        )
    history = summary.get("history", [])
    return (
        f"Marian (transformers `MarianMTModel`): d_model {arch['d_model']}, "
        f"{arch['encoder_layers']} encoder + {arch['decoder_layers']} decoder layers, "
        f"{arch['heads']} heads, FFN {arch['ffn']}, {arch['activation']}, tied embeddings; "
        f"{summary.get('params', 0) / 1e6:.1f} M parameters. Vocabulary: two SentencePiece "
        f"unigram models ({spm_text}) trained on the mixture, joined into {vocab_n:,} ids; "
        "the `<pad>` row of the tied embedding is kept at zero throughout "
        f"(`toolchain/checkpoints.zero_pad_row`).{warm_text}\n\n"
        f"Training (`toolchain/long_train.py`): label smoothing {cfg.get('label_smoothing')}, "
        f"dropout {cfg.get('dropout')}, AdamW peak lr {cfg.get('lr')} with "
        f"{cfg.get('warmup_steps')} warm-up steps and cosine decay over the run, token "
        f"batches of {cfg.get('batch_tokens')}, seed {cfg.get('seed')}; "
        f"{summary.get('steps', '?')} steps ({_passes(state.get('epoch', 0))}) in "
        f"{summary.get('train_minutes', '?')} minutes of training on 2 CPU "
        f"cores (torch {torch.__version__}), resumable and checkpointed every "
        f"{run.get('checkpoint_minutes', '?')} minutes. Dev BLEU every "
        f"{run.get('eval_every', '?')} steps ({len(history)} evaluations); "
        f"{_kept_text(summary, state)}\n"
    )


def _kept_text(summary: dict, state: dict) -> str:
    averaged = summary.get("averaged")
    if averaged:
        steps = ", ".join(str(int(name.rsplit("_", 1)[-1])) for name in averaged)
        return (
            f"the weights kept are the mean of the last {len(averaged)} evaluations' "
            f"(steps {steps}; `train-demo --stage average`); the best single evaluation by "
            f"the selection score was step {_best_entry(summary).get('step', '?')}."
        )
    return (
        f"the weights kept are those of step {state.get('best_step', '?')} "
        f"(`{summary.get('chosen', '?')}`), the best selection score: half Tatoeba dev BLEU, "
        "half the mean over the corpus domains."
    )


def _passes(epoch: int) -> str:
    if epoch == 0:
        return "part of the first pass over the mixture"
    whole = "one full pass" if epoch == 1 else f"{epoch} full passes"
    return f"{whole} over the mixture and part of the next"


def history_section(summary: dict) -> str:
    """Dev BLEU per domain as the run measured it, at the best step and at the last."""
    best, history = _best_entry(summary), summary.get("history", [])
    if not best:
        return ""
    entries = [best] if history[-1]["step"] == best["step"] else [best, history[-1]]
    sizes = summary.get("dev_sizes", {})
    names = [k for k in best if k not in _HISTORY_META]
    steps = " and at the last step " if len(entries) > 1 else ", the last one"
    lines = [
        "Dev BLEU during training (raw model output, greedy, on fixed dev subsets, no",
        f"service pipeline), at the best step by the selection score ({best['step']})"
        + (f"{steps}{entries[-1]['step']}:" if len(entries) > 1 else f"{steps}:"),
        "",
        "| dev subset | sentences | " + " | ".join(f"step {e['step']}" for e in entries) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in entries) + " |",
    ]
    for name in names:
        title = {"all": "all subsets together", "score": "selection score"}.get(name, name)
        size = sizes.get(name, sum(sizes.values()) if name == "all" else "")
        scores = " | ".join(str(e.get(name, "-")) for e in entries)
        lines.append(f"| {title} | {size} | {scores} |")
    return "\n".join(lines) + "\n"


def _bleu_text(direction: str) -> str:
    if direction == "en-zh":
        return "sacrebleu BLEU with its `zh` tokenizer (Chinese split into characters) and chrF"
    return "sacrebleu 13a BLEU and chrF"


def _int8_text(delta: float) -> str:
    if delta < 0:
        return f"INT8 scores {-delta:.2f} BLEU above fp32 with greedy decoding (noise: no cost)."
    return f"INT8 costs {delta:.2f} BLEU against fp32 with greedy decoding."


def figures_section(results: dict, direction: str, model_dir: Path, work: Path) -> str:
    """Tatoeba dev (INT8/fp32 x greedy/beam 4), spans, the other dev sets."""
    rows = "\n".join(
        f"| {name.replace('_', ' ')} | {r['bleu']:.2f} | {r['chrf']:.2f} | {r['seconds']:.1f} |"
        for name in ("int8_beam1", "int8_beam4", "fp32_beam1", "fp32_beam4")
        if (r := results.get(name))
    )
    flag = f" --direction {direction}" if direction != "zh-en" else ""
    model = _rel(model_dir)
    delta = results["fp32_beam1"]["bleu"] - results["int8_beam1"]["bleu"]
    text = (
        "## Dev-split figures\n\n"
        "Through the service's own `Translator` (cleaning, segmentation, placeholders,\n"
        f"post-processing; cache off), {_bleu_text(direction)} on "
        f"{results['int8_beam1']['n']} Tatoeba dev pairs, detokenised output. Reproduce with\n"
        f"`zh-en-translator evaluate build/demo/dev.tsv{flag} --model {model} [--beam 4]\n"
        f"[--precision fp32 --model {_rel(work / 'eval-fp32')}]` after `zh-en-translator "
        "train-demo\n"
        "--stage split` (the fp32 copy is written by `--stage card`, which reruns all of\n"
        "these).\n\n"
        "| model | BLEU | chrF | seconds |\n| --- | --- | --- | --- |\n"
        f"{rows}\n\n{_int8_text(delta)}\n"
    )
    spans = results.get("spans_int8_beam1", {})
    survival = spans.get("chinese_spans") or spans.get("span_survival", {})
    if spans:
        counted = (
            ""
            if direction == "zh-en"
            else "; counted in the Chinese reference, where the same span stands: in English"
            " input the service masks numbers, URLs, e-mail addresses and code, the model has"
            " to copy Latin names and words"
        )
        text += (
            f"\nSpans: on {spans.get('n', 0)} dev sentences whose name or numeral was swapped,"
            " on both sides, for a Latin/digit span (`build/demo/dev_spans.tsv`),"
            f" {survival.get('verbatim', 0)} of {survival.get('spans', 0)} spans came out"
            f" verbatim ({100 * (survival.get('ratio') or 0):.1f} %{counted}); BLEU"
            f" {spans.get('bleu', 0.0):.2f}.\n"
        )
    sets = results.get("sets", {})
    if sets:
        text += (
            "\nOther dev sets, INT8, greedy, same pipeline (`zh-en-translator evaluate FILE"
            f"{flag} --model {model}`); no pair with the same Chinese side was trained on:\n\n"
            "| dev set | sentences | BLEU | chrF | spans verbatim |\n"
            "| --- | ---: | ---: | ---: | ---: |\n"
        )
        for name, r in sets.items():
            surv = r.get("span_survival", {})
            kept = f"{surv['verbatim']}/{surv['spans']}" if surv.get("spans") else "-"
            text += (
                f"| {SET_TITLES.get(name, name)} | {r['n']} | {r['bleu']:.2f} | "
                f"{r['chrf']:.2f} | {kept} |\n"
            )
    return text


def ct2_section(results: dict, model_dir: Path) -> str:
    """The CTranslate2 conversion check, as reported by toolchain/bench/ct2_check.py."""
    ct2 = results.get("ct2")
    if not ct2:
        return ""
    cmd = (
        f"zh-en-translator bench --ct2-check {_rel(model_dir / 'checkpoint')} "
        f"--model-dir {_rel(model_dir)} --dev build/demo/dev.tsv --limit {ct2.get('sentences', 0)}"
    )
    if "error" in ct2:
        return f"\n## CTranslate2\n\n`ct2-transformers-converter` failed: {ct2['error']}.\n"
    fp32, int8 = ct2["ct2_fp32_vs_torch"], ct2["ct2_int8_vs_torch"]
    verdict = "converts cleanly" if ct2.get("passed") else "does NOT convert cleanly"
    text = (
        "\n## CTranslate2\n\n"
        f"`checkpoint/` {verdict} with `ct2-transformers-converter` (CTranslate2): on "
        f"{ct2['sentences']} Tatoeba dev sentences, the same source ids, greedy, batch 1, the "
        f"CTranslate2 float32 output is token for token PyTorch's on {fp32['identical']} "
        f"({100 * fp32['ratio']:.1f} %; required {100 * ct2.get('min_identical', 0.95):.0f} %), "
        f"and with `--quantization int8` on {int8['identical']} ({100 * int8['ratio']:.1f} %)."
    )
    if "ct2_int8_vs_project_int8" in ct2:
        ours = ct2["ct2_int8_vs_project_int8"]
        mine = ct2["project_int8_vs_torch"]
        text += (
            f" CTranslate2 INT8 against this project's INT8 engine: {100 * ours['ratio']:.1f} %"
            f" identical (the engine against PyTorch: {100 * mine['ratio']:.1f} %)."
        )
    norm = ct2.get("pad_row_max")
    if norm is not None:
        zero = norm < PAD_ZERO
        text += (
            " CTranslate2 starts the decoder from a zero embedding where transformers embeds"
            f" `<pad>`: this checkpoint's tied `<pad>` row is {'zero' if zero else 'not zero'}"
            f" (largest |value| {norm:g})."
        )
    bleu = ct2.get("bleu_vs_references", {})
    if bleu:
        text += " Raw-output BLEU against the references: " + ", ".join(
            f"{k} {v:.2f}" for k, v in bleu.items()
        )
        text += "."
    return text + f" Reproduce with `{cmd}`.\n"


def samples_section(results: dict, direction: str) -> str:
    samples = results.get("samples")
    if not samples:
        return ""
    names = DIRECTIONS[direction]
    lines = [
        "\n## Samples\n",
        "Through the service (INT8, greedy), regenerated by `--stage card`:\n",
        f"| {names['source']} | {names['target']} |",
        "| --- | --- |",
    ]
    lines += [f"| {src} | {hyp.replace('|', '¦')} |" for src, hyp in samples]
    return "\n".join(lines) + "\n"


def export_check_text(manifest: dict) -> str:
    recorded = manifest.get("verification", {}).get("int8")
    if not recorded:
        return ""
    verification = json.dumps(recorded)
    return f"\nExport check (INT8 engine vs PyTorch, greedy, same input ids): {verification}.\n"


def _quant_text(manifest: dict) -> str:
    quant = manifest.get("quantization")
    if not quant:
        return "none (fp32)"
    kind = "per-channel" if quant["per_channel"] else "per-tensor"
    reduce = ", 7-bit reduce-range" if quant["reduce_range"] else ""
    flags = ", ".join(quant.get("cpu_flags", []))
    return (
        f"ONNX Runtime dynamic INT8 ({quant['weight_type']} weights, {kind}{reduce}), "
        f"chosen for {quant['target']} (CPU flags seen: {flags})"
    )


def _size_text(model_dir: Path, manifest: dict) -> str:
    return (
        f"Size: the INT8 service files {_dir_mb(model_dir, exclude='checkpoint'):.1f} MB; "
        f"`checkpoint/` (PyTorch, fp16, for benchmarks and re-exports) "
        f"{_dir_mb(model_dir / 'checkpoint'):.1f} MB; {_dir_mb(model_dir):.1f} MB in all. "
        f"Quantization: {_quant_text(manifest)}.\n"
    )
