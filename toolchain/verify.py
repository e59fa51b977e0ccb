"""Check an exported model directory against the PyTorch model it came from.

Both sides get the very same source token ids (the service's own preprocessing and
SentencePiece), decode greedily, and are compared token for token and by BLEU of the
engine's output against PyTorch's. The service's loop guard is applied to the PyTorch
output too, so a looping sentence does not count as a difference.

Thresholds: the fp32 graphs must reproduce PyTorch on at least 90 % of sentences (only
float summation order differs; a wrong position, mask or cache makes this collapse). The
INT8 graphs must reach ``min_verify_bleu`` (default 50) BLEU against PyTorch: dynamic INT8
changes a word here and there (typically 60–90 BLEU, half or more of the sentences
identical), while a broken graph or a bad quantization scale lands far below 50.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import sacrebleu
import torch
from transformers import MarianMTModel

from engine import Engine, GenerationOptions, ModelDir
from engine.search import runaway_tail
from toolchain.samples import samples

logger = logging.getLogger(__name__)

MIN_FP32_IDENTICAL = 0.9


class VerificationError(RuntimeError):
    """The exported model does not reproduce the PyTorch model closely enough."""


def _guarded(seq: list[int]) -> list[int]:
    """What the engine's greedy search keeps of *seq*: it stops at the first loop."""
    for end in range(1, len(seq) + 1):
        cut = runaway_tail(seq[:end])
        if cut < end:
            return seq[:cut]
    return seq


def _sentences(pairs: Path | None, limit: int, source_lang: str) -> list[str]:
    """Built-in sentences, plus the source side of an ``english<TAB>chinese`` file."""
    builtin = list(samples(source_lang))
    if pairs is None or not Path(pairs).is_file():
        return builtin
    lines = Path(pairs).read_text(encoding="utf-8").splitlines()
    column = 0 if source_lang == "en" else 1
    sources = [line.split("\t")[column] for line in lines if line.count("\t") >= 1]
    return builtin + sources[:limit]


@torch.no_grad()
def _torch_greedy(
    model: MarianMTModel,
    encoded: Sequence[list[int]],
    max_len: list[int],
    model_ids: tuple[list[int], list[int]],
    source_prefix: Sequence[int],
) -> list[list[int]]:
    """PyTorch's greedy output for the engine's encoder rows, as decoder rows.

    *model_ids* are the checkpoint ids of each graph's rows; *source_prefix* the
    checkpoint ids the encoder graph puts before every source (a language token).
    """
    source_ids, target_ids = model_ids
    to_row = {mid: row for row, mid in enumerate(target_ids)}
    eos = model.config.eos_token_id
    skip = {*(eos if isinstance(eos, list) else [eos]), model.config.pad_token_id}
    outputs = []
    for seq, limit in zip(encoded, max_len, strict=True):
        ids = torch.tensor([[*source_prefix, *(source_ids[r] for r in seq)]])
        gen = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            num_beams=1,
            do_sample=False,
            max_new_tokens=limit,
        )[0].tolist()
        tokens = [t for t in gen[1:] if t not in skip]
        # A piece outside the target vocabulary cannot be produced by the engine: -1 marks it.
        outputs.append(_guarded([to_row.get(t, -1) for t in tokens]))
    return outputs


def compare(
    model: MarianMTModel,
    out: Path,
    precision: str,
    sentences: Sequence[str],
    model_ids: tuple[list[int], list[int]] | None = None,
    source_prefix: Sequence[int] = (),
    cache: dict | None = None,
) -> dict:
    """Greedy-decode *sentences* with PyTorch and with the engine; return the agreement.

    *model_ids* default to the directory's rows (a joint vocabulary); the export passes
    them for checkpoints with separate vocabularies, with the language-token prefix.
    PyTorch's outputs are kept in *cache*, so that checking both precisions decodes
    with PyTorch once.
    """
    engine = Engine(ModelDir.load(out, precision), intra_threads=torch.get_num_threads())
    texts = [engine.preprocess(s) for s in sentences]
    encoded = [engine.tokenizer.encode(t) for t in texts]
    options = GenerationOptions()
    max_len = [engine.max_length(len(seq), options) for seq in encoded]
    ours = engine.generate(encoded, options)
    ids = model_ids or engine.model.rows()
    cache = {} if cache is None else cache
    key = (tuple(map(tuple, encoded)), tuple(max_len))
    if key not in cache:
        cache[key] = _torch_greedy(model, encoded, max_len, ids, source_prefix)
    ref = cache[key]
    identical = sum(a == b for a, b in zip(ours, ref, strict=True))
    hyp_text = [engine.tokenizer.decode(t) for t in ours]
    ref_text = [engine.tokenizer.decode([r for r in t if r >= 0]) for t in ref]
    tokenize = "zh" if engine.target_lang == "zh" else "13a"
    bleu = sacrebleu.corpus_bleu(hyp_text, [ref_text], tokenize=tokenize).score
    return {
        "sentences": len(sentences),
        "identical": identical,
        "identical_ratio": round(identical / max(1, len(sentences)), 3),
        "bleu_vs_torch": round(bleu, 2),
    }


def verify_export(
    model: MarianMTModel,
    out: Path,
    *,
    precision: str,
    source_lang: str,
    pairs: Path | None = None,
    min_bleu: float = 50.0,
    model_ids: tuple[list[int], list[int]] | None = None,
    source_prefix: Sequence[int] = (),
) -> dict:
    """Run the checks described in the module docstring; raise VerificationError on failure.

    *precision* is the export's (``int8``, ``fp32`` or ``both``); *pairs* adds sentences
    from a pairs file to the built-in ones of *source_lang*; *model_ids* and
    *source_prefix* are as for :func:`compare`.
    """
    sentences = _sentences(pairs, 200, source_lang)
    report: dict = {}
    ref: dict = {}
    if (out / "fp32").is_dir() or precision == "fp32":
        report["fp32"] = compare(model, out, "fp32", sentences, model_ids, source_prefix, ref)
        logger.info("fp32 vs PyTorch: %s", report["fp32"])
        if report["fp32"]["identical_ratio"] < MIN_FP32_IDENTICAL:
            raise VerificationError(f"fp32 export differs from PyTorch: {report['fp32']}")
    if precision != "fp32":
        report["int8"] = compare(model, out, "int8", sentences, model_ids, source_prefix, ref)
        logger.info("INT8 vs PyTorch: %s", report["int8"])
        if report["int8"]["bleu_vs_torch"] < min_bleu:
            raise VerificationError(
                f"INT8 export diverges from PyTorch: BLEU {report['int8']['bleu_vs_torch']} < "
                f"{min_bleu} ({report['int8']})"
            )
    report["thresholds"] = {
        "fp32_identical_ratio": MIN_FP32_IDENTICAL,
        "int8_bleu_vs_torch": min_bleu,
    }
    return report
