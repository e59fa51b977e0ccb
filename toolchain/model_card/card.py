"""The card itself: the Tatoeba-only and the mixture templates, filled in and wrapped."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import torch

from toolchain.corpus.frequency import NAME as FREQUENCY_SOURCE
from toolchain.model_card.common import DIRECTIONS, TATOEBA, _manifest, direction_of
from toolchain.model_card.notice import (
    ATTRIBUTION,
    _read_stats,
    _unique,
    corpus_records,
    notice_section,
)
from toolchain.model_card.sections import (
    _preprocessing_text,
    _size_text,
    ct2_section,
    export_check_text,
    figures_section,
    history_section,
    mixture_section,
    samples_section,
    training_section,
)

WIDTH = 90  # the card's prose is wrapped to this many characters


def reflow(text: str, width: int = WIDTH) -> str:
    """Wrap the card's paragraphs and list items to *width*; tables and headings stay."""
    blocks = []
    for block in text.strip("\n").split("\n\n"):
        if block.lstrip().startswith(("|", "#", "```")):
            blocks.append(block)
            continue
        items, current = [], []
        # " %" stays on one line with its number: the space is held back while wrapping.
        for line in block.replace(" %", "\0%").splitlines():
            if line.startswith("- ") and current:
                items.append(current)
                current = []
            current.append(line.strip())
        items.append(current)
        wrapped = []
        for item in items:
            joined = " ".join(item)
            bullet = joined.startswith("- ")
            wrapped.append(
                textwrap.fill(
                    joined,
                    width=width,
                    subsequent_indent="  " if bullet else "",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
        blocks.append("\n".join(wrapped).replace("\0", " "))
    return "\n\n".join(blocks) + "\n"


def write_card(model_dir: Path, work: Path, results: dict, *, corpus: Path | None = None) -> str:
    """Write ``model_dir/README.md`` from *results* (:func:`evaluate_all`); return the text."""
    manifest = _manifest(model_dir)
    summary_path = model_dir / "checkpoint" / "training_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    direction = direction_of(manifest)
    if summary.get("mixture"):
        text = _mixture_card(model_dir, work, manifest, summary, results, corpus, direction)
    elif direction == "zh-en":
        text = _tatoeba_card(model_dir, work, manifest, summary, results)
    else:
        raise ValueError(f"{model_dir}: an {direction} model comes only from the mixture run")
    (model_dir / "README.md").write_text(text, encoding="utf-8")
    return text


def _tatoeba_card(model_dir: Path, work: Path, manifest: dict, summary: dict, results: dict) -> str:
    arch, cfg = manifest["architecture"], summary.get("config", {})
    head = _CARD.format(
        params=summary.get("params", 0) / 1e6,
        arch=arch,
        cfg=cfg,
        minutes=summary.get("train_minutes", "?"),
        epochs=len(summary.get("history", [])),
        steps=summary.get("steps", "?"),
        chosen=summary.get("chosen", "?"),
        size=reflow(_size_text(model_dir, manifest)),
        torch=torch.__version__,
    )
    # The hand-written head keeps its own line breaks; what follows is generated.
    generated = (
        figures_section(results, "zh-en", model_dir, work)
        + export_check_text(manifest)
        + ct2_section(results, model_dir)
        + samples_section(results, "zh-en")
        + "\n"
        + notice_section([], "", {}, None, None)
    )
    return head.rstrip("\n") + "\n\n" + reflow(generated)


# What the card says of Latin-script spans, by direction.
SPANS_TEXT = {
    "en-zh": (
        "In English input the service protects numbers, URLs, e-mail addresses, code,"
        " format placeholders and markup; Latin names and words go through the model (the"
        " span figures below show how often they come out unchanged)."
    ),
    "zh-en": (
        "Numbers, Latin-script words, URLs and e-mail addresses in the Chinese are"
        " protected by placeholders, not understood."
    ),
}


def _trained_sources(records: list[dict], trained: list[str]) -> str:
    return ", ".join(
        _unique(
            ATTRIBUTION.get(r["source"], (r["source"],))[0]
            for r in records
            if r.get("domain") in trained
        )
    )


_SHOP_CLAUSE = " shop software strings (storefronts and their admin screens),"
_MIXTURE_INTRO = """# {title}: a small {arrow} Marian model trained on Tatoeba and a \
registry-built corpus

A demo model of the service, trained on CPU by `zh-en-translator train-demo --corpus
build/corpus --direction {direction}` so that the service works offline out of the box. For
real work use a published model (see the project README).

## Good for, not good for

- **Trained for:** short everyday sentences (Tatoeba), software interface strings and
  help-page sentences (LibreOffice, Debian packages, Django),{shop} with a smaller share
  of Bible verses and dictionary glosses. The per-set figures below say how far that goes.
- **Not good for:** news, literature, legal or medical text, long documents, rare words
  and names. It is a {params:.1f} M-parameter model trained for {minutes} minutes on 2 CPU
  cores; far from its data it writes plausible but wrong {target}. {spans}

## Data

Tatoeba Chinese–English sentence pairs, the train side of the dev split (1,500 pairs held
out by groups of linked sentences), plus the corpus `make corpus` builds from registry
packages (`toolchain/corpus/`): {sources}. Sources, attribution and licences: NOTICE below.
Pairs whose Chinese side is in `tests/data/product_copy.tsv`, `tests/data/docs.tsv` or the
Tatoeba dev split were dropped from training. Source preprocessing (recorded in
`manifest.json`): {preprocessing}. Latin/digit spans were replaced by placeholder tokens
U+E000–U+E009 on both sides where they appear verbatim on both, so the model learns to
carry placeholders.
"""


def _mixture_card(
    model_dir: Path,
    work: Path,
    manifest: dict,
    summary: dict,
    results: dict,
    corpus: Path | None,
    direction: str,
) -> str:
    names = DIRECTIONS[direction]
    ckpt = model_dir / "checkpoint"
    records, origin = corpus_records(corpus, manifest)
    stats = _read_stats(corpus)
    mix = summary.get("mixture", {})
    if mix.get("dict_order") != "frequency":  # the word list shaped nothing in this run
        records = [r for r in records if r["source"] != FREQUENCY_SOURCE]
    sizes, weights = mix.get("sizes", {}), mix.get("weights", {})
    tatoeba_pairs = round(sizes[TATOEBA] / weights[TATOEBA]) if weights.get(TATOEBA) else None
    params = summary.get("params", 0) / 1e6
    trained = [d for d, n in sizes.items() if n > 0]
    sources = _trained_sources(records, trained)
    text = _MIXTURE_INTRO.format(
        title=manifest.get("model_id", model_dir.name),
        arrow=names["arrow"],
        target=names["target"],
        direction=direction,
        params=params,
        minutes=summary.get("train_minutes", "?"),
        spans=SPANS_TEXT[direction],
        sources=sources,
        shop=_SHOP_CLAUSE if "shop" in trained else "",
        preprocessing=_preprocessing_text(manifest.get("source_preprocessing", [])),
    )
    text += f"""
{mixture_section(summary, stats, direction)}
## Model

{training_section(summary, manifest, ckpt)}
{history_section(summary)}
{_size_text(model_dir, manifest)}
"""
    return reflow(
        text
        + figures_section(results, direction, model_dir, work)
        + export_check_text(manifest)
        + ct2_section(results, model_dir)
        + samples_section(results, direction)
        + "\n"
        + notice_section(records, origin, stats, trained, tatoeba_pairs)
    )


_CARD = """# demo-zh-en: a small Chinese → English Marian model trained on Tatoeba

The service's default model, trained on CPU by `zh-en-translator train-demo` so that the
service works offline out of the box. It is a demo: use `Helsinki-NLP/opus-mt-zh-en` for
real work (see the project README).

## Good for, not good for

- **Good for:** short everyday sentences like those of Tatoeba ("我明天要去上班。" →
  "I'm going to work tomorrow.", "你想喝点什么？" → "What do you want to drink?"),
  greetings, simple questions and statements.
- **Not good for:** news, product copy, technical or legal text, long documents, rare
  words and names. It learned from 27 thousand short sentence pairs; anything far from
  that reads as a plausible but wrong sentence ("我明天要去北京。" comes out as "I'm going
  to Hokkaido tomorrow."). Numbers, Latin-script words, URLs and
  e-mail addresses are protected by placeholders (below), not understood.
- **Through the service:** the pipeline keeps what the model cannot be trusted with, and
  sets the English: "他说：“我明天来。”" → "He said, "I'll come tomorrow."", "我喜欢猫😀。"
  → "I like cats 😀.", "价格：¥1,299.00" → "Prices are ¥1,299.00". The words around
  the spans are still the model's: "尺码：S、M、L、XL。" → "There are S, M, L, XL
  password.", "满99元包邮。" → "99 thousand yens are full."

## Data

Tatoeba Chinese–English sentence pairs (tatoeba.org), **CC-BY 2.0 FR**, as compiled by
manythings.org: 28,155 pairs. The dev split (1,500 pairs) is carved out by groups of
linked sentences (a sentence and its other translations stay on one side). Source text is
preprocessed as recorded in `manifest.json`: OPUS-MT's punctuation mapping and
Traditional → Simplified conversion (OpenCC `t2s`). Latin/digit spans were replaced by
placeholder tokens U+E000–U+E009 on both sides where they appear verbatim in the English,
and names/numerals got extra placeholder copies, so the model learns to carry placeholders.

## Model

Marian (transformers `MarianMTModel`): d_model {arch[d_model]}, {arch[encoder_layers]}
encoder + {arch[decoder_layers]} decoder layers, {arch[heads]} heads, FFN {arch[ffn]},
{arch[activation]}, tied embeddings, joint vocabulary of {arch[vocab_size]} pieces from
two 4k SentencePiece unigram models; {params:.1f} M parameters. Training: label smoothing
{cfg[label_smoothing]}, dropout {cfg[dropout]}, AdamW lr {cfg[lr]} with {cfg[warmup_steps]}
warm-up steps and cosine decay, token batches of {cfg[batch_tokens]}, seed {cfg[seed]};
{epochs} epochs ({steps} steps) in {minutes} minutes on 2 CPU cores (torch {torch});
checkpoint kept: `{chosen}` (best dev BLEU among the best epoch and checkpoint averages).

{size}"""
