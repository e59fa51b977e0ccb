"""ONNX Runtime sessions and the per-batch decoding state.

The decoder's self-attention cache never leaves preallocated NumPy slabs: each step's
``present`` outputs are bound (I/O binding) straight into one slab of a ping-pong pair
and read back as the next step's ``past`` inputs from there, so ONNX Runtime neither
allocates nor copies them between steps. Beam reordering and dropping finished rows are
one ``np.take`` into the other slab.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import onnxruntime as ort

from engine.model_dir import ModelDir

logger = logging.getLogger(__name__)

_NEG = np.float32(-1e9)


def session_options(intra_threads: int, inter_threads: int) -> ort.SessionOptions:
    """Sequential execution, every graph optimisation, explicit thread counts."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_threads
    options.inter_op_num_threads = inter_threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


class Runtime:
    """The encoder and decoder sessions of one model directory."""

    def __init__(self, model: ModelDir, intra_threads: int, inter_threads: int = 1) -> None:
        options = session_options(intra_threads, inter_threads)
        providers = ["CPUExecutionProvider"]
        self.encoder = ort.InferenceSession(
            str(model.graph("encoder.onnx")), options, providers=providers
        )
        self.decoder = ort.InferenceSession(
            str(model.graph("decoder.onnx")), options, providers=providers
        )
        arch = model.manifest["architecture"]
        self.layers = int(arch["decoder_layers"])
        self.heads = int(arch["heads"])
        self.head_dim = int(arch["d_model"]) // self.heads
        self.max_positions = int(arch["max_positions"])
        self._cross_names = [o.name for o in self.encoder.get_outputs()]
        self._past_names = [f"past_{kv}_{i}" for i in range(self.layers) for kv in ("k", "v")]
        self._present_names = [f"present_{kv}_{i}" for i in range(self.layers) for kv in ("k", "v")]

    def start(
        self, batch: Sequence[Sequence[int]], pad: int, expand: int, max_steps: int
    ) -> DecoderState:
        """Encode *batch* (rows padded with *pad*) and return a state with *expand* rows each."""
        width = max(len(seq) for seq in batch)
        ids = np.full((len(batch), width), pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        cross = self.encoder.run(None, {"input_ids": ids, "attention_mask": mask})
        cross_mask = np.where(mask[:, None, None, :] == 1, np.float32(0), _NEG).astype(np.float32)
        if expand > 1:
            cross = [np.repeat(c, expand, axis=0) for c in cross]
            cross_mask = np.repeat(cross_mask, expand, axis=0)
        return DecoderState(self, cross, cross_mask, max_steps)


class DecoderState:
    """Cache and bindings for decoding one batch step by step."""

    def __init__(
        self, rt: Runtime, cross: list[np.ndarray], cross_mask: np.ndarray, max_steps: int
    ) -> None:
        self.rt = rt
        self.rows = cross_mask.shape[0]
        self.length = 0
        self._cross = cross
        self._cross_mask = np.ascontiguousarray(cross_mask)
        capacity = self.rows * rt.heads * (max_steps + 1) * rt.head_dim
        self._slabs = [[np.empty(capacity, np.float32) for _ in range(2)] for _ in rt._past_names]
        self._cur = 0
        self._binding = rt.decoder.io_binding()
        self._bind_cross()

    def _bind_cross(self) -> None:
        self._binding.bind_cpu_input("cross_mask", self._cross_mask)
        for name, value in zip(self.rt._cross_names, self._cross, strict=True):
            self._binding.bind_cpu_input(name, value)

    def _view(self, index: int, which: int, length: int) -> np.ndarray:
        rt = self.rt
        size = self.rows * rt.heads * length * rt.head_dim
        flat = self._slabs[index][which][:size]
        return flat.reshape(self.rows, rt.heads, length, rt.head_dim)

    def step(self, tokens: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """Feed one token per row; return the top-k (log-probs, ids) of the next token."""
        rt, binding = self.rt, self._binding
        ids = np.ascontiguousarray(tokens, dtype=np.int64).reshape(self.rows, 1)
        k = np.array([top_k], dtype=np.int64)
        binding.bind_cpu_input("input_ids", ids)
        binding.bind_cpu_input("top_k", k)
        nxt = 1 - self._cur
        for i, (past, present) in enumerate(zip(rt._past_names, rt._present_names, strict=True)):
            src = self._view(i, self._cur, self.length)
            dst = self._view(i, nxt, self.length + 1)
            binding.bind_input(past, "cpu", 0, np.float32, src.shape, src.ctypes.data)
            binding.bind_output(present, "cpu", 0, np.float32, dst.shape, dst.ctypes.data)
        log_probs = np.empty((self.rows, top_k), np.float32)
        token_ids = np.empty((self.rows, top_k), np.int64)
        binding.bind_output(
            "log_probs", "cpu", 0, np.float32, log_probs.shape, log_probs.ctypes.data
        )
        binding.bind_output("token_ids", "cpu", 0, np.int64, token_ids.shape, token_ids.ctypes.data)
        rt.decoder.run_with_iobinding(binding)
        self._cur = nxt
        self.length += 1
        return log_probs, token_ids

    def reorder(self, index: np.ndarray) -> None:
        """Make row r continue from row index[r] (beam reordering or dropping finished rows)."""
        index = np.asarray(index, dtype=np.int64)
        new_rows = len(index)
        nxt = 1 - self._cur
        for i in range(len(self._slabs)):
            src = self._view(i, self._cur, self.length)
            size = new_rows * self.rt.heads * self.length * self.rt.head_dim
            dst = self._slabs[i][nxt][:size].reshape(new_rows, *src.shape[1:])
            np.take(src, index, axis=0, out=dst)
        self._cur = nxt
        if new_rows != self.rows:
            self.rows = new_rows
            self._cross = [np.ascontiguousarray(c[index]) for c in self._cross]
            self._cross_mask = np.ascontiguousarray(self._cross_mask[index])
            self._bind_cross()
