"""The on-disk model format the engine loads, and its validation.

A model directory holds ``encoder.onnx`` and ``decoder.onnx`` (INT8; fp32 copies under
``fp32/`` when exported with ``--precision both``), the SentencePiece models
``source.spm``/``target.spm``, the joint ``vocab.json``, ``vocab_rows.json`` (which
vocabulary ids each graph keeps) and ``manifest.json`` (provenance, special ids,
generation settings and the source preprocessing the model was trained with).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# 2: decoder step with GroupQueryAttention (in-place cache) and position/seqlens inputs.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
ROWS_FILE = "vocab_rows.json"
_FILES = ("encoder.onnx", "decoder.onnx", "source.spm", "target.spm", "vocab.json", ROWS_FILE)


class ModelLoadError(RuntimeError):
    """The model directory is missing, incomplete or of an unknown format."""


@dataclass(frozen=True)
class ModelDir:
    path: Path
    manifest: dict[str, Any]
    precision: str

    @classmethod
    def load(cls, path: str | Path, precision: str = "int8") -> ModelDir:
        """Validate *path* and return it; raise ModelLoadError naming what is wrong."""
        root = Path(path)
        if not root.is_dir():
            raise ModelLoadError(f"model directory {root} does not exist")
        manifest_path = root / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelLoadError(f"{manifest_path} is missing: not an exported model") from None
        except json.JSONDecodeError as exc:
            raise ModelLoadError(f"{manifest_path} is not valid JSON: {exc}") from None
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelLoadError(
                f"{manifest_path} has format_version {version!r}; this engine reads "
                f"{FORMAT_VERSION}. Re-export the model with scripts/export_model.py"
            )
        missing = [name for name in _FILES if not (root / name).is_file()]
        if precision == "fp32" and manifest.get("precision") != "fp32":
            missing += [
                f"fp32/{n}"
                for n in ("encoder.onnx", "decoder.onnx")
                if not (root / "fp32" / n).is_file()
            ]
        elif precision not in ("int8", "fp32"):
            raise ModelLoadError(f"precision must be 'int8' or 'fp32', not {precision!r}")
        if missing:
            raise ModelLoadError(f"model directory {root} lacks {', '.join(missing)}")
        return cls(root, manifest, precision)

    @property
    def model_id(self) -> str:
        return str(self.manifest.get("model_id") or self.path.name)

    def graph(self, name: str) -> Path:
        """Path of ``encoder.onnx`` or ``decoder.onnx`` in the requested precision."""
        if self.precision == "fp32" and self.manifest.get("precision") != "fp32":
            return self.path / "fp32" / name
        return self.path / name

    def rows(self) -> tuple[list[int], list[int]]:
        data = json.loads((self.path / ROWS_FILE).read_text(encoding="utf-8"))
        return data["source_rows"], data["target_rows"]
