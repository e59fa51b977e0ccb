"""SentencePiece in, SentencePiece out, in the row numbering of the exported graphs."""

from __future__ import annotations

import json
from collections.abc import Sequence

import sentencepiece as spm

from engine.contract import SOURCE_SPM, TARGET_SPM, VOCAB
from engine.model_dir import ModelDir

UNK_TEXT = "<unk>"


class Tokenizer:
    """Map source text to encoder rows and decoder rows back to target text."""

    def __init__(self, model: ModelDir) -> None:
        vocab: dict[str, int] = json.loads((model.path / VOCAB).read_text(encoding="utf-8"))
        special = model.manifest.vocab
        source_rows, target_rows = model.rows()
        self._src = spm.SentencePieceProcessor(model_file=str(model.path / SOURCE_SPM))
        self._tgt = spm.SentencePieceProcessor(model_file=str(model.path / TARGET_SPM))
        src_row = {vid: row for row, vid in enumerate(source_rows)}
        self.src_unk = src_row[special.unk]
        self.src_eos = src_row[special.eos]
        self._piece_row = {p: src_row.get(v, self.src_unk) for p, v in vocab.items()}
        tgt_row = {vid: row for row, vid in enumerate(target_rows)}
        self.eos = tgt_row[special.eos]
        self.start = tgt_row[special.decoder_start]
        self.tgt_unk = tgt_row[special.unk]
        inverse = {v: p for p, v in vocab.items()}
        self._pieces = [inverse[v] for v in target_rows]
        self._skip = {self.eos, tgt_row[special.pad]}

    def encode(self, text: str) -> list[int]:
        """Encoder rows of *text*, ending with ``</s>``."""
        pieces = self._src.encode(text, out_type=str)
        return [self._piece_row.get(p, self.src_unk) for p in pieces] + [self.src_eos]

    def decode(self, rows: Sequence[int]) -> str:
        """Target text of decoder *rows*; unknown pieces show as ``<unk>`` for post-processing."""
        words: list[str] = []
        run: list[str] = []
        for row in rows:
            if row in self._skip:
                continue
            if row == self.tgt_unk:
                words += [self._tgt.decode_pieces(run), UNK_TEXT]
                run = []
            else:
                run.append(self._pieces[row])
        words.append(self._tgt.decode_pieces(run))
        return " ".join(w for w in words if w)
