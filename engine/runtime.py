"""ONNX Runtime sessions and the per-batch decoding state.

The decoder's self-attention cache lives in preallocated NumPy buffers bound (I/O
binding) as both the ``past`` inputs and the ``present`` outputs of the decoder graph, so
ONNX Runtime writes each new position in place and nothing is copied between steps.
Beam reordering and dropping finished rows copy the filled part into a spare buffer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from engine import contract as graph
from engine._ort import ort
from engine.contract import ModelLoadError
from engine.model_dir import ModelDir

logger = logging.getLogger(__name__)

_NEG = np.float32(-1e9)


def session_options(
    intra_threads: int, inter_threads: int, spinning: bool = False
) -> ort.SessionOptions:
    """Sequential execution, every graph optimisation, explicit thread counts."""
    options = ort.SessionOptions()
    # Spinning pool threads burn the core between the many small ops of a decoding step,
    # and on a 2-core machine that core is the one the Python search loop and the HTTP
    # threads need: batch-1 decoding measured 1.25-1.4x slower with spinning, batch 16 even.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.intra_op_num_threads = intra_threads
    options.inter_op_num_threads = inter_threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


class Runtime:
    """The encoder and decoder sessions of one model directory."""

    def __init__(
        self, model: ModelDir, intra_threads: int, inter_threads: int = 1, spinning: bool = False
    ) -> None:
        options = session_options(intra_threads, inter_threads, spinning)
        providers = ["CPUExecutionProvider"]
        self.encoder = ort.InferenceSession(
            str(model.graph(graph.ENCODER)), options, providers=providers
        )
        self.decoder = ort.InferenceSession(
            str(model.graph(graph.DECODER)), options, providers=providers
        )
        arch = model.manifest.architecture
        self.layers = arch.decoder_layers
        self.heads = arch.heads
        self.head_dim = arch.d_model // self.heads
        self.max_positions = arch.max_positions
        # float32 key and value of every decoder layer, for one row and one position
        self.cache_bytes_per_position = self.layers * 2 * self.heads * self.head_dim * 4
        self._check_decoder_inputs()
        self._cross_names = [o.name for o in self.encoder.get_outputs()]
        self._past_names = graph.past_names(self.layers)
        self._present_names = graph.present_names(self.layers)

    def _check_decoder_inputs(self) -> None:
        names = {i.name for i in self.decoder.get_inputs()}
        missing = sorted(graph.DECODER_INPUTS - names)
        if missing:
            raise ModelLoadError(
                f"decoder.onnx lacks inputs {', '.join(missing)}: it was exported by another "
                "version of this project; re-export it with `zh-en-translator export`"
            )

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
        cross = self.encoder.run(None, {graph.INPUT_IDS: ids, graph.ATTENTION_MASK: mask})
        cross_mask = np.where(mask[:, None, None, :] == 1, np.float32(0), _NEG).astype(np.float32)
        if expand > 1:
            cross = [np.repeat(c, expand, axis=0) for c in cross]
            cross_mask = np.repeat(cross_mask, expand, axis=0)
        return DecoderState(self, cross, cross_mask, max_steps)


class DecoderState:
    """Cache buffers and bindings for decoding one batch step by step.

    Each layer's key and value cache is one buffer of fixed capacity, [rows, H, T_max,
    Dh], bound as both ``past`` and ``present``: the decoder's GroupQueryAttention writes
    the new position in place. Reordering rows (beam search, dropping finished rows)
    copies the filled part into a spare buffer, which then becomes the cache.

    The small per-step inputs and the top-k outputs live in buffers bound once per row
    count, and each step only writes new values into them: binding allocates on every
    call, and a step of a small model is short enough for that to show.
    """

    def __init__(
        self, rt: Runtime, cross: list[np.ndarray], cross_mask: np.ndarray, max_steps: int
    ) -> None:
        self.rt = rt
        self.rows = cross_mask.shape[0]
        self.length = 0
        shape = (self.rows, rt.heads, max_steps + 1, rt.head_dim)
        self._cache = [np.empty(shape, np.float32) for _ in rt._past_names]
        self._spare: list[np.ndarray | None] = [None] * len(self._cache)
        self._cross = cross
        self._cross_mask = np.ascontiguousarray(cross_mask)
        self._binding = rt.decoder.io_binding()
        self._position = np.zeros(1, np.int64)
        self._total_length = np.zeros((), np.int32)
        self._top_k = np.zeros(1, np.int64)
        self._bind(self._position, graph.POSITION)
        self._bind(self._total_length, graph.TOTAL_LENGTH)
        self._bind(self._top_k, graph.TOP_K)
        self._bind_cross()
        self._bind_cache()
        self._bind_rows()

    def _bind(self, array: np.ndarray, name: str, output: bool = False) -> None:
        """Bind *array*'s memory: ONNX Runtime reads (or writes) it at every run."""
        bind = self._binding.bind_output if output else self._binding.bind_input
        bind(name, "cpu", 0, array.dtype, array.shape, array.ctypes.data)

    def _bind_cross(self) -> None:
        self._binding.bind_cpu_input(graph.CROSS_MASK, self._cross_mask)
        for name, value in zip(self.rt._cross_names, self._cross, strict=True):
            self._binding.bind_cpu_input(name, value)

    def _bind_cache(self) -> None:
        for cache, past, present in zip(
            self._cache, self.rt._past_names, self.rt._present_names, strict=True
        ):
            self._bind(cache, past)
            self._bind(cache, present, output=True)

    def _bind_rows(self) -> None:
        """(Re)bind the per-row step inputs; the outputs follow on the next step."""
        self._input_ids = np.zeros((self.rows, 1), np.int64)
        self._seqlens_k = np.zeros(self.rows, np.int32)
        self._bind(self._input_ids, graph.INPUT_IDS)
        self._bind(self._seqlens_k, graph.SEQLENS_K)
        self._outputs: tuple[np.ndarray, np.ndarray] | None = None

    def _bind_outputs(self, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        outputs = self._outputs
        if outputs is None or outputs[0].shape[1] != top_k:
            outputs = (
                np.empty((self.rows, top_k), np.float32),
                np.empty((self.rows, top_k), np.int64),
            )
            self._bind(outputs[0], graph.LOG_PROBS, output=True)
            self._bind(outputs[1], graph.TOKEN_IDS, output=True)
            self._top_k[0] = top_k
            self._outputs = outputs
        return outputs

    def step(self, tokens: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """Feed one token per row; return the top-k (log-probs, ids) of the next token."""
        log_probs, token_ids = self._bind_outputs(top_k)
        self._input_ids[:, 0] = tokens
        self._position[0] = self.length
        self._seqlens_k.fill(self.length)
        self._total_length[()] = self.length + 1
        self.rt.decoder.run_with_iobinding(self._binding)
        self.length += 1
        # Copies: the bound buffers are overwritten by the next step.
        return log_probs.copy(), token_ids.copy()

    def reorder(self, index: np.ndarray) -> None:
        """Make row r continue from row index[r] (beam reordering or dropping finished rows)."""
        index = np.asarray(index, dtype=np.int64)
        new_rows, filled = len(index), self.length
        for i, cache in enumerate(self._cache):
            spare = self._spare[i]
            if spare is None:
                spare = np.empty_like(cache)
            target = spare[:new_rows]
            # Fancy indexing copies the filled part only, and is far faster than np.take
            # into a strided view.
            target[:, :, :filled] = cache[index, :, :filled]
            self._spare[i] = cache
            self._cache[i] = target
        if new_rows != self.rows:
            self.rows = new_rows
            self._cross = [np.ascontiguousarray(c[index]) for c in self._cross]
            self._cross_mask = np.ascontiguousarray(self._cross_mask[index])
            self._bind_cross()
            self._bind_rows()
        self._bind_cache()
