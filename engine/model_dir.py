"""Find and check a model directory before any session is created.

Loading checks the SHA-256 the manifest records for every file the engine is going to
read (the graphs of the precision loaded, the tokenizer files and the vocabulary rows),
so a damaged or swapped file fails the load with its name instead of serving garbage.
Files the engine does not read (the other precision, a model card) are not hashed.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from engine.contract import (
    FP32_DIR,
    GRAPHS,
    MANIFEST,
    PRECISIONS,
    REQUIRED_FILES,
    TOKENIZER_FILES,
    Manifest,
    ModelLoadError,
    read_manifest,
    sha256_file,
)

logger = logging.getLogger(__name__)


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
        model = cls(root, manifest, precision)
        model.verify()
        return model

    def loaded_files(self) -> list[str]:
        """Relative paths of the files the engine reads, as the manifest names them."""
        graphs = [self.graph(name).relative_to(self.path).as_posix() for name in GRAPHS]
        return [*graphs, *TOKENIZER_FILES, self.manifest.vocab.rows_file]

    def verify(self) -> None:
        """Check every loaded file against its SHA-256 in the manifest; raise
        ModelLoadError naming the first file that is unlisted, missing or different."""
        started = time.perf_counter()
        size = 0
        for name in self.loaded_files():
            expected = self.manifest.files.get(name)
            if expected is None:
                raise ModelLoadError(
                    f"{name} has no SHA-256 in {MANIFEST}: the manifest does not describe "
                    "this directory; re-export the model"
                )
            path = self.path / name
            try:
                actual = sha256_file(path)
                size += path.stat().st_size
            except OSError as exc:
                raise ModelLoadError(f"cannot read {name}: {exc.strerror or exc}") from None
            if actual != expected:
                raise ModelLoadError(
                    f"{name} does not match its SHA-256 in {MANIFEST}: "
                    "the file is damaged or was replaced"
                )
        logger.info(
            "model files verified: %s, %.1f MB in %.0f ms",
            self.path,
            size / 1e6,
            (time.perf_counter() - started) * 1000,
        )

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
