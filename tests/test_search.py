"""Greedy and beam search over a scripted fake decoder, and loop detection."""

from __future__ import annotations

import numpy as np
import pytest

from engine.search import SearchLimits, beam, greedy, repeats, runaway_tail

START, EOS, FILLER = 0, 1, 99

Table = dict[int, dict[int, float]]


class FakeState:
    """A decoder whose next-token distribution depends on the sentence and previous token.

    ``tables[s][prev]`` maps next token -> probability for sentence *s*. Rows follow
    ``reorder`` exactly as the real runtime's cache does, so a search that reorders wrongly
    reads the wrong sentence's table and produces the wrong output.
    """

    def __init__(self, tables: list[Table], rows_per_sentence: int = 1) -> None:
        self.tables = tables
        self.sentence = np.repeat(np.arange(len(tables)), rows_per_sentence)
        self.step_rows: list[int] = []
        self.reorders: list[list[int]] = []

    @property
    def rows(self) -> int:
        return len(self.sentence)

    def step(self, tokens: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        assert tokens.shape == (self.rows,), "tokens do not match the state's rows"
        self.step_rows.append(self.rows)
        logp = np.full((self.rows, top_k), -np.inf)
        ids = np.full((self.rows, top_k), FILLER, dtype=np.int64)
        for row, (sent, prev) in enumerate(zip(self.sentence, tokens, strict=True)):
            dist = self.tables[sent][int(prev)]
            best = sorted(dist.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
            for col, (tok, prob) in enumerate(best):
                ids[row, col] = tok
                logp[row, col] = np.log(prob)
        return logp, ids

    def reorder(self, index: np.ndarray) -> None:
        index = np.asarray(index)
        assert index.ndim == 1
        assert ((index >= 0) & (index < self.rows)).all()
        self.reorders.append(index.tolist())
        self.sentence = self.sentence[index]


def chain(*tokens: int, p: float = 0.9) -> Table:
    """A table that emits *tokens* then EOS, each with probability *p* (rest: token 50)."""
    table: Table = {}
    prev = START
    for tok in [*tokens, EOS]:
        table[prev] = {tok: p, 50: 1 - p}
        prev = tok
    table[50] = {EOS: 1.0}
    return table


def counting(start: int = 10) -> Table:
    """Never ends: START -> 10 -> 11 -> 12 ..., EOS always second best."""
    table: Table = {START: {start: 0.8, EOS: 0.2}}
    for tok in range(start, start + 200):
        table[tok] = {tok + 1: 0.8, EOS: 0.2}
    return table


def limits(max_len, min_len: int = 0) -> SearchLimits:
    return SearchLimits(START, EOS, list(max_len), min_len)


def seq_logp(table: Table, tokens: list[int]) -> float:
    """Total log-probability of *tokens* followed by EOS."""
    total, prev = 0.0, START
    for tok in [*tokens, EOS]:
        total += np.log(table[prev][tok])
        prev = tok
    return total


# --- runaway_tail -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq", "keep"),
    [
        ([], 0),
        ([5], 1),
        (list(range(20)), 20),
        # period 1: eight in a row
        ([7] * 7, 7),
        ([7] * 8, 1),
        ([1, 2, *[7] * 8], 3),
        # periods 2 and 3: four repeats
        ([1, 2] * 3, 6),
        ([1, 2] * 4, 2),
        ([9, *[1, 2] * 4], 3),
        ([1, 2] * 3 + [1], 7),
        ([1, 2, 3] * 3, 9),
        ([1, 2, 3] * 4, 3),
        ([8, 8, *[1, 2, 3] * 4], 5),
        # periods 4 to 6: three repeats
        ([1, 2, 3, 4] * 2, 8),
        ([1, 2, 3, 4] * 3, 4),
        ([1, 2, 3, 4, 5] * 2, 10),
        ([1, 2, 3, 4, 5] * 3, 5),
        ([1, 2, 3, 4, 5, 6] * 2, 12),
        ([1, 2, 3, 4, 5, 6] * 3, 6),
        ([0, *[1, 2, 3, 4, 5, 6] * 3], 7),
        # period 7 is beyond max_period
        ([1, 2, 3, 4, 5, 6, 7] * 3, 21),
        # legitimate repetition: "very , very , very"
        ([4, 3, 4, 3, 4], 5),
        ([4, 3] * 3, 6),
        # the loop must be at the end
        ([7] * 8 + [1, 2, 3], 11),
    ],
)
def test_runaway_tail(seq, keep):
    assert runaway_tail(seq) == keep


def test_runaway_tail_max_period():
    seq = [1, 2, 3, 4] * 3
    assert runaway_tail(seq) == 4
    assert runaway_tail(seq, max_period=3) == 12


# --- greedy -----------------------------------------------------------------------------


def test_greedy_picks_the_argmax_and_stops_at_eos():
    table: Table = {
        START: {3: 0.2, 5: 0.5, 4: 0.3},
        5: {2: 0.1, 7: 0.6, EOS: 0.3},
        7: {EOS: 0.7, 2: 0.3},
        2: {EOS: 1.0},
        3: {EOS: 1.0},
        4: {EOS: 1.0},
    }
    state = FakeState([table])
    assert greedy(state, limits([20])) == [[5, 7]]
    assert len(state.step_rows) == 3  # 5, 7, </s>


def test_greedy_decodes_each_sentence_with_its_own_table():
    state = FakeState([chain(5, 6), chain(7), chain(8, 9, 10)])
    assert greedy(state, limits([20, 20, 20])) == [[5, 6], [7], [8, 9, 10]]


def test_greedy_respects_per_sentence_max_len():
    state = FakeState([counting(), counting(), counting()])
    out = greedy(state, limits([3, 5, 1]))
    assert out == [[10, 11, 12], [10, 11, 12, 13, 14], [10]]
    assert len(state.step_rows) == 5


def test_greedy_min_len_suppresses_eos():
    table: Table = {
        START: {EOS: 0.9, 5: 0.1},
        5: {EOS: 0.9, 6: 0.1},
        6: {EOS: 0.9, 7: 0.1},
    }
    assert greedy(FakeState([table]), limits([10])) == [[]]
    assert greedy(FakeState([table]), limits([10], min_len=1)) == [[5]]
    assert greedy(FakeState([table]), limits([10], min_len=2)) == [[5, 6]]


def test_greedy_drops_finished_rows_with_reorder():
    state = FakeState([chain(5), chain(6, 7, 8), chain(9, 10)])
    out = greedy(state, limits([20, 20, 20]))
    assert out == [[5], [6, 7, 8], [9, 10]]
    # Step 2: sentence 0 ends (row 0 dropped); step 3: sentence 2 ends (row 1 of [1, 2]).
    assert state.reorders == [[1, 2], [0]]
    assert state.step_rows == [3, 3, 2, 1]


def test_greedy_does_not_reorder_when_every_row_finishes_together():
    state = FakeState([chain(5), chain(6)])
    assert greedy(state, limits([20, 20])) == [[5], [6]]
    assert state.reorders == []


def test_greedy_stops_a_looping_row_and_trims_the_loop_to_one_copy():
    looping: Table = {START: {2: 0.9, EOS: 0.1}, 2: {3: 0.9, EOS: 0.1}}
    looping.update({3: {5: 0.9, EOS: 0.1}, 5: {6: 0.9, EOS: 0.1}, 6: {5: 0.9, EOS: 0.1}})
    state = FakeState([looping, chain(8, 9)])
    out = greedy(state, limits([100, 100]))
    assert out == [[2, 3, 5, 6], [8, 9]]
    # [2, 3] + [5, 6] * 4 is the first prefix that counts as a loop: 10 steps, not 100.
    assert len(state.step_rows) == 10


def test_greedy_stops_a_single_token_loop():
    stuck: Table = {START: {4: 0.9, EOS: 0.1}, 4: {4: 0.9, EOS: 0.1}}
    state = FakeState([stuck])
    assert greedy(state, limits([100])) == [[4]]
    assert len(state.step_rows) == 8


# --- beam -------------------------------------------------------------------------------


def garden_path() -> Table:
    """Greedy takes 5 (0.6) then is stuck with 0.4 at best; 6 (0.4) leads to 0.9."""
    return {
        START: {5: 0.6, 6: 0.4},
        5: {7: 0.4, 8: 0.3, 9: 0.3},
        6: {10: 0.9, 11: 0.1},
        7: {EOS: 1.0},
        8: {EOS: 1.0},
        9: {EOS: 1.0},
        10: {EOS: 1.0},
        11: {EOS: 1.0},
    }


@pytest.mark.parametrize("beam_size", [2, 3, 4])
def test_beam_finds_a_better_sequence_than_greedy(beam_size):
    table = garden_path()
    greedy_out = greedy(FakeState([table]), limits([10]))
    assert greedy_out == [[5, 7]]
    state = FakeState([table], rows_per_sentence=beam_size)
    beam_out = beam(state, limits([10]), beam_size)
    assert beam_out == [[6, 10]]
    assert seq_logp(table, beam_out[0]) > seq_logp(table, greedy_out[0])


@pytest.mark.parametrize("beam_size", [2, 3])
def test_beam_agrees_with_greedy_on_a_clear_path(beam_size):
    tables = [chain(5, 6, p=0.95), chain(7, p=0.95)]
    state = FakeState(tables, rows_per_sentence=beam_size)
    assert beam(state, limits([20, 20]), beam_size) == [[5, 6], [7]]
    assert state.reorders  # beams are reordered every step


def test_beam_keeps_sentences_apart_and_drops_finished_ones():
    beam_size = 2
    tables = [chain(5, p=0.95), garden_path(), chain(20, 21, 22, 23, p=0.95)]
    state = FakeState(tables, rows_per_sentence=beam_size)
    assert beam(state, limits([20, 20, 20]), beam_size) == [[5], [6, 10], [20, 21, 22, 23]]
    assert state.step_rows[0] == 3 * beam_size
    assert state.step_rows[-1] == beam_size  # only the longest sentence is left
    assert all(len(index) % beam_size == 0 for index in state.reorders)


def test_beam_respects_per_sentence_max_len():
    beam_size = 2
    state = FakeState([counting(), counting()], rows_per_sentence=beam_size)
    out = beam(state, limits([3, 6]), beam_size)
    assert out == [[10, 11, 12], [10, 11, 12, 13, 14, 15]]


def test_beam_min_len_suppresses_eos():
    table: Table = {
        START: {EOS: 0.9, 5: 0.1},
        5: {EOS: 0.9, 6: 0.1},
        6: {EOS: 0.9, 7: 0.1},
        7: {EOS: 1.0},
    }
    assert beam(FakeState([table], 2), limits([10]), 2) == [[]]
    assert beam(FakeState([table], 2), limits([10], min_len=2), 2) == [[5, 6]]


def test_beam_stops_a_looping_hypothesis():
    beam_size = 2
    looping: Table = {START: {5: 0.95, EOS: 0.05}, 5: {6: 0.95, EOS: 0.01}, 6: {5: 0.95, 3: 0.04}}
    looping[3] = {EOS: 0.01, 4: 0.99}
    looping[4] = {EOS: 0.01, 3: 0.99}
    state = FakeState([looping], rows_per_sentence=beam_size)
    out = beam(state, limits([200]), beam_size)
    assert out == [[5, 6]]  # the likely 5 6 5 6 ... loop, trimmed to one copy
    assert len(state.step_rows) < 30  # stopped long before max_len


def test_beam_counts_an_ending_only_if_it_ranks_among_the_top_beams():
    # Step 2 ranks [5 </s>] .30, [5 7] .20, [6 </s>] .18, [6 8] .16. With two beams,
    # [6 </s>] ranks third and is no hypothesis (as in HF). Were it one, the search would
    # have two finished hypotheses and stop at step 3, since the best running beam
    # (log .07 / 3) cannot beat log .18 / 2 -- and miss the long, likely ending below.
    table: Table = {
        START: {5: 0.5, 6: 0.4, EOS: 0.1},
        5: {EOS: 0.6, 7: 0.4},
        6: {EOS: 0.45, 8: 0.4},
        7: {10: 0.35, 11: 0.3},
        8: {12: 0.3, 13: 0.2},
        10: {14: 1.0},
        14: {15: 1.0},
        15: {16: 1.0},
        16: {EOS: 1.0},
        11: {EOS: 1.0},
        12: {EOS: 1.0},
        13: {EOS: 1.0},
    }
    assert np.log(0.5 * 0.4 * 0.35) / 3 < np.log(0.4 * 0.45) / 2  # the trap is set
    best = [5, 7, 10, 14, 15, 16]
    assert seq_logp(table, best) / (len(best) + 1) > seq_logp(table, [5]) / 2
    assert beam(FakeState([table], 2), limits([20]), 2) == [best]


@pytest.mark.parametrize(
    ("seq", "n", "expected"),
    [
        ([5, 6, 7], 3, False),
        ([5, 5, 5], 3, True),  # a third identical token in a row
        ([5, 5, 6], 3, False),
        ([5, 6, 7, 8, 5, 6, 7], 3, True),  # the trigram 5 6 7 again
        ([5, 6, 7, 8, 5, 6, 9], 3, False),
        ([5, 6, 5, 6], 2, True),
        ([5, 5, 5], 0, False),  # off
    ],
)
def test_repeats(seq, n, expected):
    assert repeats(seq, n) is expected


def test_beam_with_no_repeat_ngram_leaves_the_loop():
    # "use use use ...": 20 loops back to itself; 30 is a worse but non-repeating way out.
    table: Table = {START: {10: 0.9, 50: 0.1}, 10: {20: 0.9, 50: 0.1}}
    table[20] = {20: 0.7, 30: 0.2, EOS: 0.1}
    table[30] = {EOS: 0.9, 50: 0.1}
    table[50] = {EOS: 1.0}
    looping = beam(FakeState([table], 2), limits([12]), 2)
    assert looping[0][:4] == [10, 20, 20, 20]
    guarded = SearchLimits(START, EOS, [12], 0, True, 3)
    out = beam(FakeState([table], 2), guarded, 2)[0]
    assert not repeats(out, 3) and out.count(20) <= 2
