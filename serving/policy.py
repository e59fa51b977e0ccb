"""Content policy applied to finished translations."""

from __future__ import annotations

import re
from collections.abc import Iterable

from serving.errors import BlockedContent


class BlockedWords:
    """Reject translations that contain any configured word (whole word, any case)."""

    def __init__(self, words: Iterable[str]) -> None:
        words = [w for w in (w.strip() for w in words) if w]
        self._pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)
            if words
            else None
        )

    def check(self, text: str) -> str:
        """Return *text* unchanged, or raise BlockedContent."""
        if self._pattern is not None and self._pattern.search(text):
            raise BlockedContent(
                "The translation contains content blocked by this service's policy."
            )
        return text
