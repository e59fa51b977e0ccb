"""Child engine factories for tests/test_engine_pool.py.

They run in the spawned engine processes, which import them by name (the children get
the parent's ``sys.path``), so they live in a module of their own, at its top level.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from engine import GenerationOptions, ModelDir
from engine.worker import ChildEngine, build_engine

# A batch holding this sentence kills the process running it, as a crash would.
KILL = "KILL-THIS-PROCESS"


class DyingEngine:
    """The real engine, except that a batch holding :data:`KILL` ends its process."""

    def __init__(self, engine: ChildEngine) -> None:
        self._engine = engine
        self.model_id = engine.model_id
        self.max_source_tokens = engine.max_source_tokens

    def translate(self, sources: Sequence[str], options: GenerationOptions) -> list[str]:
        if KILL in sources:
            os._exit(3)
        return self._engine.translate(sources, options)


def dying_engine(model: ModelDir, intra: int, inter: int, spinning: bool) -> DyingEngine:
    return DyingEngine(build_engine(model, intra, inter, spinning))


# Batches holding this sentence wait for each other: they pass only if decoded at once.
PAIR = "PAIR-WITH-ANOTHER-BATCH"


class PairingEngine:
    """The real engine, except that two batches holding :data:`PAIR` must meet."""

    def __init__(self, engine: ChildEngine) -> None:
        self._engine = engine
        self._barrier = threading.Barrier(2, timeout=20)
        self.model_id = engine.model_id
        self.max_source_tokens = engine.max_source_tokens

    def translate(self, sources: Sequence[str], options: GenerationOptions) -> list[str]:
        if PAIR in sources:
            self._barrier.wait()  # BrokenBarrierError if the other batch never comes
            sources = [s for s in sources if s != PAIR]
        return self._engine.translate(sources, options)


def pairing_engine(model: ModelDir, intra: int, inter: int, spinning: bool) -> PairingEngine:
    return PairingEngine(build_engine(model, intra, inter, spinning))
