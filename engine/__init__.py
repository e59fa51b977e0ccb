"""The translation engine: a Marian model exported to ONNX, run by ONNX Runtime on CPU.

No torch, transformers or optimum here: only onnxruntime, numpy and sentencepiece.
"""

from engine.contract import Manifest, ModelLoadError, read_manifest
from engine.generate import Engine
from engine.model_dir import ModelDir
from engine.options import GenerationOptions

__all__ = ["Engine", "GenerationOptions", "Manifest", "ModelDir", "ModelLoadError", "read_manifest"]
