"""The one-step decoder graph, written node by node with ``onnx.helper``.

Built by hand rather than traced because every node costs time at batch 1 (a traced
graph has ~370 nodes per step, most of them shape arithmetic) and because ONNX Runtime's
contrib attention ops remove the key/value cache copies:

* self-attention is ``GroupQueryAttention`` (with as many key/value heads as query heads)
  on a packed QKV projection. Its cache buffers have a fixed capacity and are bound as
  both ``past`` and ``present`` (I/O binding), so each step writes one position in place
  instead of concatenating the whole cache;
* cross-attention is ``MultiHeadAttention`` over the keys and values the encoder graph
  already projected, with the source padding as an additive bias;
* the output projection reads a [D, V'] matrix limited to the pieces the decoder can emit,
  and the embedding gathers its columns, so the largest matrix is stored once (checkpoints
  whose decoder embedding is not the output projection, as some tc-big ones, get their
  own [V', D] embedding table instead);
* log-softmax and top-k run in the graph: only k candidates per row reach Python.

Inputs: ``input_ids`` [N, 1] int64, ``position`` [1] int64, ``seqlens_k`` [N] int32 and
``total_length`` [] int32 (cache length before / after this step), ``cross_mask``
[N, 1, 1, S], ``top_k`` [1] int64, then ``past_{k,v}_{i}`` [N, H, T_max, Dh] and
``cross_{k,v}_{i}`` [N, H, S, Dh] (S plus the language-token prefix, if the encoder
adds one). Outputs: ``log_probs`` and ``token_ids`` [N, k], then
``present_{k,v}_{i}`` (the same buffers as ``past_*``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from transformers import MarianMTModel

from engine import contract as c

NEG_INF = -1e9
OPSET = 17


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(
        self, op_type: str, inputs: Sequence[str], domain: str = "", n_out: int = 1, **attrs: object
    ) -> str | list[str]:
        self._count += 1
        outs = [f"{op_type.lower()}_{self._count}_{i}" for i in range(n_out)]
        self.nodes.append(
            helper.make_node(
                op_type,
                list(inputs),
                outs,
                domain=domain or None,
                name=f"{op_type}_{self._count}",
                **attrs,
            )
        )
        return outs[0] if n_out == 1 else outs

    def linear(self, x: str, layer: torch.nn.Linear, name: str) -> str:
        w = self.const(f"{name}.w", layer.weight.detach().numpy().T)
        y = self.op("MatMul", [x, w])
        if layer.bias is None:
            return y
        return self.op("Add", [y, self.const(f"{name}.b", layer.bias.detach().numpy())])

    def layer_norm(self, x: str, ln: torch.nn.LayerNorm, name: str) -> str:
        scale = self.const(f"{name}.g", ln.weight.detach().numpy())
        bias = self.const(f"{name}.b", ln.bias.detach().numpy())
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=float(ln.eps))


def _packed_qkv(b: _Builder, x: str, attn: torch.nn.Module, name: str) -> str:
    ws = [getattr(attn, p).weight.detach().numpy().T for p in ("q_proj", "k_proj", "v_proj")]
    bs = [getattr(attn, p).bias.detach().numpy() for p in ("q_proj", "k_proj", "v_proj")]
    y = b.op("MatMul", [x, b.const(f"{name}.qkv.w", np.concatenate(ws, axis=1))])
    return b.op("Add", [y, b.const(f"{name}.qkv.b", np.concatenate(bs))])


def _activation(b: _Builder, x: str, name: str) -> str:
    if name in ("swish", "silu"):
        return b.op("Mul", [x, b.op("Sigmoid", [x])])
    if name == "relu":
        return b.op("Relu", [x])
    if name == "gelu":
        return b.op("Gelu", [x], domain="com.microsoft")
    raise ValueError(f"unsupported activation {name!r}")


def _layer(
    b: _Builder, x: str, layer: torch.nn.Module, i: int, heads: int, act: str, mask: str
) -> str:
    scale = layer.self_attn.scaling
    past, present, cross = (c.kv_names(kind, i) for kind in ("past", "present", "cross"))
    qkv = _packed_qkv(b, x, layer.self_attn, f"l{i}.self")
    attn, _, _ = b.op(
        "GroupQueryAttention",
        [qkv, "", "", *past, c.SEQLENS_K, c.TOTAL_LENGTH],
        domain="com.microsoft",
        n_out=3,
        num_heads=heads,
        kv_num_heads=heads,
        scale=scale,
    )
    b.nodes[-1].output[1:] = list(present)
    attn = b.linear(attn, layer.self_attn.out_proj, f"l{i}.self.o")
    x = b.layer_norm(b.op("Add", [x, attn]), layer.self_attn_layer_norm, f"l{i}.ln1")
    q = b.linear(x, layer.encoder_attn.q_proj, f"l{i}.cross.q")
    ctx = b.op(
        "MultiHeadAttention",
        [q, *cross, "", "", mask],
        domain="com.microsoft",
        num_heads=heads,
        scale=layer.encoder_attn.scaling,
    )
    ctx = b.linear(ctx, layer.encoder_attn.out_proj, f"l{i}.cross.o")
    x = b.layer_norm(b.op("Add", [x, ctx]), layer.encoder_attn_layer_norm, f"l{i}.ln2")
    h = _activation(b, b.linear(x, layer.fc1, f"l{i}.fc1"), act)
    h = b.linear(h, layer.fc2, f"l{i}.fc2")
    return b.layer_norm(b.op("Add", [x, h]), layer.final_layer_norm, f"l{i}.ln3")


def decoder_embedding_tied(model: MarianMTModel) -> bool:
    """True when the decoder's input embedding is its output projection (opus-mt's case).

    tc-big checkpoints may untie them (``tie_word_embeddings: false``); a copy with equal
    values counts as tied, since one matrix then serves both.
    """
    out = model.get_output_embeddings().weight
    emb = model.get_decoder().embed_tokens.weight
    if out.data_ptr() == emb.data_ptr():
        return True
    return out.shape == emb.shape and bool(torch.equal(out, emb))


def _embed(
    b: _Builder, model: MarianMTModel, ids: list[int], out_w: str, tied: bool, d_model: int
) -> str:
    """[N, 1] input ids -> [N, 1, D] scaled token embeddings (before positions)."""
    flat_ids = b.op("Reshape", [c.INPUT_IDS, b.const("ids_shape", np.array([-1], np.int64))])
    if tied:
        # Columns of the [D, V'] output matrix -> [D, N] -> [N, D].
        emb = b.op("Transpose", [b.op("Gather", [out_w, flat_ids], axis=1)], perm=[1, 0])
    else:
        table = model.get_decoder().embed_tokens.weight.detach().numpy()
        if max(ids) >= table.shape[0]:
            raise ValueError(
                f"decoder embedding has {table.shape[0]} rows but the decoder vocabulary "
                f"reaches id {max(ids)}"
            )
        emb = b.op("Gather", [b.const("emb_w", table[ids]), flat_ids], axis=0)
    emb = b.op("Reshape", [emb, b.const("step_shape", np.array([-1, 1, d_model], np.int64))])
    scale = math.sqrt(d_model) if model.config.scale_embedding else 1.0
    return b.op("Mul", [emb, b.const("embed_scale", np.array(scale, np.float32))])


def _cross_mask(b: _Builder, prefix: int) -> str:
    """The source padding bias, with *prefix* open positions for the encoder's prefix."""
    if not prefix:
        return c.CROSS_MASK
    first = b.op(
        "Slice",
        [
            c.CROSS_MASK,
            b.const("mask_start", np.array([0], np.int64)),
            b.const("mask_end", np.array([1], np.int64)),
            b.const("mask_axis", np.array([3], np.int64)),
        ],
    )
    # Zeros of [N, 1, 1, 1] (the mask is finite: -1e9 * 0 = 0), one per prefix position.
    zero = b.op("Mul", [first, b.const("mask_zero", np.array(0, np.float32))])
    return b.op("Concat", [*([zero] * prefix), c.CROSS_MASK], axis=3)


def build_decoder(
    model: MarianMTModel, target_ids: Sequence[int], banned: Sequence[int], prefix: int = 0
) -> onnx.ModelProto:
    """Return the decoder-step graph for *model*, emitting only *target_ids*.

    *target_ids* and *banned* are the checkpoint's target ids; *prefix* is the number of
    positions the encoder graph puts before each source (a language token).
    """
    cfg = model.config
    decoder = model.get_decoder()
    heads, d_model = cfg.decoder_attention_heads, cfg.d_model
    head_dim = d_model // heads
    if head_dim % 8 or head_dim * heads != d_model:
        raise ValueError(
            f"head size {d_model}/{heads} is not a whole multiple of 8, which ONNX Runtime's "
            "GroupQueryAttention requires"
        )
    ids = list(target_ids)
    b = _Builder()
    out_w = b.const("out_w", model.get_output_embeddings().weight.detach().numpy()[ids].T)
    bias = model.final_logits_bias.detach().numpy()[0, ids].copy()
    position = {tid: i for i, tid in enumerate(ids)}
    for tid in banned:
        if tid in position:
            bias[position[tid]] = NEG_INF
    emb = _embed(b, model, ids, out_w, decoder_embedding_tied(model), d_model)
    positions = decoder.embed_positions.weight.detach().numpy()
    pos = b.op("Gather", [b.const("positions", positions), c.POSITION], axis=0)
    x = b.op("Add", [emb, pos])
    mask = _cross_mask(b, prefix)
    for i, layer in enumerate(decoder.layers):
        x = _layer(b, x, layer, i, heads, cfg.activation_function, mask)
    flat = b.op("Reshape", [x, b.const("flat_shape", np.array([-1, d_model], np.int64))])
    logits = b.op("Add", [b.op("MatMul", [flat, out_w]), b.const("logits_bias", bias)])
    logp = b.op("LogSoftmax", [logits], axis=-1)
    b.op("TopK", [logp, c.TOP_K], n_out=2, axis=-1)
    b.nodes[-1].output[:] = [c.LOG_PROBS, c.TOKEN_IDS]
    return _graph(b, cfg.decoder_layers, heads, head_dim, prefix)


def _graph(b: _Builder, layers: int, heads: int, head_dim: int, prefix: int) -> onnx.ModelProto:
    f, i64, i32 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32
    cache = ["rows", heads, "max_len", head_dim]
    # With a prefix the encoder's outputs are longer than the padding mask.
    cross = ["rows", heads, "enc_len" if prefix else "src_len", head_dim]
    inputs = [
        helper.make_tensor_value_info(c.INPUT_IDS, i64, ["rows", 1]),
        helper.make_tensor_value_info(c.POSITION, i64, [1]),
        helper.make_tensor_value_info(c.SEQLENS_K, i32, ["rows"]),
        helper.make_tensor_value_info(c.TOTAL_LENGTH, i32, []),
        helper.make_tensor_value_info(c.CROSS_MASK, f, ["rows", 1, 1, "src_len"]),
        helper.make_tensor_value_info(c.TOP_K, i64, [1]),
    ]
    outputs = [
        helper.make_tensor_value_info(c.LOG_PROBS, f, ["rows", "k"]),
        helper.make_tensor_value_info(c.TOKEN_IDS, i64, ["rows", "k"]),
    ]
    for past, present in zip(c.past_names(layers), c.present_names(layers), strict=True):
        inputs.append(helper.make_tensor_value_info(past, f, cache))
        outputs.append(helper.make_tensor_value_info(present, f, cache))
    inputs += [helper.make_tensor_value_info(name, f, cross) for name in c.cross_names(layers)]
    graph = helper.make_graph(b.nodes, "marian_decoder_step", inputs, outputs, b.inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=False)
    return model
