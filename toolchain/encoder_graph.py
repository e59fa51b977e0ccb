"""The encoder graph, as a torch module ready for ``torch.onnx.export``.

Source ids (already mapped to the encoder's own embedding rows) → the key and value of
every decoder layer's cross-attention, [N, H, S, Dh] each, so the decoder step never
recomputes them. The encoder keeps only the embedding rows of source pieces: in a
joint-vocabulary Marian model such as opus-mt-zh-en the source and target halves barely
overlap, and the decoder (toolchain/decoder_graph.py) keeps the other half.

A multi-target model's language token (``>>cmn_Hans<<``, toolchain/export_vocab.py) is
put before every source here, as MarianTokenizer does: its embedding is a constant of the
graph, so the outputs have one position more than ``input_ids``; the decoder step graph
adds that position to the cross-attention mask itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from transformers import MarianMTModel


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    n, t, d = x.shape
    return x.view(n, t, heads, d // heads).transpose(1, 2)


class EncoderGraph(nn.Module):
    """Encode a batch and project the result into every layer's cross-attention K and V."""

    def __init__(
        self, model: MarianMTModel, source_ids: Sequence[int], prefix_ids: Sequence[int] = ()
    ) -> None:
        super().__init__()
        cfg = model.config
        self.encoder = model.get_encoder()
        weight = self.encoder.embed_tokens.weight.detach()
        self.embed = nn.Parameter(weight[list(source_ids)].clone(), requires_grad=False)
        self.prefix = nn.Parameter(weight[list(prefix_ids)].clone(), requires_grad=False)
        self.prefix_len = len(prefix_ids)
        self.scale = math.sqrt(cfg.d_model) if cfg.scale_embedding else 1.0
        self.cross = nn.ModuleList([layer.encoder_attn for layer in model.get_decoder().layers])
        self.heads = cfg.decoder_attention_heads

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):  # noqa: ANN201
        embeds = nn.functional.embedding(input_ids, self.embed)
        if self.prefix_len:
            batch = input_ids.shape[0]
            embeds = torch.cat([self.prefix[None].expand(batch, -1, -1), embeds], dim=1)
            ones = attention_mask.new_ones((batch, self.prefix_len))
            attention_mask = torch.cat([ones, attention_mask], dim=1)
        embeds = embeds * self.scale
        hidden = self.encoder(inputs_embeds=embeds, attention_mask=attention_mask)[0]
        outputs = []
        for attn in self.cross:
            outputs.append(_split_heads(attn.k_proj(hidden), self.heads))
            outputs.append(_split_heads(attn.v_proj(hidden), self.heads))
        return tuple(outputs)
