"""Whole-word pieces for a source vocabulary that splits words its pieces do not explain.

An 8k unigram model over Chinese spends most of its pieces on single characters, so
frequent words reach the encoder in pieces: 你好 as 你 + 好 ("you" + "good"), 北京 as
北 + 京, 上海 as 上 + 海. Where a word means what its pieces mean (打开 "to open" after 打,
开 "to open") the split costs little; where it does not (你好 "hello", 北京 "Beijing"),
the model has to learn the word from the few sentences that use it, against every
sentence that uses its pieces. This module finds such words — a
frequent headword split into pieces, none of whose dictionary senses shares a content
word with the headword's first sense — and adds each as a piece of its own (with and
without the word-start mark), scored just above the split it replaces, so pieces the
model already had still win where they fit better (你好像 stays 你 + 好像).

``python -m toolchain.vocab_extend --checkpoint DIR --corpus build/corpus --top 3000
--out DIR`` writes the tokenizer files of the extended vocabulary; ``train-demo
--vocab-dir DIR --warm-start CHECKPOINT`` trains with it, the new rows starting as the
mean of the rows of the pieces they replace (:func:`toolchain.checkpoints.warm_start`).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

from toolchain.corpus import frequency
from toolchain.vocab import write_tokenizer_files

logger = logging.getLogger(__name__)

WORD_START = "▁"
WORDS_FILE = "added_words.txt"
# Above the split it replaces, below any multi-character piece the model already had.
_MARGIN = 1.0
_CONTENT = re.compile(r"[a-z]+")
_FUNCTION_WORDS = frozenset(
    "a an the to of and or be in on for with at by is as from one sb sth".split()
)


def _content_words(gloss: str) -> set[str]:
    return {w for w in _CONTENT.findall(gloss.lower()) if w not in _FUNCTION_WORDS}


def dictionary_glosses(corpus_train: Path) -> dict[str, str]:
    """Headword → gloss (``sense; sense``) of the ``dict`` rows of a corpus train.tsv."""
    glosses: dict[str, str] = {}
    with open(corpus_train, encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 3 and cols[2] == "dict":
                glosses.setdefault(cols[1], cols[0])
    return glosses


def split_pieces(processor: spm.SentencePieceProcessor, word: str) -> list[str]:
    """The pieces *processor* cuts *word* into, word-start marks dropped."""
    pieces = (p.lstrip(WORD_START) for p in processor.encode(word, out_type=str))
    return [p for p in pieces if p]


def noncompositional_words(
    source_spm: bytes, glosses: Mapping[str, str], ranking: Sequence[str], top: int
) -> list[str]:
    """Words among the *top* most frequent that are split into pieces that do not explain them.

    A word qualifies when the model splits it, every piece has a gloss, and no content word
    of the word's first sense appears in any sense of its pieces (你好 "hello" against 你
    "you", 好 "good; well"), in frequency order.
    """
    processor = spm.SentencePieceProcessor(model_proto=source_spm)
    words = []
    for word in ranking[:top]:
        if len(word) < 2 or word not in glosses:
            continue
        pieces = split_pieces(processor, word)
        if len(pieces) < 2 or any(p not in glosses for p in pieces):
            continue
        meaning = _content_words(glosses[word].split(";")[0])
        if meaning and not meaning & set().union(*(_content_words(glosses[p]) for p in pieces)):
            words.append(word)
    return words


def _best_split_score(text: str, scores: Mapping[str, float]) -> float | None:
    """The highest total score of a segmentation of *text* into known pieces (Viterbi)."""
    unreachable = float("-inf")
    best = [0.0] + [unreachable] * len(text)
    for end in range(1, len(text) + 1):
        for start in range(end):
            piece = text[start:end]
            if best[start] > unreachable and piece in scores:
                best[end] = max(best[end], best[start] + scores[piece])
    return None if best[-1] == unreachable else best[-1]


def extend_source_spm(source_spm: bytes, words: Sequence[str]) -> bytes:
    """*source_spm* with ``word`` and ``▁word`` added as pieces, each scored above its split."""
    proto = model_pb2.ModelProto()
    proto.ParseFromString(source_spm)
    normal = model_pb2.ModelProto.SentencePiece.Type.NORMAL
    scores = {p.piece: p.score for p in proto.pieces if p.type == normal}
    for word in words:
        for piece in (word, WORD_START + word):
            split = _best_split_score(piece, scores)
            if piece in scores or split is None:
                continue
            entry = proto.pieces.add()
            entry.piece, entry.score, entry.type = piece, split + _MARGIN, normal
            scores[piece] = entry.score
    return proto.SerializeToString()


def main(argv: list[str] | None = None) -> None:
    """Write the extended vocabulary's tokenizer files and the list of added words."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="source.spm, target.spm")
    parser.add_argument("--corpus", type=Path, required=True, help="train.tsv, zh_frequency.txt")
    parser.add_argument("--top", type=int, default=3000, help="most frequent words considered")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    source = (args.checkpoint / "source.spm").read_bytes()
    ranking = list(frequency.read_ranking(args.corpus / frequency.FILENAME))
    glosses = dictionary_glosses(args.corpus / "train.tsv")
    words = noncompositional_words(source, glosses, ranking, args.top)
    extended = extend_source_spm(source, words)
    target = (args.checkpoint / "target.spm").read_bytes()
    vocab = write_tokenizer_files(args.out, extended, target, 256)
    (args.out / WORDS_FILE).write_text("".join(f"{w}\n" for w in words), encoding="utf-8")
    summary = {"from": str(args.checkpoint), "top": args.top, "words": len(words)}
    logger.info("%s; vocabulary %d ids → %s", json.dumps(summary), len(vocab), args.out)


if __name__ == "__main__":
    main()
