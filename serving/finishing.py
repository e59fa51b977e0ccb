"""From the model's masked output to the sentence a person reads, rescues included.

:meth:`Finisher.accept` typesets the output (English targets), puts the spans back,
mirrors the final mark and capitalises; it refuses an output that lost a span or runs
away repeating itself. :meth:`Finisher.rescue` then tries, batched over every refused
sentence of the request: a wider beam that may not repeat itself, the same with other
placeholder ids, and last a repair that inserts lost spans where the source puts them.
Every sentence comes out whole: nothing is translated in fragments.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

from engine import GenerationOptions
from serving.jobs import Job, Occurrence
from text.languages import Direction
from text.placement import remask, repair_placeholders
from text.postprocess import (
    capitalize_first,
    drop_unmirrored_period,
    has_runaway_repeat,
    mirror_final_punctuation,
    strip_debris,
)
from text.spans import PLACEHOLDERS, SpanGuard
from text.typography import chinese_punctuation, typeset

logger = logging.getLogger(__name__)

# Texts and options in, raw outputs out, within the job's deadline.
Run = Callable[[list[str], GenerationOptions], list[str]]
NO_REPEAT_NGRAM = 3


@dataclasses.dataclass
class _Attempt:
    occurrence: Occurrence
    output: str  # the latest masked output
    repeated: bool = False


class Finisher:
    """Post-processing and rescue for one direction."""

    def __init__(self, guard: SpanGuard, direction: Direction, fallback_beam: int) -> None:
        self.guard = guard
        self.direction = direction
        self.fallback_beam = fallback_beam

    def _typeset(self, output: str, source: str) -> str:
        if self.direction.target.ascii_punctuation:
            return typeset(output, source)
        return chinese_punctuation(output)

    def accept(self, output: str, occurrence: Occurrence) -> str | None:
        """The finished sentence, or None if *output* lost a span or loops."""
        source = occurrence.source
        output = self._typeset(output, source)
        restored = self.guard.restore(output, occurrence.protected)
        if restored is None or has_runaway_repeat(restored):
            return None
        return self.polish(restored, occurrence)

    def polish(self, translation: str, occurrence: Occurrence) -> str:
        """Final mark mirrored from the source (or dropped where it has none); a capital
        where the target uses one; the source kept if the model produced nothing."""
        if not translation.strip():
            # Only special tokens came out: keep the source sentence visible rather
            # than silently drop it from the translation.
            logger.warning(
                "empty translation for a %d-character sentence; kept the source",
                len(occurrence.source),
            )
            return occurrence.source
        target, source = self.direction.target, occurrence.source
        text = mirror_final_punctuation(translation, source, target)
        text = drop_unmirrored_period(text, source, occurrence.protected.spans)
        if target.capitalize:
            text = capitalize_first(text, occurrence.protected.spans)
        return text

    def rescue(
        self, refused: Sequence[tuple[Occurrence, str]], job: Job, run: Run
    ) -> dict[int, str]:
        """Finish every refused (occurrence, output): retries first, repair last."""
        attempts = [_Attempt(occ, out, self._repeats(out, occ)) for occ, out in refused]
        for attempt in attempts:
            if attempt.repeated:
                job.stats.repetition_retries += 1
            else:
                job.stats.fallbacks += 1
        options = dataclasses.replace(
            job.options, beam_size=self.fallback_beam, no_repeat_ngram=NO_REPEAT_NGRAM
        )
        done: dict[int, str] = {}
        for shifted in (False, True):
            attempts = self._retry(attempts, options, shifted, run, done)
            if not attempts:
                return done
        for attempt in attempts:
            done[attempt.occurrence.index] = self._repair(attempt)
        return done

    def _repeats(self, output: str, occurrence: Occurrence) -> bool:
        restored = self.guard.restore(output, occurrence.protected)
        return restored is not None and has_runaway_repeat(restored)

    def _retry(
        self,
        attempts: list[_Attempt],
        options: GenerationOptions,
        shifted: bool,
        run: Run,
        done: dict[int, str],
    ) -> list[_Attempt]:
        """One retry of every attempt; return those still refused."""
        sources: list[str] = []
        ways_back: list[dict[int, str]] = []
        for attempt in attempts:
            masked = attempt.occurrence.protected.text
            count = len(attempt.occurrence.protected.spans)
            back: dict[int, str] = {}
            if shifted and count:
                masked, back = remask(masked, count)
            sources.append(masked)
            ways_back.append(back)
        outputs = run(sources, options)
        still = []
        for attempt, output, back in zip(attempts, outputs, ways_back, strict=True):
            attempt.output = strip_debris(output).translate(back)
            finished = self.accept(attempt.output, attempt.occurrence)
            if finished is None:
                still.append(attempt)
            else:
                done[attempt.occurrence.index] = finished
        return still

    def _repair(self, attempt: _Attempt) -> str:
        """Last resort: the latest output with lost spans inserted, repetition or not."""
        occurrence = attempt.occurrence
        protected = occurrence.protected
        logger.info("span repair: placing %d span(s) by position", len(protected.spans))
        output = attempt.output
        output = self._typeset(output, occurrence.source)
        if protected.spans and self.guard.mode == "placeholder":
            expected = "".join(PLACEHOLDERS[: len(protected.spans)])
            output = repair_placeholders(output, protected.text, expected)
        restored = self.guard.restore(output, protected)
        if restored is None:  # verbatim mode: what is missing goes at the end
            missing = [span for span in protected.spans if span not in output]
            restored = " ".join([output, *missing])
        return self.polish(restored, occurrence)
