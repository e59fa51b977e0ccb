"""The translators of one process, keyed by direction (``zh-en``, ``en-zh``)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from config import Settings
from serving.engines import EngineFactory, load_engine
from serving.errors import UnsupportedDirection
from serving.health import Health
from serving.translator import BatchObserver, Translator
from text.languages import UnknownLanguage, language


class TranslatorRegistry:
    """Route a request's ``source``/``target`` to the translator serving that pair."""

    def __init__(self, translators: Sequence[Translator]) -> None:
        if not translators:
            raise ValueError("a registry needs at least one translator")
        self._by_key: dict[str, Translator] = {}
        for translator in translators:
            key = translator.direction.key
            if key in self._by_key:
                raise ValueError(f"two model directories serve {key}")
            self._by_key[key] = translator
        self.default = translators[0]

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine_factory: EngineFactory = load_engine,
        on_batch: BatchObserver | None = None,
    ) -> TranslatorRegistry:
        """One translator per configured model directory, the default one first."""
        return cls(
            [Translator(settings, path, engine_factory, on_batch) for path in settings.model_paths]
        )

    def __iter__(self) -> Iterator[Translator]:
        return iter(self._by_key.values())

    @property
    def directions(self) -> list[str]:
        return list(self._by_key)

    def get(self, source: str | None = None, target: str | None = None) -> Translator:
        """The translator for *source*→*target*; either may be left out.

        Raise UnsupportedDirection, listing what is served, for any other pair.
        """
        if source is None and target is None:
            return self.default
        try:
            wanted_source = language(source).code if source is not None else None
            wanted_target = language(target).code if target is not None else None
        except UnknownLanguage as exc:
            raise self._unsupported(str(exc)) from None
        for translator in self:
            direction = translator.direction
            if wanted_source not in (None, direction.source.code):
                continue
            if wanted_target not in (None, direction.target.code):
                continue
            return translator
        pair = f"{source or '?'}-{target or '?'}"
        raise self._unsupported(f"no model serves {pair}")

    def _unsupported(self, reason: str) -> UnsupportedDirection:
        served = ", ".join(self.directions)
        return UnsupportedDirection(f"{reason}; this service translates {served}")

    def start(self, background: bool = True) -> None:
        for translator in self:
            translator.start(background)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once every translator is ready; False on a load failure or at *timeout*."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for translator in self:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not translator.wait_ready(left):
                return False
        return True

    @property
    def ready(self) -> bool:
        return all(t.ready for t in self)

    @property
    def queue_depth(self) -> int:
        return sum(t.queue_depth for t in self)

    def health(self) -> list[Health]:
        return [t.health() for t in self]

    def close(self) -> None:
        for translator in self:
            translator.close()
