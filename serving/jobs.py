"""One request's work: its options, deadline and cache flag, its cost, its sentences."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from engine import GenerationOptions
from text.spans import Protected


@dataclass
class RequestStats:
    """What one request cost: reported in the request log line and in metrics."""

    sentences: int = 0
    cache_hits: int = 0
    # Sentences whose first translation lost a span, or ran away repeating itself.
    fallbacks: int = 0
    repetition_retries: int = 0


@dataclass
class Job:
    """Everything a request's pipeline needs besides its texts."""

    options: GenerationOptions
    deadline: float  # time.monotonic() value
    # False neither reads nor fills the cache (a client's Cache-Control: no-cache).
    use_cache: bool = True
    stats: RequestStats = field(default_factory=RequestStats)

    @classmethod
    def within(cls, options: GenerationOptions, seconds: float, use_cache: bool = True) -> Job:
        return cls(options, time.monotonic() + seconds, use_cache)

    def remaining(self) -> float:
        """Seconds left before the deadline, never negative."""
        return max(0.0, self.deadline - time.monotonic())


@dataclass
class Occurrence:
    """One sentence of the request, at position *index* among its pieces."""

    index: int
    source: str
    protected: Protected


@dataclass
class SentenceGroup:
    """Occurrences whose masked text is the same: translated (or looked up) once.

    "满99元包邮。" and "满199元包邮。" mask to the same text, so they share a group, a
    cache entry and an engine row; each occurrence gets its own spans back.
    """

    key: tuple  # the cache key
    masked: str
    members: list[Occurrence] = field(default_factory=list)
    output: str | None = None  # the masked translation
    from_cache: bool = False


def group_sentences(
    occurrences: list[tuple[Occurrence, tuple]],
) -> dict[tuple, SentenceGroup]:
    """Group (occurrence, cache key) pairs by key, in first-seen order."""
    groups: dict[tuple, SentenceGroup] = {}
    for occurrence, key in occurrences:
        group = groups.get(key)
        if group is None:
            group = groups[key] = SentenceGroup(key, occurrence.protected.text)
        group.members.append(occurrence)
    return groups
