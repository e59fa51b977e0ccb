"""How one request wants its sentences generated; hashable, so it keys batches and cache."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GenerationOptions:
    beam_size: int = 1
    # Output length limit: a * source tokens + b, capped by the model's positions.
    length_ratio: float = 2.0
    length_extra: int = 10
    min_new_tokens: int = 0
    max_new_tokens: int | None = None
    length_penalty: float = 1.0
    # Stop a sentence that starts looping (see engine.search.runaway_tail).
    loop_guard: bool = True
    # Beam search refuses to repeat an n-gram of this size, or a token three times in a
    # row (engine.search.repeats); 0 turns it off. The translator's repetition retry sets it.
    no_repeat_ngram: int = 0
