"""A thread-safe LRU cache of sentence translations.

Keys cover everything that changes the output: the model id, the generation options and
the (normalised) source sentence, so a model switch or a different beam size can never
serve a stale translation.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from cachetools import LRUCache


class TranslationCache:
    """LRU map from (model id, options, sentence) to its translation."""

    def __init__(self, size: int) -> None:
        self._cache: LRUCache | None = LRUCache(maxsize=size) if size > 0 else None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(model_id: str, options: Hashable, text: str) -> tuple:
        return (model_id, options, text)

    def get(self, key: tuple) -> str | None:
        """Return the cached translation or None, counting the hit or miss."""
        if self._cache is None:
            return None
        with self._lock:
            value = self._cache.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: tuple, value: str) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache[key] = value

    def __len__(self) -> int:
        if self._cache is None:
            return 0
        with self._lock:
            return len(self._cache)

    def stats(self) -> dict[str, int]:
        with self._lock:
            size = len(self._cache) if self._cache is not None else 0
            capacity = int(self._cache.maxsize) if self._cache is not None else 0
            return {"entries": size, "capacity": capacity, "hits": self.hits, "misses": self.misses}
