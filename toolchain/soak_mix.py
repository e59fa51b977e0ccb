"""What the soak sends (toolchain/soak.py): cache hits, misses, cold and long texts, and
hostile bodies, each with the statuses it must get."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass

logger = logging.getLogger(__name__)

JSON = "application/json"
HOT_TEXTS = 50
LONG_CHARS = (2000, 4000)
# Relative weights of the request kinds.
WEIGHTS = {"hit": 40, "miss": 25, "cold": 10, "long": 2, "hostile": 23}


@dataclass(frozen=True)
class Shot:
    """One request to send, and the statuses it must get."""

    kind: str
    body: bytes
    expect: frozenset[int] = frozenset({200})
    content_type: str = JSON
    no_cache: bool = False

    @property
    def hostile(self) -> bool:
        return 200 not in self.expect


def json_body(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def hostile_shots(max_body_bytes: int, max_chars: int, max_items: int) -> list[Shot]:
    """Bodies the service must refuse with a 4xx, never a 5xx or a dropped connection."""
    bad, large = frozenset({400}), frozenset({413})
    depth = 20_000
    return [
        Shot("malformed_json", b'{"text": "\xe4\xbd\xa0\xe5\xa5\xbd", }', bad),
        Shot("invalid_utf8", b'{"text": "\xff\xfe\xfd"}', bad),
        Shot("empty_body", b"", bad),
        Shot("wrong_type", json_body({"text": 42}), bad),
        Shot("wrong_item_type", json_body({"text": ["你好。", 7]}), bad),
        Shot("wrong_option", json_body({"text": "你好。", "options": {"beam_size": "4"}}), bad),
        Shot("unknown_field", json_body({"text": "你好。", "colour": "red"}), bad),
        Shot("duplicate_key", b'{"text": "a", "text": "b"}', bad),
        Shot("nan", b'{"text": "x", "options": {"beam_size": NaN}}', bad),
        Shot("deep_nesting", b'{"text": ' + b"[" * depth + b"]" * depth + b"}", bad),
        Shot("lone_surrogate", b'{"text": "\\ud83d\\u4f60"}', bad),
        Shot("oversize_body", b'{"text": "' + b"a" * (max_body_bytes + 1024) + b'"}', large),
        Shot("text_too_long", json_body({"text": "好" * (max_chars + 1)}), large),
        Shot("too_many_items", json_body({"text": ["你好。"] * (max_items + 1)}), large),
        Shot("wrong_media_type", json_body({"text": "你好。"}), frozenset({415}), "text/plain"),
    ]


class Mix:
    """Draws the requests of the soak from the pairs file's Chinese texts."""

    def __init__(self, texts: list[str], max_chars: int, hostile: list[Shot], seed: int) -> None:
        self.hot = texts[:HOT_TEXTS]
        self.pool = texts[HOT_TEXTS:] or texts
        self.max_chars = max_chars
        self.hostile = hostile
        self._kinds = list(WEIGHTS)
        self._weights = [WEIGHTS[k] for k in self._kinds]
        self._seed = seed

    def rng(self, client: int) -> random.Random:
        return random.Random(self._seed * 1000 + client)

    def draw(self, rng: random.Random) -> Shot:
        kind = rng.choices(self._kinds, self._weights)[0]
        if kind == "hit":
            return Shot("hit", json_body({"text": rng.choice(self.hot)}))
        if kind == "miss":
            return Shot("miss", json_body({"text": self._spliced(rng)}))
        if kind == "cold":
            return Shot("cold", json_body({"text": rng.choice(self.pool)}), no_cache=True)
        if kind == "long":
            return Shot("long", json_body({"text": self._long(rng)}))
        return rng.choice(self.hostile)

    def _spliced(self, rng: random.Random) -> str:
        """The start of one text and the end of another: a sentence the cache has not
        seen (nearly always), still made of real words."""
        a, b = rng.choice(self.pool).rstrip("。！？"), rng.choice(self.pool)
        return a[: max(1, len(a) // 2)] + b[len(b) // 2 :] + ("" if b[-1:] in "。！？" else "。")

    def _long(self, rng: random.Random) -> str:
        target = min(rng.randint(*LONG_CHARS), self.max_chars)
        parts: list[str] = []
        size = 0
        while True:
            text = rng.choice(self.pool)
            if size + len(text) + 1 > target:
                break
            parts.append(text)
            size += len(text) + 1
            if rng.random() < 0.1:  # paragraphs now and then
                parts.append("\n")
        return "".join(parts)
