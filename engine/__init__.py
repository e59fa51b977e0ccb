"""The translation engine: a Marian model exported to ONNX, run by ONNX Runtime on CPU.

No torch, transformers or optimum here: only onnxruntime, numpy and sentencepiece.
``Engine`` is imported on first use: a web process whose engine runs in worker
processes reads manifests and tokenizes, and need not load ONNX Runtime at all.
"""

import os
from typing import TYPE_CHECKING, Any

# Before anything can import onnxruntime (see engine/_ort.py): the switch is read once.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from engine.contract import Manifest, ModelLoadError, read_manifest
from engine.model_dir import ModelDir
from engine.options import GenerationOptions

if TYPE_CHECKING:
    from engine.generate import Engine

__all__ = ["Engine", "GenerationOptions", "Manifest", "ModelDir", "ModelLoadError", "read_manifest"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from engine.generate import Engine

        return Engine
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
