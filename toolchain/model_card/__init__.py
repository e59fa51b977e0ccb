"""Evaluate a demo model every way its card reports, and write the card (README.md).

Both directions (the model directory's manifest says which). The card of a model trained
on the mixture (``train-demo --corpus``; its ``training_summary.json`` has ``mixture``)
describes the mixture, the run and the dev BLEU the run measured, and ends with a NOTICE
that lists every training source with its attribution and licence: from the corpus's
``sources.json`` when given, else from what the export recorded in ``manifest.json``,
else from the pinned source list in ``toolchain/corpus/sources.py``. The card of the
Tatoeba-only model keeps its hand-written text.

Figures, all through ``toolchain.evaluate`` (the service's Translator, cache off): the
Tatoeba dev split with INT8 and fp32, greedy and beam 4; span survival; INT8 greedy on
every corpus dev domain (``dev.<domain>.tsv``) and on the product-copy and documentation
sets of ``tests/data``; then the CTranslate2 conversion check
(``toolchain/bench/ct2_check.py``) and a few sample translations.
"""

from __future__ import annotations

from toolchain.model_card.card import WIDTH, reflow, write_card
from toolchain.model_card.common import DIRECTIONS, TATOEBA, direction_of
from toolchain.model_card.evaluation import (
    CARD_SAMPLES,
    HELD_OUT_SETS,
    chinese_span_survival,
    ct2_check,
    dev_sets,
    evaluate_all,
    sample_translations,
)
from toolchain.model_card.notice import (
    ATTRIBUTION,
    TATOEBA_NOTICE,
    corpus_records,
    notice_section,
    training_data,
)
from toolchain.model_card.sections import (
    DOMAIN_TITLES,
    PAD_ZERO,
    SET_TITLES,
    STEP_TEXT,
    ct2_section,
    export_check_text,
    figures_section,
    history_section,
    mixture_section,
    samples_section,
    training_section,
)
from toolchain.model_card.ship import ship_checkpoint

# The public names of the former single module; the submodules are its internals.
__all__ = [
    "ATTRIBUTION",
    "CARD_SAMPLES",
    "DIRECTIONS",
    "DOMAIN_TITLES",
    "HELD_OUT_SETS",
    "PAD_ZERO",
    "SET_TITLES",
    "STEP_TEXT",
    "TATOEBA",
    "TATOEBA_NOTICE",
    "WIDTH",
    "chinese_span_survival",
    "corpus_records",
    "ct2_check",
    "ct2_section",
    "dev_sets",
    "direction_of",
    "evaluate_all",
    "export_check_text",
    "figures_section",
    "history_section",
    "mixture_section",
    "notice_section",
    "reflow",
    "sample_translations",
    "samples_section",
    "ship_checkpoint",
    "training_data",
    "training_section",
    "write_card",
]
