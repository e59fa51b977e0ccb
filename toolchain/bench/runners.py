"""One runner per engine for scripts/bench_engines.py, each doing the same work.

Every runner takes the same source token ids (joint-vocabulary ids ending with ``</s>``)
and decodes with the same beam size and the same output-length limits, and returns the
output token ids (joint vocabulary, ``</s>`` and padding excluded): their count makes
time per token compare like with like, and their text lets the benchmark score BLEU.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

Output = list[list[int]]


class Runner(Protocol):
    def run(self, batch: Sequence[Sequence[int]], beam: int, min_new: int, max_new: int) -> Output:
        """Translate one batch; return each sentence's output ids (``</s>`` excluded)."""


def _pad(batch: Sequence[Sequence[int]], pad: int):  # noqa: ANN202 - torch tensors
    import torch

    width = max(len(s) for s in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq)
    return ids, (ids != pad).long()


class _GenerateRunner:
    """transformers ``generate`` on a PyTorch or optimum (ONNX Runtime) model."""

    def __init__(self, model, pad: int, eos: int) -> None:  # noqa: ANN001
        self.model, self.pad, self.eos = model, pad, eos
        # Marian configs force </s> as the last token at the length limit; the other
        # engines do not, and a forced end would make this engine do less work.
        model.generation_config.forced_eos_token_id = None

    def run(self, batch: Sequence[Sequence[int]], beam: int, min_new: int, max_new: int) -> Output:
        import torch

        ids, mask = _pad(batch, self.pad)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=mask,
                num_beams=beam,
                do_sample=False,
                min_new_tokens=min_new,
                max_new_tokens=max_new,
            )
        skip = {self.pad, self.eos}
        return [[t for t in row if t not in skip] for row in out[:, 1:].tolist()]


def torch_runner(checkpoint: Path, threads: int) -> Runner:
    import torch
    from transformers import MarianMTModel

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.set_flush_denormal(True)
    model = MarianMTModel.from_pretrained(checkpoint).eval()
    return _GenerateRunner(model, model.config.pad_token_id, model.config.eos_token_id)


def optimum_runner(model_dir: Path, threads: int) -> Runner:
    import onnxruntime as ort
    from optimum.onnxruntime import ORTModelForSeq2SeqLM

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    names = json.loads((model_dir / "bench_files.json").read_text())
    model = ORTModelForSeq2SeqLM.from_pretrained(
        model_dir, session_options=options, provider="CPUExecutionProvider", **names
    )
    return _GenerateRunner(model, model.config.pad_token_id, model.config.eos_token_id)


class _CT2Runner:
    def __init__(
        self, model_dir: Path, vocab: dict[str, int], threads: int, compute_type: str = "int8"
    ) -> None:
        import ctranslate2

        self.translator = ctranslate2.Translator(
            str(model_dir),
            device="cpu",
            compute_type=compute_type,
            intra_threads=threads,
            inter_threads=1,
        )
        self.pieces = {i: p for p, i in vocab.items()}
        self.ids = vocab

    def run(self, batch: Sequence[Sequence[int]], beam: int, min_new: int, max_new: int) -> Output:
        source = [[self.pieces[i] for i in seq] for seq in batch]
        results = self.translator.translate_batch(
            source,
            beam_size=beam,
            max_decoding_length=max_new,  # counts tokens without the end token, like ours
            min_decoding_length=max(1, min_new),
            max_batch_size=0,
        )
        return [[self.ids[p] for p in r.hypotheses[0]] for r in results]


def ct2_runner(
    model_dir: Path, vocab_file: Path, threads: int, compute_type: str = "int8"
) -> Runner:
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
    return _CT2Runner(model_dir, vocab, threads, compute_type)


class _ProjectRunner:
    def __init__(self, model_dir: Path, threads: int) -> None:
        from engine import Engine, ModelDir

        self.engine = Engine(ModelDir.load(model_dir), intra_threads=threads)
        source_rows, self.target_ids = self.engine.model.rows()
        self.row = {vid: row for row, vid in enumerate(source_rows)}
        self.unk = self.engine.tokenizer.src_unk

    def run(self, batch: Sequence[Sequence[int]], beam: int, min_new: int, max_new: int) -> Output:
        from engine import GenerationOptions

        rows = [[self.row.get(i, self.unk) for i in seq] for seq in batch]
        # Forced-length runs switch the loop guard off: the other engines have none, and a
        # random model loops at once, which would make the guard end every sentence early.
        options = GenerationOptions(
            beam_size=beam, min_new_tokens=min_new, max_new_tokens=max_new, loop_guard=not min_new
        )
        out = self.engine.generate(rows, options)
        return [[self.target_ids[t] for t in seq] for seq in out]


def project_runner(model_dir: Path, threads: int) -> Runner:
    return _ProjectRunner(model_dir, threads)
