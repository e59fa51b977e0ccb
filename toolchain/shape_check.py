"""Export a random-weight stand-in of a published model and measure it (toolchain/shapes.py).

    python -m toolchain.shape_check opus-mt-en-zh --work /tmp/shape-en-zh
    python -m toolchain.shape_check opus-mt-tc-big-zh-en --work /tmp/tc-big --layers 2

Builds the checkpoint, exports it with ``zh-en-translator export`` (INT8 for this CPU,
plus the fp32 graphs under fp32/ for the check; verified against PyTorch as every export
is), then decodes a fixed batch with the service engine, greedy, at batch 1 and at batch
16 (16 sources of 12 tokens, :func:`fixed_batch`), every sentence made to produce
exactly ``--tokens`` tokens since a random model's output lengths mean nothing. Prints
(and writes to ``WORK/report.json``) the export time, the INT8 size on disk, the
verification figures and the decoding speed; ``--speed-only`` measures an existing
``WORK/model`` again.

On random weights the export's greedy check says little. A random model with tied
embeddings mostly repeats its input token, which the loop guard cuts to one token, so
identical outputs still score 0 BLEU (no 2-grams); and the top two candidates of a random
model are close, so INT8 rounding flips one now and then and the sentence follows another
path. The report therefore adds the next-token agreement under teacher forcing: the
engine's greedy output (forced to ``--tokens`` tokens) is fed to PyTorch in one forward
pass, and a position agrees when PyTorch's best token is the engine's. That measures the
graphs (fp32: should be 1.0) and the INT8 rounding at this width without compounding;
``--min-bleu`` defaults to 0 for the same reason.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import MarianMTModel

from engine import Engine, GenerationOptions, ModelDir
from toolchain.export_vocab import plan_vocab
from toolchain.samples import samples
from toolchain.shapes import SHAPES, build

logger = logging.getLogger(__name__)


class _Clock(logging.Handler):
    """Remember when the export wrote the model directory (verification starts then)."""

    def __init__(self) -> None:
        super().__init__()
        self.written: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "toolchain.export" and record.getMessage().startswith("wrote "):
            self.written = time.perf_counter()


def _export(ckpt: Path, out: Path, langs: tuple[str, str], min_bleu: float) -> dict:
    from toolchain import export_cli

    clock = _Clock()
    logging.getLogger("toolchain.export").addHandler(clock)
    argv = [str(ckpt), "--out", str(out), "--source-lang", langs[0], "--target-lang", langs[1]]
    started = time.perf_counter()
    code = export_cli.main([*argv, "--precision", "both", "--min-bleu", str(min_bleu)])
    ended = time.perf_counter()
    logging.getLogger("toolchain.export").removeHandler(clock)
    if code:
        raise SystemExit(f"export failed (exit {code})")
    graphs_done = clock.written or ended
    return {
        "export_s": round(graphs_done - started, 1),
        "verify_s": round(ended - graphs_done, 1),
        "total_s": round(ended - started, 1),
    }


def fixed_batch(engine: Engine, sentences: int = 16, length: int = 12) -> list[list[int]]:
    """*sentences* sources of *length* encoder rows (the last ``</s>``), the same every run.

    Random rows rather than built-in sentences: the SentencePiece models trained on the
    tiny corpus cut real English into characters, far longer than OPUS-MT's pieces do.
    """
    special = {engine.tokenizer.src_eos, engine.tokenizer.src_unk}
    rows = [r for r in range(len(engine.model.rows()[0])) if r not in special]
    rng = random.Random(0)
    return [[*rng.sample(rows, length - 1), engine.tokenizer.src_eos] for _ in range(sentences)]


def _speed(out: Path, tokens: int, threads: int) -> dict:
    """Sentences per second, greedy, one sentence per call and all 16 in one call."""
    engine = Engine(ModelDir.load(out), intra_threads=threads)
    encoded = fixed_batch(engine)
    options = GenerationOptions(min_new_tokens=tokens, max_new_tokens=tokens, loop_guard=False)
    engine.generate(encoded[:2], options)  # warm-up
    started = time.perf_counter()
    for seq in encoded:
        engine.generate([seq], options)
    batch1 = time.perf_counter() - started
    started = time.perf_counter()
    outputs = engine.generate(encoded, options)
    batch16 = time.perf_counter() - started
    if any(len(o) != tokens for o in outputs):
        raise RuntimeError("the engine did not produce the requested number of tokens")
    n = len(encoded)
    return {
        "sentences": n,
        "source_tokens": len(encoded[0]),
        "target_tokens": tokens,
        "intra_threads": threads,
        "batch1_sent_per_s": round(n / batch1, 2),
        "batch16_sent_per_s": round(n / batch16, 2),
    }


@torch.no_grad()
def step_agreement(
    model: MarianMTModel, out: Path, precision: str, sentences: Sequence[str], tokens: int
) -> dict:
    """Next-token agreement of the engine with PyTorch under teacher forcing (see above)."""
    engine = Engine(ModelDir.load(out, precision), intra_threads=torch.get_num_threads())
    encoded = [engine.tokenizer.encode(engine.preprocess(s)) for s in sentences]
    options = GenerationOptions(min_new_tokens=tokens, max_new_tokens=tokens, loop_guard=False)
    ours = engine.generate(encoded, options)
    plan = plan_vocab(out.parent / "checkpoint", target_lang=engine.target_lang)
    source_ids, target_ids = plan.model_ids
    cfg = model.config
    allowed = torch.full((model.final_logits_bias.shape[-1],), -torch.inf)
    allowed[target_ids] = 0.0
    # Never chosen by the engine here: </s> (min_new_tokens), <pad> and the bad words.
    allowed[
        [cfg.eos_token_id, cfg.pad_token_id, *(w[0] for w in cfg.bad_words_ids or [])]
    ] = -torch.inf
    agree = total = 0
    for seq, rows in zip(encoded, ours, strict=True):
        ids = torch.tensor([[*plan.prefix, *(source_ids[r] for r in seq)]])
        dec = torch.tensor([[cfg.decoder_start_token_id, *(target_ids[r] for r in rows[:-1])]])
        logits = model(input_ids=ids, decoder_input_ids=dec).logits[0]
        best = (logits + allowed).argmax(-1).tolist()
        agree += sum(target_ids[r] == t for r, t in zip(rows, best, strict=True))
        total += len(rows)
    return {"positions": total, "top1_agreement": round(agree / max(1, total), 4)}


def _sizes(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    sizes = manifest["sizes"]
    mib = {k: round(v / 2**20, 1) for k, v in sizes.items()}
    return {"int8_dir_mib": mib.pop("total_int8_dir"), "files_mib": mib} | {
        "vocabulary": manifest.get("vocabulary"),
        "verification": manifest.get("verification"),
    }


def run(
    name: str, work: Path, layers: int | None, tokens: int, threads: int, min_bleu: float
) -> dict:
    shape = SHAPES[name]
    if layers:
        shape = shape.scaled(layers=layers)
    source_lang, target_lang = ("en", "zh") if shape.reverse else ("zh", "en")
    started = time.perf_counter()
    ckpt = build(shape, work / "checkpoint")
    report: dict = {"shape": name, "layers": shape.layers, "d_model": shape.d_model}
    report["build_s"] = round(time.perf_counter() - started, 1)
    report["timing"] = _export(ckpt, work / "model", (source_lang, target_lang), min_bleu)
    report |= _sizes(work / "model")
    model = MarianMTModel.from_pretrained(ckpt, attn_implementation="eager").eval()
    report["teacher_forced"] = {
        precision: step_agreement(model, work / "model", precision, samples(source_lang), tokens)
        for precision in ("fp32", "int8")
    }
    del model
    report["speed"] = _speed(work / "model", tokens, threads)
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--layers", type=int, help="encoder and decoder layers (default: real)")
    parser.add_argument("--tokens", type=int, default=20, help="output tokens per sentence")
    parser.add_argument("--threads", type=int, default=2, help="torch and engine threads")
    parser.add_argument(
        "--min-bleu", type=float, default=0.0, help="the export's INT8 threshold (see above)"
    )
    parser.add_argument("--speed-only", action="store_true", help="re-measure WORK/model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    if args.speed_only:
        saved = args.work / "report.json"
        report = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {}
        report["speed"] = _speed(args.work / "model", args.tokens, args.threads)
    else:
        report = run(args.shape, args.work, args.layers, args.tokens, args.threads, args.min_bleu)
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    sys.stdout.write(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
