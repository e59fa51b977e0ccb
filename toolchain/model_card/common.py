"""What every part of the card reads: the model directory's manifest, paths, directions."""

from __future__ import annotations

import json
from pathlib import Path

from config import ROOT

TATOEBA = "tatoeba"
DIRECTIONS = {
    "zh-en": {"arrow": "Chinese → English", "source": "Chinese", "target": "English"},
    "en-zh": {"arrow": "English → Chinese", "source": "English", "target": "Chinese"},
}


def direction_of(manifest: dict) -> str:
    return f"{manifest.get('source_lang', 'zh')}-{manifest.get('target_lang', 'en')}"


def _manifest(model_dir: Path) -> dict:
    path = model_dir / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _rel(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
