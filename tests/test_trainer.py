"""The resumable mixture training (long_train.py, checkpoints.py) on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import MarianMTModel

from text.normalize import SourcePreprocessor
from toolchain import checkpoints
from toolchain.data import Pair
from toolchain.long_train import Run, RunConfig, dev_fingerprint, train_loop
from toolchain.mixture import Mixture, MixtureConfig
from toolchain.tiny import build_checkpoint, corpus
from toolchain.trainer import Codec, TrainConfig, marian_config
from toolchain.vocab import train_spm, write_tokenizer_files

STEPS = ("opus_punct",)
CFG = TrainConfig(
    d_model=16, encoder_layers=1, decoder_layers=1, heads=2, ffn=32, dropout=0.0,
    lr=3e-3, warmup_steps=2, batch_tokens=200, max_positions=64, seed=3,
)  # fmt: skip


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    zh, en = corpus(80, seed=5)
    return [Pair(e, z) for z, e in zip(zh, en, strict=True)]


@pytest.fixture(scope="module")
def vocab_dir(tmp_path_factory: pytest.TempPathFactory, pairs: list[Pair]) -> Path:
    out = tmp_path_factory.mktemp("vocab")
    src = train_spm([p.zh for p in pairs], 70, character_coverage=1.0)
    tgt = train_spm([p.en for p in pairs], 80, character_coverage=1.0)
    write_tokenizer_files(out, src, tgt, 64)
    return out


def _run(vocab_dir: Path, pairs: list[Pair], out: Path, **run_kw: object) -> Run:
    torch.manual_seed(0)
    vocab = json.loads((vocab_dir / "vocab.json").read_text(encoding="utf-8"))
    codec = Codec(
        (vocab_dir / "source.spm").read_bytes(),
        (vocab_dir / "target.spm").read_bytes(),
        vocab,
        STEPS,
    )
    model = MarianMTModel(marian_config(vocab, CFG))
    checkpoints.zero_pad_row(model, codec.pad)
    weights = {"tatoeba": 2.0, "ui": 1.0}
    mixture = Mixture(
        {"tatoeba": pairs[:40], "ui": pairs[40:]},
        MixtureConfig(weights=weights),
        SourcePreprocessor(STEPS),
        CFG.seed,
    )
    dev = {"tatoeba": [(p.zh, p.en) for p in pairs[:5]], "ui": [(p.zh, p.en) for p in pairs[40:44]]}
    return Run(model, codec, mixture, dev, CFG, RunConfig(**run_kw), out, vocab_dir)


def _pad_row(run: Run) -> torch.Tensor:
    return run.model.get_input_embeddings().weight[run.codec.pad]


def test_steps_keep_the_pad_row_zero(vocab_dir: Path, pairs: list[Pair], tmp_path: Path) -> None:
    run = _run(vocab_dir, pairs, tmp_path)
    examples, batches = run.epoch_data(0)
    for idx in batches[:3]:
        run.step(examples, idx)
    assert run.state["step"] == 3
    assert torch.count_nonzero(_pad_row(run)) == 0
    assert run.model.lm_head.weight.data_ptr() == run.model.get_input_embeddings().weight.data_ptr()


class _Clock:
    """A wall clock that moves on a second each time it is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_time_budget_and_schedule_end_together(
    vocab_dir: Path, pairs: list[Pair], tmp_path: Path
) -> None:
    run = _run(vocab_dir, pairs, tmp_path, total_steps=10_000, eval_every=8, max_minutes=0.5)
    run.clock = _Clock()
    summary = train_loop(run)
    # Stopped by the 30 s budget, far short of total_steps, yet at the schedule's end:
    # progress follows the clock, not the steps.
    assert summary["steps"] < 30
    assert summary["train_state"]["progress"] >= 0.9


def test_a_best_score_on_other_dev_subsets_is_not_kept(
    vocab_dir: Path, pairs: list[Pair], tmp_path: Path
) -> None:
    run = _run(vocab_dir, pairs, tmp_path, total_steps=3, eval_every=3)
    run.state.update(best_score=99.0, best_step=1, dev_fingerprint="from-an-older-corpus")
    summary = train_loop(run)
    assert summary["train_state"]["best_step"] == 3
    assert summary["train_state"]["dev_fingerprint"] == dev_fingerprint(run.dev)
    assert (tmp_path / "best" / "model.safetensors").is_file()


def test_loop_evaluates_checkpoints_and_resumes_exactly(
    vocab_dir: Path, pairs: list[Pair], tmp_path: Path
) -> None:
    run = _run(vocab_dir, pairs, tmp_path, total_steps=6, eval_every=3)
    summary = train_loop(run)
    assert [h["step"] for h in summary["history"]] == [3, 6]
    assert {"tatoeba", "ui", "all", "score"} <= set(summary["history"][0])
    assert (tmp_path / "best" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "history.json").read_text())[-1]["step"] == 6
    state = json.loads((tmp_path / "last" / "train_state.json").read_text())
    assert state["step"] == 6 and state["progress"] == pytest.approx(1.0)
    best = load_file(str(tmp_path / "best" / "model.safetensors"))
    assert torch.count_nonzero(best["model.shared.weight"][run.codec.pad]) == 0

    # Resume in a fresh Run: the next step must match a run that never stopped.
    resumed = _run(vocab_dir, pairs, tmp_path)
    resumed.state = checkpoints.load_last(tmp_path / "last", resumed.model, resumed.opt)
    examples, batches = resumed.epoch_data(resumed.state["epoch"])
    loss_resumed, _ = resumed.step(examples, batches[resumed.state["batch"]])
    original_examples, original_batches = run.epoch_data(run.state["epoch"])
    loss_original, _ = run.step(original_examples, original_batches[run.state["batch"]])
    assert loss_resumed == pytest.approx(loss_original, rel=1e-5)


def test_warm_start_copies_layers_and_matching_rows(vocab_dir: Path, tmp_path: Path) -> None:
    old_dir = build_checkpoint(tmp_path / "old", d_model=16, layers=1, heads=2, ffn=32)
    (old_dir / "training_summary.json").write_text(json.dumps({"config": {}}))
    vocab = json.loads((vocab_dir / "vocab.json").read_text(encoding="utf-8"))
    model = MarianMTModel(marian_config(vocab, CFG))
    counts = checkpoints.warm_start(model, old_dir, vocab)
    old_vocab = json.loads((old_dir / "vocab.json").read_text(encoding="utf-8"))
    old = load_file(str(old_dir / "model.safetensors"))
    shared = [p for p in vocab if p in old_vocab and p != "<pad>"]
    assert counts["rows"] == len(shared) + 1 and counts["tensors"] > 0
    emb = model.get_input_embeddings().weight
    for piece in shared[:20]:
        expected = old["model.shared.weight"][old_vocab[piece]].float()
        assert torch.allclose(emb[vocab[piece]], expected)
    assert torch.count_nonzero(emb[vocab["<pad>"]]) == 0
    key = "model.encoder.layers.0.fc1.weight"
    assert torch.allclose(model.state_dict()[key], old[key].float())
    assert checkpoints.committed_state(old_dir) is None


def test_kept_evaluations_average_into_a_loadable_checkpoint(
    vocab_dir: Path, pairs: list[Pair], tmp_path: Path
) -> None:
    run = _run(vocab_dir, pairs, tmp_path, total_steps=8, eval_every=2, keep_evals=3)
    train_loop(run)
    kept = sorted((tmp_path / "evals").glob("step_*"))
    assert [k.name for k in kept] == ["step_000004", "step_000006", "step_000008"]
    names = checkpoints.average_model_dirs(kept, tmp_path / "averaged")
    assert names == [k.name for k in kept]
    states = [load_file(str(k / "model.safetensors")) for k in kept]
    mean = load_file(str(tmp_path / "averaged" / "model.safetensors"))
    key = "model.encoder.layers.0.fc1.weight"
    assert torch.allclose(mean[key], sum(s[key] for s in states) / 3, atol=1e-6)
    assert not torch.allclose(mean[key], states[-1][key])
    assert torch.count_nonzero(mean["model.shared.weight"][run.codec.pad]) == 0
    model = MarianMTModel.from_pretrained(tmp_path / "averaged")
    assert torch.allclose(model.state_dict()[key], mean[key])
    summary = json.loads((tmp_path / "averaged" / "training_summary.json").read_text())
    assert summary["averaged"] == names
    assert (tmp_path / "averaged" / "vocab.json").is_file()


def test_averaging_refuses_checkpoints_of_different_models(tmp_path: Path) -> None:
    small = build_checkpoint(tmp_path / "a", d_model=16, layers=1, heads=2, ffn=32)
    deeper = build_checkpoint(tmp_path / "b", d_model=16, layers=2, heads=2, ffn=32)
    with pytest.raises(ValueError, match="not one run"):
        checkpoints.average_model_dirs([small, deeper], tmp_path / "out")
    with pytest.raises(ValueError, match="nothing to average"):
        checkpoints.average_model_dirs([], tmp_path / "out")


def test_resumed_session_restarts_the_schedule_only_when_asked(tmp_path: Path) -> None:
    from toolchain.train_demo import parse_args
    from toolchain.train_mixture import _configs

    last = tmp_path / "last"
    last.mkdir()
    summary = {"config": {"lr": 4e-4}, "run": {"restart_lr": True, "eval_every": 300}}
    (last / "training_summary.json").write_text(json.dumps(summary))
    base = ["--corpus", str(tmp_path), "--resume", "--max-minutes", "30"]
    cfg, run = _configs(parse_args(base), last)
    assert cfg.lr == 4e-4 and run.eval_every == 300 and run.max_minutes == 30
    assert run.restart_lr is False
    _, asked = _configs(parse_args([*base, "--restart-lr"]), last)
    assert asked.restart_lr is True


def test_frequency_order_reads_the_corpus_ranking_or_says_what_is_missing(tmp_path: Path) -> None:
    from toolchain.train_demo import parse_args
    from toolchain.train_mixture import dict_ranks

    base = ["--corpus", str(tmp_path)]
    assert dict_ranks(parse_args(base)) is None
    with pytest.raises(SystemExit, match=r"zh_frequency\.txt is missing"):
        dict_ranks(parse_args([*base, "--dict-order", "frequency"]))
    (tmp_path / "zh_frequency.txt").write_text("的\n风筝\n", encoding="utf-8")
    assert dict_ranks(parse_args([*base, "--dict-order", "frequency"])) == {"的": 0, "风筝": 1}
