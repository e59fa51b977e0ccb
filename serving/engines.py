"""The seam between the translator and an engine: what it needs, and the default loader.

Tests and tools hand a :class:`~serving.translator.Translator` another
:data:`EngineFactory` (a fake engine, a gated one) instead of reaching into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from config import Settings
from engine import GenerationOptions, ModelDir
from serving.engine_pool import ProcessEngine


class TranslationEngine(Protocol):
    """What the translator uses of an engine."""

    model_id: str
    span_mode: str
    source_lang: str
    target_lang: str
    max_source_tokens: int

    def preprocess(self, text: str) -> str:
        """The model's own source preprocessing (what it saw in training)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Source tokens *text* becomes, end of sentence included."""
        ...

    def translate(self, sources: Sequence[str], options: GenerationOptions) -> list[str]:
        """Translate a batch of sentences that share *options*."""
        ...


EngineFactory = Callable[[Settings, Path], TranslationEngine]


def load_engine(settings: Settings, model_path: Path) -> TranslationEngine:
    """Load *model_path* in ``engine_processes`` worker processes, or in-process if 0."""
    model = ModelDir.load(model_path, settings.precision)
    processes = settings.engine_processes
    if processes > 0:
        # Enough decoding threads per child that every batch worker can have a batch in
        # flight; each call gets engine_threads intra-op threads, as in-process.
        return ProcessEngine(
            model,
            processes,
            settings.engine_threads,
            settings.inter_op_threads,
            settings.intra_op_spinning,
            slots=-(-settings.batch_workers // processes),
        )
    from engine.generate import Engine  # ONNX Runtime only where the model runs

    return Engine(
        model, settings.engine_threads, settings.inter_op_threads, settings.intra_op_spinning
    )
