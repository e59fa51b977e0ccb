"""Turn a transformers Marian checkpoint into the service's model directory.

Steps: load the checkpoint (hub id or local directory) → export the encoder and the
one-step decoder (``toolchain.onnx_graphs``) to ONNX → quantize to INT8 for this CPU →
copy the tokenizer files → write ``manifest.json`` → verify the result against the
PyTorch model through the service's own engine.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import onnx
import torch
from transformers import MarianMTModel

from engine import contract
from engine.contract import (
    MANIFEST,
    ROWS_FILE,
    TOKENIZER_FILES,
    Architecture,
    Generation,
    Manifest,
    SpecialIds,
    file_digests,
    write_manifest,
)
from toolchain.decoder_graph import build_decoder, decoder_embedding_tied
from toolchain.encoder_graph import EncoderGraph
from toolchain.export_vocab import VocabPlan, plan_vocab
from toolchain.quantize import QuantSettings, quantize, settings_for, share_output_embedding

logger = logging.getLogger(__name__)

OPSET = 17


@dataclass
class ExportOptions:
    model_id: str | None = None
    source_lang: str = "zh"
    target_lang: str = "en"
    source_preprocessing: Sequence[str] = ("opus_punct",)
    span_mode: str = "verbatim"
    precision: str = "int8"  # "int8", "fp32", or "both" (INT8 plus fp32/ for comparison)
    quantization: str = "auto"
    shortlist: bool = True
    # Explicit (encoder rows, decoder rows) as checkpoint ids; for checkpoints without
    # real tokenizer models, such as the benchmark's random opus-mt-shaped one.
    rows: tuple[list[int], list[int]] | None = None
    # ">>id<<" language token put before every source: "auto" picks the target
    # language's when the vocabulary has such tokens (toolchain/export_vocab.py).
    target_token: str = "auto"
    verify: bool = True
    verify_pairs: Path | None = None
    min_verify_bleu: float = 50.0
    extra_manifest: dict = field(default_factory=dict)


def resolve_checkpoint(source: str) -> Path:
    """Return a local directory for *source*, downloading a hub id if a network allows."""
    path = Path(source)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(
            snapshot_download(source, allow_patterns=["*.json", "*.spm", "*.bin", "*.safetensors"])
        )
    except Exception as exc:  # network errors come in many types
        raise SystemExit(
            f"{source!r} is not a local directory and could not be downloaded from the "
            f"Hugging Face hub ({type(exc).__name__}: {exc}). Download it where a network "
            "exists and pass the directory instead."
        ) from exc


def _export_graphs(model: MarianMTModel, plan: VocabPlan, banned: list[int], out: Path) -> None:
    """Trace the encoder with torch.onnx; build the decoder step node by node."""
    layers = model.config.decoder_layers
    enc = EncoderGraph(model, plan.model_ids[0], plan.prefix).eval()
    ids = torch.tensor([[5, 6, 7, 0]], dtype=torch.long)
    cross_names = contract.cross_names(layers)
    inputs = [contract.INPUT_IDS, contract.ATTENTION_MASK]
    dyn = {name: {0: "batch", 1: "src_len"} for name in inputs}
    dyn |= {name: {0: "batch", 2: "enc_len"} for name in cross_names}
    with torch.no_grad():
        torch.onnx.export(
            enc,
            (ids, torch.ones_like(ids)),
            str(out / contract.ENCODER),
            dynamo=False,
            input_names=inputs,
            output_names=cross_names,
            dynamic_axes=dyn,
            opset_version=OPSET,
        )
    decoder = build_decoder(model, plan.model_ids[1], banned, prefix=len(plan.prefix))
    onnx.save(decoder, str(out / contract.DECODER))


def _quantize_dir(fp32_dir: Path, out: Path, settings: QuantSettings) -> None:
    encoder, decoder = contract.ENCODER, contract.DECODER
    quantize(fp32_dir / encoder, out / encoder, settings)
    quantize(fp32_dir / decoder, out / decoder, settings, float_gathers=("out_w",))
    share_output_embedding(out / decoder, "out_w")


def _provenance(source: str, settings: QuantSettings | None) -> dict:
    """Where the model came from and how it was built: informative, not read at load."""
    import onnxruntime
    import transformers

    from toolchain.quantize import cpu_flags

    flags = {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "fma"}
    quantization = None
    if settings:
        quantization = settings.as_dict() | {"cpu_flags": sorted(cpu_flags() & flags)}
    return {
        "source": source,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "exporter": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__,
            "opset": OPSET,
        },
        "quantization": quantization,
    }


def _manifest(
    model: MarianMTModel,
    source: str,
    plan: VocabPlan,
    banned: list[int],
    options: ExportOptions,
    out: Path,
    settings: QuantSettings | None,
) -> Manifest:
    cfg = model.config
    gen = model.generation_config
    vocab, rows = plan.vocab, plan.rows
    tied = decoder_embedding_tied(model)
    return Manifest(
        model_id=options.model_id or Path(source.rstrip("/")).name,
        source_lang=options.source_lang,
        target_lang=options.target_lang,
        precision="int8" if settings else "fp32",
        architecture=Architecture(
            d_model=cfg.d_model,
            encoder_layers=cfg.encoder_layers,
            decoder_layers=cfg.decoder_layers,
            heads=cfg.decoder_attention_heads,
            ffn=cfg.decoder_ffn_dim,
            vocab_size=len(vocab),
            max_positions=cfg.max_position_embeddings,
            activation=cfg.activation_function,
        ),
        vocab=SpecialIds(
            eos=vocab["</s>"],
            unk=vocab["<unk>"],
            pad=vocab["<pad>"],
            decoder_start=plan.target_joint_id(cfg.decoder_start_token_id),
            banned=tuple(sorted(plan.target_joint_id(i) for i in banned)),
            source_rows=len(rows[0]),
            target_rows=len(rows[1]),
        ),
        generation=Generation(
            num_beams=gen.num_beams or 1,
            max_length=min(
                gen.max_length or cfg.max_position_embeddings, cfg.max_position_embeddings
            ),
        ),
        source_preprocessing=tuple(options.source_preprocessing),
        span_mode=options.span_mode,
        files=file_digests(out),
        provenance=_provenance(source, settings)
        | {"vocabulary": plan.summary(tied), "sizes": _sizes(out, settings)}
        | options.extra_manifest,
    )


def _sizes(out: Path, settings: QuantSettings | None) -> dict[str, int]:
    sizes = {
        p.relative_to(out).as_posix(): p.stat().st_size
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    total = sum(v for k, v in sizes.items() if not k.startswith("fp32/"))
    return sizes | {"total_int8_dir" if settings else "total": total}


def _banned(model: MarianMTModel, plan: VocabPlan) -> list[int]:
    """Target ids the decoder must never emit: ``<pad>`` and single-token bad words."""
    words = model.generation_config.bad_words_ids or model.config.bad_words_ids or []
    return sorted({plan.target_vocab["<pad>"]} | {ids[0] for ids in words if len(ids) == 1})


def _check_sizes(model: MarianMTModel, plan: VocabPlan) -> None:
    """Fail clearly where the vocabulary files and the checkpoint's matrices disagree."""
    limits = (
        ("encoder embedding", model.get_encoder().embed_tokens.weight.shape[0], plan.model_ids[0]),
        ("output projection", model.get_output_embeddings().weight.shape[0], plan.model_ids[1]),
    )
    for what, size, ids in limits:
        if max(ids) >= size:
            raise ValueError(f"the {what} has {size} rows but the vocabulary reaches id {max(ids)}")


def _write_tokenizer(ckpt: Path, out: Path, plan: VocabPlan) -> None:
    for name in TOKENIZER_FILES:
        if name == contract.VOCAB and plan.separate:
            text = json.dumps(plan.vocab, ensure_ascii=False)
            (out / name).write_text(text, encoding="utf-8")
        else:
            shutil.copy(ckpt / name, out / name)
    rows = {"source_rows": plan.rows[0], "target_rows": plan.rows[1]}
    (out / ROWS_FILE).write_text(json.dumps(rows))


def _write_graphs(
    model: MarianMTModel,
    plan: VocabPlan,
    banned: list[int],
    out: Path,
    options: ExportOptions,
) -> QuantSettings | None:
    """Write the graphs in the requested precision; return the INT8 settings used."""
    for stale in (*contract.GRAPHS, contract.FP32_DIR):
        target = out / stale
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    settings = None if options.precision == "fp32" else settings_for(options.quantization)
    with tempfile.TemporaryDirectory() as tmp:
        fp32_dir = Path(tmp)
        _export_graphs(model, plan, banned, fp32_dir)
        if settings is None:
            for name in contract.GRAPHS:
                shutil.copy(fp32_dir / name, out / name)
        else:
            _quantize_dir(fp32_dir, out, settings)
            if options.precision == "both":
                (out / contract.FP32_DIR).mkdir()
                for name in contract.GRAPHS:
                    shutil.copy(fp32_dir / name, out / contract.FP32_DIR / name)
    return settings


def export_model(source: str, out: Path, options: ExportOptions) -> Manifest:
    """Export *source* into the model directory *out*; return the written manifest."""
    ckpt = resolve_checkpoint(source)
    model = MarianMTModel.from_pretrained(ckpt, attn_implementation="eager").eval()
    plan = plan_vocab(
        ckpt,
        shortlist=options.shortlist,
        rows=options.rows,
        target_token=options.target_token,
        target_lang=options.target_lang,
    )
    _check_sizes(model, plan)
    eos = model.generation_config.eos_token_id
    if eos not in (None, plan.target_vocab["</s>"]):
        logger.warning("eos_token_id %s is not the id of </s> (%s)", eos, plan.target_vocab["</s>"])
    banned = _banned(model, plan)
    out.mkdir(parents=True, exist_ok=True)
    _write_tokenizer(ckpt, out, plan)
    settings = _write_graphs(model, plan, banned, out, options)
    manifest = _manifest(model, source, plan, banned, options, out, settings)
    write_manifest(out, manifest)
    sizes = manifest.provenance["sizes"]
    logger.info("wrote %s (%.1f MB)", out, sizes.get("total_int8_dir", 0) / 1e6)
    if options.verify:
        from toolchain.verify import verify_export

        report = verify_export(
            model,
            out,
            precision=options.precision,
            source_lang=options.source_lang,
            pairs=options.verify_pairs,
            min_bleu=options.min_verify_bleu,
            model_ids=plan.model_ids,
            source_prefix=plan.prefix,
        )
        manifest = replace(manifest, provenance={**manifest.provenance, "verification": report})
        write_manifest(out, manifest)
    return manifest
