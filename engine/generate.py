"""The engine: source sentences in, target sentences out, for one model directory.

Tokenizes with the model's own preprocessing and SentencePiece, splits a batch into
calls that fit the row and cache budgets, and runs greedy or beam search over the
ONNX Runtime decoder step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from engine.model_dir import ModelDir
from engine.options import GenerationOptions
from engine.runtime import Runtime
from engine.search import SearchLimits, beam, greedy
from engine.tokenizer import Tokenizer
from text.normalize import SourcePreprocessor

logger = logging.getLogger(__name__)

# Rows (sentences x beams) decoded together at most: beyond 64 a call gains little speed.
MAX_ROWS = 64
# Bytes of self-attention cache one call may allocate (twice that while rows are reordered
# into the spare buffer). It grows with rows x output length x layers x d_model: 16 long
# sentences with beam 4 on an opus-mt-size model would otherwise take 800 MB.
MAX_CACHE_BYTES = 64 * 2**20
_GREEDY = GenerationOptions()


class Engine:
    """Translate preprocessed source sentences with one model directory."""

    def __init__(
        self,
        model: ModelDir,
        intra_threads: int | None = None,
        inter_threads: int = 1,
        spinning: bool = False,
    ) -> None:
        self.model = model
        self.model_id = model.model_id
        threads = intra_threads or os.cpu_count() or 1
        self.runtime = Runtime(model, threads, inter_threads, spinning)
        self.tokenizer = Tokenizer(model)
        manifest = model.manifest
        self.preprocess = SourcePreprocessor(manifest.source_preprocessing)
        self.span_mode = manifest.span_mode
        self.source_lang = manifest.source_lang
        self.target_lang = manifest.target_lang
        # Sentences longer than this are cut by the segmenter before they reach us.
        self.max_source_tokens = self.runtime.max_positions - 2
        self.max_target_tokens = min(self.runtime.max_positions - 1, manifest.generation.max_length)
        self._pad = self.tokenizer.src_eos
        logger.info(
            "loaded model %s from %s (%s, %d intra-op threads)",
            self.model_id,
            model.path,
            model.precision,
            threads,
        )

    def count_tokens(self, text: str) -> int:
        """Number of source tokens *text* becomes, ``</s>`` included."""
        return len(self.tokenizer.encode(self.preprocess(text)))

    def translate(self, sources: Sequence[str], options: GenerationOptions = _GREEDY) -> list[str]:
        """Translate raw sentences (model preprocessing is applied here)."""
        encoded = [self.tokenizer.encode(self.preprocess(s)) for s in sources]
        return [self.tokenizer.decode(t) for t in self.generate(encoded, options)]

    def generate(
        self, encoded: Sequence[Sequence[int]], options: GenerationOptions
    ) -> list[list[int]]:
        """Decode encoder-row sequences into decoder-row sequences (no ``</s>``)."""
        if not encoded:
            return []
        too_long = [len(seq) for seq in encoded if len(seq) > self.runtime.max_positions]
        if too_long:
            raise ValueError(
                f"source of {max(too_long)} tokens exceeds the model's "
                f"{self.runtime.max_positions} positions"
            )
        beams = max(1, options.beam_size)
        max_len = [self.max_length(len(seq), options) for seq in encoded]
        take = self._sentences_per_call(max_len, beams)
        if take < len(encoded):  # bound the cache memory of one call
            out: list[list[int]] = []
            start = 0
            while start < len(encoded):
                out += self.generate(encoded[start : start + take], options)
                start += take
                take = self._sentences_per_call(max_len[start:], beams)
            return out
        limits = SearchLimits(
            self.tokenizer.start,
            self.tokenizer.eos,
            max_len,
            options.min_new_tokens,
            options.loop_guard,
            options.no_repeat_ngram,
        )
        state = self.runtime.start(encoded, self._pad, beams, max(max_len) + 1)
        if beams == 1:
            return greedy(state, limits)
        return beam(state, limits, beams, options.length_penalty)

    def _sentences_per_call(self, max_len: Sequence[int], beams: int) -> int:
        """How many of the leading sentences fit one call's row and cache budgets."""
        per_position = self.runtime.cache_bytes_per_position
        longest = 0
        for count, length in enumerate(max_len):
            longest = max(longest, length + 1)
            rows = (count + 1) * beams
            if count and (rows > MAX_ROWS or rows * longest * per_position > MAX_CACHE_BYTES):
                return count
        return len(max_len)

    def max_length(self, source_len: int, options: GenerationOptions) -> int:
        """Output token limit for a source of *source_len* tokens."""
        if options.max_new_tokens is not None:
            limit = options.max_new_tokens
        else:
            limit = int(options.length_ratio * source_len + options.length_extra)
        return max(1, min(limit, self.max_target_tokens))
