"""The fp16 PyTorch checkpoint shipped beside the INT8 service files."""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_file, save_file


def ship_checkpoint(ckpt: Path, dest: Path) -> None:
    """Copy the PyTorch checkpoint in fp16 (half the size) for benchmarks and re-exports."""
    dest.mkdir(parents=True, exist_ok=True)
    state = load_file(str(ckpt / "model.safetensors"))
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file(half, str(dest / "model.safetensors"), metadata={"format": "pt"})
    # Tokenizer files too: the directory is a complete transformers Marian checkpoint.
    for name in (
        "config.json",
        "generation_config.json",
        "training_summary.json",
        "source.spm",
        "target.spm",
        "vocab.json",
        "tokenizer_config.json",
    ):
        if (ckpt / name).is_file():
            (dest / name).write_bytes((ckpt / name).read_bytes())
