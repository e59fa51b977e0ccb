"""Find and check a model directory before any session is created."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.contract import (
    FP32_DIR,
    GRAPHS,
    PRECISIONS,
    REQUIRED_FILES,
    Manifest,
    ModelLoadError,
    read_manifest,
)


@dataclass(frozen=True)
class ModelDir:
    path: Path
    manifest: Manifest
    precision: str

    @classmethod
    def load(cls, path: str | Path, precision: str = "int8") -> ModelDir:
        """Validate *path* and return it; raise ModelLoadError naming what is wrong."""
        root = Path(path)
        if not root.is_dir():
            raise ModelLoadError(f"model directory {root} does not exist")
        if precision not in PRECISIONS:
            raise ModelLoadError(f"precision must be 'int8' or 'fp32', not {precision!r}")
        manifest = read_manifest(root)
        missing = [name for name in REQUIRED_FILES if not (root / name).is_file()]
        if precision == "fp32" and manifest.precision != "fp32":
            missing += [f"{FP32_DIR}/{n}" for n in GRAPHS if not (root / FP32_DIR / n).is_file()]
        if missing:
            raise ModelLoadError(f"model directory {root} lacks {', '.join(missing)}")
        return cls(root, manifest, precision)

    @property
    def model_id(self) -> str:
        return self.manifest.model_id or self.path.name

    def graph(self, name: str) -> Path:
        """Path of ``encoder.onnx`` or ``decoder.onnx`` in the requested precision."""
        if self.precision == "fp32" and self.manifest.precision != "fp32":
            return self.path / FP32_DIR / name
        return self.path / name

    def rows(self) -> tuple[list[int], list[int]]:
        data = json.loads((self.path / self.manifest.vocab.rows_file).read_text(encoding="utf-8"))
        return data["source_rows"], data["target_rows"]
