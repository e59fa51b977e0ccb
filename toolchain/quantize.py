"""INT8 dynamic quantization with ONNX Runtime, chosen for the CPU it will run on.

ONNX Runtime's guidance (quantization docs, "When to use reduce-range and per-channel
quantization"): U8S8 kernels on AVX2 and non-VNNI AVX512 can saturate, so 7-bit weights
(reduce_range) are used there, and per-channel scales then recover the accuracy; with
VNNI there is no saturation and full 8-bit weights are kept.
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuantSettings:
    target: str
    per_channel: bool
    reduce_range: bool
    weight_type: str = "QInt8"
    op_types: tuple[str, ...] = ("MatMul", "Gather")

    def as_dict(self) -> dict:
        return asdict(self)


def cpu_flags() -> set[str]:
    """Return this CPU's feature flags (empty where /proc/cpuinfo is unavailable)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as handle:
            for line in handle:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def settings_for(target: str = "auto") -> QuantSettings:
    """Pick quantization settings for ``avx2``, ``avx512``, ``vnni`` or ``auto`` (this CPU)."""
    if target == "auto":
        flags = cpu_flags()
        if flags & {"avx512_vnni", "avx_vnni", "amx_int8"}:
            target = "vnni"
        elif "avx512f" in flags:
            target = "avx512"
        elif "avx2" in flags:
            target = "avx2"
        else:
            target = platform.machine() or "generic"
    if target == "vnni":
        return QuantSettings(target, per_channel=True, reduce_range=False)
    if target in ("avx2", "avx512"):
        return QuantSettings(target, per_channel=True, reduce_range=True)
    # ARM (dot-product kernels) and unknown CPUs: plain per-tensor 8-bit.
    return QuantSettings(target, per_channel=False, reduce_range=False)


def quantize(
    src: Path, dst: Path, settings: QuantSettings, float_gathers: Collection[str] = ()
) -> None:
    """Quantize the MatMul weights and embedding Gathers of *src* into *dst*.

    Gathers from the initializers named in *float_gathers* (the decoder's output matrix,
    which :func:`share_output_embedding` handles) and from position tables stay float.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(src))
    excluded = []
    for node in model.graph.node:
        if node.op_type == "Gather" and (node.input[0] in float_gathers or _reads_positions(node)):
            excluded.append(node.name)
    quantize_dynamic(
        str(src),
        str(dst),
        per_channel=settings.per_channel,
        reduce_range=settings.reduce_range,
        weight_type=getattr(QuantType, settings.weight_type),
        op_types_to_quantize=list(settings.op_types),
        nodes_to_exclude=excluded,
        # Shape inference cannot type the outputs of contrib attention ops; all float.
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _reads_positions(node: onnx.NodeProto) -> bool:
    return any("position" in name for name in node.input)


def share_output_embedding(path: Path, weight: str) -> int:
    """Make the decoder's embedding read the quantized output projection; return bytes saved.

    The decoder graph gathers embedding columns from the same [D, V] matrix its output
    MatMul uses. After quantization the MatMul reads ``<weight>_quantized`` while the
    Gather still holds the float original, a second and four times larger copy. Here the
    Gather is pointed at the INT8 matrix and followed by a per-column DequantizeLinear,
    and the float copy is dropped.
    """
    model = onnx.load(str(path))
    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    q_name, s_name, z_name = f"{weight}_quantized", f"{weight}_scale", f"{weight}_zero_point"
    if weight not in inits or q_name not in inits:
        return 0
    gathers = [n for n in graph.node if n.op_type == "Gather" and n.input[0] == weight]
    if len(gathers) != 1 or any(weight in n.input for n in graph.node if n not in gathers):
        return 0
    gather = gathers[0]
    ids, out = gather.input[1], gather.output[0]
    scale = numpy_helper.to_array(inits[s_name])
    new_nodes = [helper.make_node("Gather", [q_name, ids], [out + "_q"], axis=1)]
    if scale.ndim == 0 or scale.size == 1:
        new_nodes.append(helper.make_node("DequantizeLinear", [out + "_q", s_name, z_name], [out]))
    else:
        new_nodes += [
            helper.make_node("Gather", [s_name, ids], [out + "_s"], axis=0),
            helper.make_node("Gather", [z_name, ids], [out + "_z"], axis=0),
            helper.make_node(
                "DequantizeLinear", [out + "_q", out + "_s", out + "_z"], [out], axis=1
            ),
        ]
    index = list(graph.node).index(gather)
    graph.node.remove(gather)
    for offset, node in enumerate(new_nodes):
        graph.node.insert(index + offset, node)
    saved = int(np.prod(inits[weight].dims)) * 4
    graph.initializer.remove(inits[weight])
    onnx.save(model, str(path))
    logger.info("decoder embedding now reads the INT8 output projection (-%d bytes)", saved)
    return saved
