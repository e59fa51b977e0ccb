"""Greedy and beam search over a step function that returns top-k candidates.

The decoder graph already reduces each row's distribution to its k best tokens, so
search is bookkeeping on small arrays. Both searches stop a row at ``</s>``, at its
length limit, or when it starts looping (see :func:`runaway_tail`); finished rows are
dropped from the batch so the remaining ones run at the smaller batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class StepState(Protocol):
    rows: int

    def step(self, tokens: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def reorder(self, index: np.ndarray) -> None: ...


@dataclass(frozen=True)
class SearchLimits:
    start: int
    eos: int
    max_len: Sequence[int]  # per sentence
    min_len: int = 0
    loop_guard: bool = True
    # Beam search only: refuse a token that repeats an n-gram of this size already in
    # the hypothesis, or that would be the third identical token in a row (0: off).
    no_repeat_ngram: int = 0


def runaway_tail(seq: Sequence[int], max_period: int = 6) -> int:
    """Length to keep if *seq* ends in a loop (a 1..6-token pattern repeated), else len(seq).

    A single token must repeat 8 times in a row, longer patterns 4 times (3 from a period
    of 4 on): legitimate English ("very, very, very") stays well below that.
    """
    n = len(seq)
    for period in range(1, max_period + 1):
        repeats = 8 if period == 1 else (4 if period < 4 else 3)
        span = period * repeats
        if n < span:
            continue
        tail = seq[n - span :]
        if all(tail[i] == tail[i % period] for i in range(span)):
            return n - span + period
    return n


def repeats(seq: Sequence[int], n: int) -> bool:
    """True if *seq* ends in an n-gram it already holds, or in three identical tokens."""
    if n <= 0 or len(seq) < 3:
        return False
    if seq[-1] == seq[-2] == seq[-3]:
        return True
    if len(seq) <= n:
        return False
    tail = list(seq[-n:])
    return any(list(seq[i : i + n]) == tail for i in range(len(seq) - n))


def greedy(state: StepState, limits: SearchLimits, top_k: int = 2) -> list[list[int]]:
    """Decode every row greedily; return each sentence's tokens without ``</s>``."""
    n = state.rows
    outputs: list[list[int]] = [[] for _ in range(n)]
    active = np.arange(n)
    tokens = np.full(n, limits.start, dtype=np.int64)
    max_len = np.asarray(limits.max_len)
    step = 0
    while len(active):
        _, ids = state.step(tokens, top_k)
        choice = ids[:, 0]
        if step < limits.min_len:
            choice = np.where(choice == limits.eos, ids[:, 1], choice)
        step += 1
        keep = []
        for row, sent in enumerate(active):
            tok = int(choice[row])
            if tok == limits.eos:
                continue
            out = outputs[sent]
            out.append(tok)
            cut = runaway_tail(out) if limits.loop_guard else len(out)
            if cut < len(out):
                del out[cut:]
                continue
            if len(out) < max_len[sent]:
                keep.append(row)
        if len(keep) < len(active):
            if not keep:
                break
            state.reorder(np.asarray(keep))
            active = active[keep]
            choice = choice[keep]
        tokens = choice
    return outputs


@dataclass
class _Hyps:
    """Finished hypotheses of one sentence, best *size* kept by normalised score."""

    size: int
    length_penalty: float
    items: list[tuple[float, list[int]]]

    def add(self, tokens: list[int], logp: float) -> None:
        score = logp / max(1, len(tokens) + 1) ** self.length_penalty
        self.items.append((score, tokens))
        self.items.sort(key=lambda x: -x[0])
        del self.items[self.size :]

    def done(self, best_running: float, length: int) -> bool:
        if len(self.items) < self.size:
            return False
        return self.items[-1][0] >= best_running / max(1, length) ** self.length_penalty

    def best(self) -> list[int]:
        return self.items[0][1]


@dataclass
class _Candidates:
    """One step's scored continuations, [sentences, beam * k] each."""

    scores: np.ndarray
    ids: np.ndarray
    order: np.ndarray
    k: int


def _pick(
    block: int,
    sent: int,
    cand: _Candidates,
    seqs: list[list[int]],
    hyps: _Hyps,
    limits: SearchLimits,
    beam_size: int,
) -> list[tuple[int, int, float, list[int]]]:
    """Best *beam_size* live continuations of one sentence; endings go to *hyps*."""
    picked: list[tuple[int, int, float, list[int]]] = []
    for rank, flat in enumerate(cand.order[block]):
        score = float(cand.scores[block, flat])
        if not np.isfinite(score):
            break
        row = block * beam_size + int(flat) // cand.k
        tok = int(cand.ids[block, flat])
        seq = [*seqs[row], tok]
        if tok != limits.eos and repeats(seq, limits.no_repeat_ngram):
            continue
        cut = runaway_tail(seq) if limits.loop_guard else len(seq)
        if tok == limits.eos or cut < len(seq) or len(seq) >= limits.max_len[sent]:
            if rank < beam_size:  # as in HF: an ending counts only among the top beams
                hyps.add(seqs[row] if tok == limits.eos else seq[:cut], score)
            continue
        picked.append((row, tok, score, seq))
        if len(picked) == beam_size:
            break
    return picked


def beam(
    state: StepState, limits: SearchLimits, beam_size: int, length_penalty: float = 1.0
) -> list[list[int]]:
    """Beam search; *state* holds ``beam_size`` rows per sentence, all starting equal."""
    n = state.rows // beam_size
    hyps = [_Hyps(beam_size, length_penalty, []) for _ in range(n)]
    seqs: list[list[int]] = [[] for _ in range(n * beam_size)]
    scores = np.full((n, beam_size), -np.inf)
    scores[:, 0] = 0.0  # all beams start identical: only the first may expand
    tokens = np.full(n * beam_size, limits.start, dtype=np.int64)
    alive = list(range(n))  # sentences still decoding, in row-block order
    for step in range(max(limits.max_len)):
        logp, ids = state.step(tokens, 2 * beam_size)
        if step < limits.min_len:
            logp = np.where(ids == limits.eos, -np.inf, logp)
        k = logp.shape[1]
        flat = (scores.reshape(-1, 1) + logp).reshape(len(alive), beam_size * k)
        cand = _Candidates(flat, ids.reshape(len(alive), -1), np.argsort(-flat, axis=1), k)
        chosen, still = [], []
        for block, sent in enumerate(alive):
            picked = _pick(block, sent, cand, seqs, hyps[sent], limits, beam_size)
            if not picked or hyps[sent].done(picked[0][2], step + 1):
                continue
            picked += [(picked[0][0], picked[0][1], -np.inf, picked[0][3])] * (
                beam_size - len(picked)
            )
            still.append(sent)
            chosen += picked
        if not still:
            alive = []
            break
        state.reorder(np.asarray([c[0] for c in chosen]))
        tokens = np.asarray([c[1] for c in chosen], dtype=np.int64)
        scores = np.asarray([c[2] for c in chosen]).reshape(len(still), beam_size)
        seqs = [c[3] for c in chosen]
        alive = still
    for block, sent in enumerate(alive):  # length limit reached: running beams compete too
        best = int(np.argmax(scores[block]))
        hyps[sent].add(seqs[block * beam_size + best], float(scores[block, best]))
    return [h.best() if h.items else [] for h in hyps]
