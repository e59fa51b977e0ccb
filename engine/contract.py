"""The model directory contract, shared by the engine (reader) and the toolchain (writer).

A model directory holds ``encoder.onnx`` and ``decoder.onnx`` (INT8; fp32 copies under
``fp32/`` when exported with ``--precision both``), the SentencePiece models
``source.spm``/``target.spm``, the joint ``vocab.json``, ``vocab_rows.json`` (which
vocabulary ids each graph keeps) and ``manifest.json``: a :class:`Manifest` with the
languages, special ids, generation settings, the source preprocessing the model was
trained with, and the SHA-256 of every other file. The names of the graphs' inputs and
outputs are defined here too, so export and runtime cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

# 2: decoder step with GroupQueryAttention (in-place cache) and position/seqlens inputs.
# 3: typed manifest with source_lang/target_lang and a SHA-256 per file.
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
ENCODER = "encoder.onnx"
DECODER = "decoder.onnx"
SOURCE_SPM = "source.spm"
TARGET_SPM = "target.spm"
VOCAB = "vocab.json"
ROWS_FILE = "vocab_rows.json"
FP32_DIR = "fp32"
GRAPHS = (ENCODER, DECODER)
TOKENIZER_FILES = (SOURCE_SPM, TARGET_SPM, VOCAB)
REQUIRED_FILES = (*GRAPHS, *TOKENIZER_FILES, ROWS_FILE)
SPAN_MODES = ("placeholder", "verbatim")
PRECISIONS = ("int8", "fp32")

# Graph interface. The encoder maps (input_ids, attention_mask) to one cross-attention
# key and value per decoder layer; the decoder step reads those plus its own cache.
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
POSITION = "position"
SEQLENS_K = "seqlens_k"
TOTAL_LENGTH = "total_length"
CROSS_MASK = "cross_mask"
TOP_K = "top_k"
LOG_PROBS = "log_probs"
TOKEN_IDS = "token_ids"
DECODER_INPUTS = frozenset({INPUT_IDS, POSITION, SEQLENS_K, TOTAL_LENGTH, CROSS_MASK, TOP_K})


def kv_names(kind: str, layer: int) -> tuple[str, str]:
    """Key and value names of one decoder layer: *kind* is cross, past or present."""
    return f"{kind}_k_{layer}", f"{kind}_v_{layer}"


def _all(kind: str, layers: int) -> list[str]:
    return [name for i in range(layers) for name in kv_names(kind, i)]


def cross_names(layers: int) -> list[str]:
    """Encoder outputs = decoder cross inputs, in order: k then v for each layer."""
    return _all("cross", layers)


def past_names(layers: int) -> list[str]:
    return _all("past", layers)


def present_names(layers: int) -> list[str]:
    return _all("present", layers)


class ModelLoadError(RuntimeError):
    """The model directory is missing, incomplete or of an unknown format."""


@dataclass(frozen=True)
class Architecture:
    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    activation: str


@dataclass(frozen=True)
class SpecialIds:
    """Ids in the joint vocabulary, and how many rows each graph keeps."""

    eos: int
    unk: int
    pad: int
    decoder_start: int
    banned: tuple[int, ...]
    source_rows: int
    target_rows: int
    rows_file: str = ROWS_FILE


@dataclass(frozen=True)
class Generation:
    num_beams: int
    max_length: int


@dataclass(frozen=True)
class Manifest:
    model_id: str
    source_lang: str
    target_lang: str
    precision: str
    architecture: Architecture
    vocab: SpecialIds
    generation: Generation
    source_preprocessing: tuple[str, ...]
    span_mode: str
    # Relative path -> SHA-256 of every file of the directory but the manifest.
    files: Mapping[str, str]
    format_version: int = FORMAT_VERSION
    # Provenance (source checkpoint, exporter versions, quantization, sizes, checks).
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        return f"{self.source_lang}-{self.target_lang}"

    @classmethod
    def from_dict(cls, data: Any, where: str = MANIFEST) -> Manifest:
        """Validate *data* (parsed JSON) once; raise ModelLoadError naming the problem."""
        if not isinstance(data, dict):
            raise ModelLoadError(f"{where} must hold a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelLoadError(
                f"{where} has format_version {version!r}; this engine reads "
                f"{FORMAT_VERSION}. Re-export the model with `zh-en-translator export`"
            )
        known = {f.name for f in fields(cls)} - {"provenance"}
        missing = sorted(known - set(data) - {"format_version"})
        if missing:
            raise ModelLoadError(f"{where} lacks {', '.join(missing)}")
        try:
            manifest = cls(
                model_id=_text(data, "model_id"),
                source_lang=_text(data, "source_lang"),
                target_lang=_text(data, "target_lang"),
                precision=_choice(data, "precision", PRECISIONS),
                architecture=_record(Architecture, data["architecture"], "architecture"),
                vocab=_record(SpecialIds, data["vocab"], "vocab"),
                generation=_record(Generation, data["generation"], "generation"),
                source_preprocessing=tuple(_strings(data, "source_preprocessing")),
                span_mode=_choice(data, "span_mode", SPAN_MODES),
                files=dict(_digests(data["files"])),
                provenance={k: v for k, v in data.items() if k not in known},
            )
        except (TypeError, ValueError) as exc:
            raise ModelLoadError(f"{where}: {exc}") from None
        return manifest

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to ``manifest.json``."""
        data: dict[str, Any] = {"format_version": self.format_version}
        for f in fields(self):
            if f.name in ("format_version", "provenance"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, Architecture | SpecialIds | Generation):
                value = asdict(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            data[f.name] = value
        data["vocab"]["banned"] = list(self.vocab.banned)
        return data | dict(self.provenance)


def _text(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key!r} must be a non-empty string, got {value!r}")
    return value


def _choice(data: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = data[key]
    if value not in choices:
        raise ValueError(f"{key!r} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _strings(data: dict[str, Any], key: str) -> list[str]:
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key!r} must be a list of strings, got {value!r}")
    return value


def _digests(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in value.items()
    ):
        raise ValueError("'files' must map file names to SHA-256 hex digests")
    return value


def _record(kind: type, value: Any, key: str) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} must be an object, got {value!r}")
    names = {f.name: f for f in fields(kind)}
    given = {k: v for k, v in value.items() if k in names}
    for name, spec in names.items():
        if name not in given:
            continue
        want = str(spec.type)
        item = given[name]
        if want == "int" and (isinstance(item, bool) or not isinstance(item, int)):
            raise ValueError(f"'{key}.{name}' must be an integer, got {item!r}")
        if want == "tuple[int, ...]":
            if not isinstance(item, list) or not all(isinstance(i, int) for i in item):
                raise ValueError(f"'{key}.{name}' must be a list of integers, got {item!r}")
            given[name] = tuple(item)
    return kind(**given)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _served(root: Path, path: Path) -> bool:
    """True for the files the engine loads: not the manifest, the model card or the
    training checkpoint that some directories carry for re-exports."""
    if not path.is_file() or path.name == MANIFEST or path.suffix == ".md":
        return False
    return path.relative_to(root).parts[0] != "checkpoint"


def file_digests(root: Path) -> dict[str, str]:
    """SHA-256 of every served file under *root*, by relative POSIX path."""
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if _served(root, p)
    }


def read_manifest(root: Path) -> Manifest:
    """Parse and validate ``root/manifest.json``."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing: not an exported model") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from None
    return Manifest.from_dict(data, str(path))


def write_manifest(root: Path, manifest: Manifest) -> None:
    (root / MANIFEST).write_text(
        json.dumps(manifest.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
