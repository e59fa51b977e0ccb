"""The two graphs of the engine format, as torch modules ready for ``torch.onnx.export``.

``EncoderGraph``: source ids (already mapped to the encoder's own rows) → the key and
value of every decoder layer's cross-attention, so the decoder never recomputes them.

``DecoderGraph``: one step for N rows → the top-k log-probabilities and token ids plus
the self-attention cache grown by one position. The first step uses a cache of length
zero, so a single graph (one copy of the weights) serves every step.

Both keep only the embedding rows their side can see: the encoder the source pieces, the
decoder the target pieces. In a joint-vocabulary Marian model such as opus-mt-zh-en the
two halves barely overlap, so the output projection (the largest matrix) shrinks to the
target half and no embedding row is stored twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from transformers import MarianMTModel

NEG_INF = -1e9


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    n, t, d = x.shape
    return x.view(n, t, heads, d // heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    n, h, t, dh = x.shape
    return x.transpose(1, 2).reshape(n, t, h * dh)


def _activation(name: str):  # noqa: ANN202 - returns a torch function
    table = {"swish": nn.functional.silu, "silu": nn.functional.silu, "gelu": nn.functional.gelu}
    table["relu"] = nn.functional.relu
    if name not in table:
        raise ValueError(f"unsupported activation {name!r}")
    return table[name]


class EncoderGraph(nn.Module):
    """Encode a batch and project the result into every layer's cross-attention K and V."""

    def __init__(self, model: MarianMTModel, source_ids: Sequence[int]) -> None:
        super().__init__()
        cfg = model.config
        self.encoder = model.get_encoder()
        weight = self.encoder.embed_tokens.weight.detach()
        self.embed = nn.Parameter(weight[list(source_ids)].clone(), requires_grad=False)
        self.scale = math.sqrt(cfg.d_model) if cfg.scale_embedding else 1.0
        self.cross = nn.ModuleList([layer.encoder_attn for layer in model.get_decoder().layers])
        self.heads = cfg.decoder_attention_heads

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):  # noqa: ANN201
        embeds = nn.functional.embedding(input_ids, self.embed) * self.scale
        hidden = self.encoder(inputs_embeds=embeds, attention_mask=attention_mask)[0]
        outputs = []
        for attn in self.cross:
            outputs.append(_split_heads(attn.k_proj(hidden), self.heads))
            outputs.append(_split_heads(attn.v_proj(hidden), self.heads))
        return tuple(outputs)


class DecoderGraph(nn.Module):
    """One decoding step with a self-attention cache, returning top-k candidates."""

    def __init__(
        self, model: MarianMTModel, target_ids: Sequence[int], banned: Sequence[int], top_k: int
    ) -> None:
        super().__init__()
        cfg = model.config
        decoder = model.get_decoder()
        ids = list(target_ids)
        # Stored transposed, [D, V']: the output projection reads it as is and the
        # embedding gathers columns from it, so one matrix serves both.
        out_w = model.get_output_embeddings().weight.detach()[ids].t().contiguous()
        self.out_w = nn.Parameter(out_w, requires_grad=False)
        tied = (
            model.get_output_embeddings().weight.data_ptr()
            == decoder.embed_tokens.weight.data_ptr()
        )
        if not tied:
            emb = decoder.embed_tokens.weight.detach()[ids].clone()
            self.embed = nn.Parameter(emb, requires_grad=False)
        else:
            self.embed = None
        bias = model.final_logits_bias.detach()[0, ids].clone()
        position = {tid: i for i, tid in enumerate(ids)}
        for tid in banned:
            if tid in position:
                bias[position[tid]] = NEG_INF
        self.register_buffer("bias", bias)
        self.register_buffer("positions", decoder.embed_positions.weight.detach().clone())
        self.scale = math.sqrt(cfg.d_model) if cfg.scale_embedding else 1.0
        self.layers = decoder.layers
        self.heads = cfg.decoder_attention_heads
        self.act = _activation(cfg.activation_function)
        self.top_k = top_k

    def _embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return nn.functional.embedding(input_ids, self.embed)
        # Columns of the [D, V'] matrix: Gather(axis=1) in ONNX, shared with the MatMul.
        return torch.index_select(self.out_w, 1, input_ids.reshape(-1)).t().unsqueeze(1)

    def _attend(
        self,
        attn: nn.Module,
        q_in: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        q = _split_heads(attn.q_proj(q_in) * attn.scaling, self.heads)
        scores = torch.matmul(q, k.transpose(-1, -2))
        if mask is not None:
            scores = scores + mask
        probs = torch.softmax(scores, dim=-1)
        return attn.out_proj(_merge_heads(torch.matmul(probs, v)))

    def forward(self, input_ids: torch.Tensor, cross_mask: torch.Tensor, *cache: torch.Tensor):  # noqa: ANN201
        n_layers = len(self.layers)
        past, cross = cache[: 2 * n_layers], cache[2 * n_layers :]
        step = past[0].shape[2]
        x = self._embed(input_ids) * self.scale + self.positions[step]
        presents = []
        for i, layer in enumerate(self.layers):
            sa = layer.self_attn
            k = torch.cat([past[2 * i], _split_heads(sa.k_proj(x), self.heads)], dim=2)
            v = torch.cat([past[2 * i + 1], _split_heads(sa.v_proj(x), self.heads)], dim=2)
            presents += [k, v]
            x = layer.self_attn_layer_norm(x + self._attend(sa, x, k, v, None))
            ca = layer.encoder_attn
            x = layer.encoder_attn_layer_norm(
                x + self._attend(ca, x, cross[2 * i], cross[2 * i + 1], cross_mask)
            )
            x = layer.final_layer_norm(x + layer.fc2(self.act(layer.fc1(x))))
        logits = torch.matmul(x[:, 0, :], self.out_w) + self.bias
        values, indices = torch.topk(torch.log_softmax(logits, dim=-1), self.top_k, dim=-1)
        return (values, indices, *presents)
