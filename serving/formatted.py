"""Translate texts that are HTML or XML, or use a glossary, in one call of the pipeline.

For each text: the markup is parsed into segments (``text/markup.py``), the glossary's
source terms become marks (``serving/glossary.py``), a sentence short of placeholders
leaves some tags out of the model input (:meth:`~text.tagplace.Segment.fit_budget`);
then every segment of every text goes to :meth:`Translator.translate` in one call, so
the batcher and the cache see them all; then capitals after a leading tag, the target
terms and the tags are put back, in that order. Plain text without a glossary goes to
the translator unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine import GenerationOptions
from serving.glossary import TermMasks, TermMatcher, fit_terms, mask_terms, unmask_terms
from serving.jobs import RequestStats
from serving.policy import BlockedWords
from serving.translator import Translator
from text.markup import MarkupDocument, MarkupOptions, parse_markup
from text.tagplace import Segment

logger = logging.getLogger(__name__)


@dataclass
class Formatted:
    """The translations, what they cost, and what could not be done exactly."""

    texts: list[str]
    stats: RequestStats
    unapplied: list[str] = field(default_factory=list)  # glossary terms, in first-seen order
    tags_placed: int = 0  # marks placed by position, not where the model put them


def translate_formatted(
    translator: Translator,
    texts: Sequence[str],
    markup: MarkupOptions | None = None,
    glossary: TermMatcher | None = None,
    options: GenerationOptions | None = None,
    use_cache: bool = True,
) -> Formatted:
    """Translate *texts* as markup (if *markup*) with *glossary* (if given)."""
    if markup is None and glossary is None:
        results, stats = translator.translate(texts, options, use_cache=use_cache)
        return Formatted(results, stats)
    docs = [parse_markup(t, markup) for t in texts] if markup is not None else []
    segments: list[Segment | None] = [s for d in docs for s in d.segments]
    units = [s.masked for s in segments if s is not None] if docs else list(texts)
    if not docs:
        segments = [None] * len(units)
    finder = translator.direction.source.find_spans
    masks = [
        mask_terms(u, glossary, finder, s.plain if s else None) if glossary else TermMasks(u)
        for u, s in zip(units, segments, strict=True)
    ]
    sent = []
    for i, (mask, segment) in enumerate(zip(masks, segments, strict=True)):
        text = segment.fit_budget(mask.text, finder) if segment else mask.text
        text, masks[i] = fit_terms(text, mask, finder)
        sent.append(text)
    outputs, stats = (
        translator.translate(sent, options, use_cache=use_cache) if sent else ([], RequestStats())
    )
    result = Formatted([], stats)
    finished = [
        _finish(translator, output, went, mask, segment, result)
        for output, went, mask, segment in zip(outputs, sent, masks, segments, strict=True)
    ]
    if docs:
        result.texts, result.tags_placed = _render(docs, finished, sent)
    else:
        result.texts = finished
    result.unapplied = list(dict.fromkeys(result.unapplied))
    return result


def _finish(
    translator: Translator,
    output: str,
    went: str,
    masks: TermMasks,
    segment: Segment | None,
    result: Formatted,
) -> str:
    """One translated unit with capitals after tags and the target terms put back."""
    if segment is not None and translator.direction.target.capitalize and output != went:
        output = segment.recapitalize(output)
    output, missing = unmask_terms(output, masks, translator.direction.target.sentence_gap == " ")
    result.unapplied += [*masks.unapplied, *missing]
    if masks.targets:  # the policy saw the marks, not the terms the glossary put there
        BlockedWords(translator.settings.blocked_words).check(output)
    return output


def _render(
    docs: Sequence[MarkupDocument], outputs: Sequence[str], sent: Sequence[str]
) -> tuple[list[str], int]:
    """Each document with its segments' translations, and the tags placed by position."""
    rendered, placed, at = [], 0, 0
    for doc in docs:
        count = len(doc.segments)
        text, moved = doc.render(outputs[at : at + count], sent[at : at + count])
        rendered.append(text)
        placed += moved
        at += count
    return rendered, placed
