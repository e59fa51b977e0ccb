"""The seam between the translator and an engine: what it needs, and the default loader.

Tests and tools hand a :class:`~serving.translator.Translator` another
:data:`EngineFactory` (a fake engine, a gated one) instead of reaching into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from config import Settings
from engine import Engine, GenerationOptions, ModelDir


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
    """Load the ONNX model directory *model_path* with the configured threads."""
    model = ModelDir.load(model_path, settings.precision)
    return Engine(
        model, settings.engine_threads, settings.inter_op_threads, settings.intra_op_spinning
    )
