"""A fake engine for translator and API tests, injected through the engine_factory seam.

It "translates" with the tiny test model's word-for-character code (toolchain.tiny): each
known Chinese character becomes its code word, Chinese end marks become ASCII ones, and
everything else (placeholders, Latin, digits) is copied. English→Chinese reverses it.
Instant and deterministic, so tests of the pipeline need no model at all.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from engine import GenerationOptions
from toolchain.tiny import LEXICON

_MARKS = {"。": ".", "！": "!", "？": "?", "；": ";", "，": ","}
_WORDS = {word: char for char, word in LEXICON.items()}

Respond = Callable[[list[str], GenerationOptions], list[str]]


def code_zh_en(text: str) -> str:
    words = [f" {LEXICON[c]} " if c in LEXICON else _MARKS.get(c, c) for c in text]
    return re.sub(r"\s+([,.!?;])", r"\1", " ".join("".join(words).split()))


def code_en_zh(text: str) -> str:
    out = []
    for token in re.findall(r"[A-Za-z]+|\S", text):
        out.append(_WORDS.get(token.lower(), token))
    back = {v: k for k, v in _MARKS.items()}
    return "".join(back.get(t, t) for t in out)


class FakeEngine:
    """What the translator needs of an engine, with hooks to observe and steer calls."""

    span_mode = "placeholder"
    max_source_tokens = 126

    def __init__(self, source_lang: str = "zh", target_lang: str = "en") -> None:
        self.source_lang, self.target_lang = source_lang, target_lang
        self.model_id = f"fake-{source_lang}-{target_lang}"
        self.calls: list[tuple[list[str], GenerationOptions]] = []
        self._lock = threading.Lock()
        # Replace to change what the "model" answers (lose a placeholder, fail, block).
        self.respond: Respond = self.code

    def code(self, texts: list[str], options: GenerationOptions) -> list[str]:
        coder = code_zh_en if self.source_lang == "zh" else code_en_zh
        return [coder(t) for t in texts]

    def preprocess(self, text: str) -> str:
        return text

    def count_tokens(self, text: str) -> int:
        return len(text) + 1

    def translate(self, sources: Sequence[str], options: GenerationOptions) -> list[str]:
        with self._lock:
            self.calls.append((list(sources), options))
        return self.respond(list(sources), options)

    @property
    def sentences_seen(self) -> list[str]:
        return [text for texts, _ in self.calls for text in texts]


class FakeEngines:
    """An engine factory that remembers the engines it made, by model directory name.

    A directory named ``...en-zh`` gets an English→Chinese engine; any other zh→en.
    """

    def __init__(self) -> None:
        self.made: dict[str, FakeEngine] = {}
        self.gate: threading.Event | None = None  # set: factory waits for it (slow load)

    def __call__(self, settings: object, model_path: Path) -> FakeEngine:
        if self.gate is not None:
            assert self.gate.wait(30)
        source, target = ("en", "zh") if model_path.name.endswith("en-zh") else ("zh", "en")
        engine = FakeEngine(source, target)
        self.made[model_path.name] = engine
        return engine

    @property
    def engine(self) -> FakeEngine:
        """The only engine made so far."""
        (only,) = self.made.values()
        return only


class Gate:
    """A respond hook whose calls block until released (for 503 and 504 cases)."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.entered = threading.Event()
        self.release = threading.Event()
        engine.respond = self

    def __call__(self, texts: list[str], options: GenerationOptions) -> list[str]:
        self.entered.set()
        assert self.release.wait(30)
        return self.engine.code(texts, options)
