"""Build a tiny Marian zh→en (or en→zh) checkpoint locally, for tests and benchmarks.

Two uses: the test suite needs a real model directory (real SentencePiece models, real
ONNX graphs) without any download, and the speed benchmark needs a model with the exact
shapes of opus-mt-zh-en, whose weights cannot be downloaded here.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import MarianMTModel

from toolchain.trainer import TrainConfig, marian_config
from toolchain.vocab import target_piece_ids, train_spm, write_tokenizer_files

_ZH_CHARS = "我你他她们是的了在有不这个人来到说要会就去好吗很大小中国家学生天时年月日买卖钱元件号"
_EN_WORDS = (
    "i you he she they is of done at have not this one person come arrive say want "
    "will then go good ask very big small middle country home learn born day time "
    "year month date buy sell money yuan item number "
).split()
# A word-for-character code: trivial to learn, so a minute of training gives a model whose
# greedy output is a real sequence rather than the loops of random weights.
LEXICON = dict(zip(_ZH_CHARS, _EN_WORDS, strict=True))


def corpus(lines: int = 400, seed: int = 0) -> tuple[list[str], list[str]]:
    """Deterministic parallel lines: random Chinese characters and their code words."""
    rng = random.Random(seed)
    zh, en = [], []
    for _ in range(lines):
        chars = [rng.choice(_ZH_CHARS) for _ in range(rng.randint(2, 8))]
        zh.append("".join(chars) + "。")
        en.append(" ".join(LEXICON[c] for c in chars).capitalize() + ".")
    return zh, en


def build_checkpoint(
    out: Path,
    *,
    d_model: int = 32,
    layers: int = 2,
    heads: int = 2,
    ffn: int = 64,
    vocab_sizes: tuple[int, int] = (120, 120),
    pad_vocab_to: int | None = None,
    seed: int = 0,
    weight_std: float = 0.5,
    train_steps: int = 0,
    reverse: bool = False,
) -> Path:
    """Save a random-weight Marian checkpoint with real tokenizer files to *out*.

    ``pad_vocab_to`` grows vocab.json with dummy pieces (split evenly between the source
    and target halves, as opus-mt's joint vocabulary is) to reach a given size.
    ``weight_std`` makes the random model's choices confident; ``train_steps`` then
    teaches it the code of :func:`corpus` so its outputs are real translations;
    ``reverse`` makes it read the code words and write the characters (en→zh).
    """
    zh, en = corpus(seed=seed)
    sources, targets = (en, zh) if reverse else (zh, en)
    source = train_spm(sources, vocab_sizes[0], character_coverage=1.0)
    target = train_spm(targets, vocab_sizes[1], character_coverage=1.0)
    vocab = write_tokenizer_files(out, source, target)
    if pad_vocab_to:
        vocab = _pad_vocab(out, vocab, pad_vocab_to)
    torch.manual_seed(seed)
    layout = TrainConfig(
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        heads=heads,
        ffn=ffn,
        max_positions=512,
        dropout=0.1,
        attention_dropout=0.0,
        activation_dropout=0.0,
    )
    config = marian_config(vocab, layout)
    model = MarianMTModel(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            # Large random weights only for untrained models; training starts from the
            # library's default initialisation.
            if not train_steps and param.dim() == 2 and "embed_positions" not in name:
                param.normal_(0.0, weight_std / param.shape[-1] ** 0.5 * 4)
        # A trained model never emits source-only pieces; make the random one agree, so
        # the decoder's target-only output layer gives the same choices as PyTorch.
        emittable = set(target_piece_ids(target, vocab))
        for token_id in range(len(vocab)):
            if token_id not in emittable:
                model.final_logits_bias[0, token_id] = -30.0
    if train_steps:
        fit(model, (vocab, vocab), (source, target), sources, targets, train_steps, seed)
    model.save_pretrained(out)
    return out


def fit(
    model: MarianMTModel,
    vocabs: tuple[dict[str, int], dict[str, int]],
    spms: tuple[bytes, bytes],
    sources: list[str],
    targets: list[str],
    steps: int,
    seed: int,
    lr: float = 1e-3,
    prefix: Sequence[int] = (),
) -> None:
    """Teach *model* the parallel lines, with batches of 32 for *steps* steps.

    *vocabs* and *spms* are (source, target): the same vocabulary twice for a joint one;
    *prefix* ids (a language token) go before every source, as MarianTokenizer puts them.
    """
    import sentencepiece as spm

    from text.normalize import opus_punct

    def ids(processor: spm.SentencePieceProcessor, vocab: dict[str, int], text: str) -> list[int]:
        pieces = processor.encode(text, out_type=str)
        return [vocab.get(p, vocab["<unk>"]) for p in pieces] + [vocab["</s>"]]

    src = spm.SentencePieceProcessor(model_proto=spms[0])
    tgt = spm.SentencePieceProcessor(model_proto=spms[1])
    pairs = zip(sources, targets, strict=True)
    data = [
        ([*prefix, *ids(src, vocabs[0], opus_punct(a))], ids(tgt, vocabs[1], b)) for a, b in pairs
    ]
    rng = random.Random(seed)
    pad = vocabs[0]["<pad>"]
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        batch = rng.sample(data, 32)
        s_len = max(len(s) for s, _ in batch)
        t_len = max(len(t) for _, t in batch)
        inputs = torch.tensor([s + [pad] * (s_len - len(s)) for s, _ in batch])
        labels = torch.tensor([t + [-100] * (t_len - len(t)) for _, t in batch])
        loss = model(input_ids=inputs, attention_mask=(inputs != pad).long(), labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def _pad_vocab(out: Path, vocab: dict[str, int], size: int) -> dict[str, int]:
    """Insert dummy pieces so vocab.json has *size* entries, pad still last."""
    import json

    pieces = [p for p in vocab if p not in ("<pad>",)]
    extra = size - len(vocab)
    pieces += [f"▁zz{i}" for i in range(extra)]
    vocab = {p: i for i, p in enumerate(pieces)}
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return vocab


def opus_shape(out: Path) -> Path:
    """A random checkpoint shaped like Helsinki-NLP/opus-mt-zh-en (d512, 6+6, 65,001 vocab)."""
    return build_checkpoint(
        out, d_model=512, layers=6, heads=8, ffn=2048, vocab_sizes=(8000, 8000), pad_vocab_to=65001
    )


def sample_sentences(n: int, seed: int = 1) -> Sequence[str]:
    return corpus(lines=n, seed=seed)[0]
