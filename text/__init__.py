"""Pure functions on strings: normalising, segmenting, spans, post-processing, languages."""

from text.languages import CHINESE, ENGLISH, LANGUAGES, ZH_EN, Direction, Language, language
from text.normalize import KNOWN_STEPS, SourcePreprocessor, clean_input, opus_punct
from text.postprocess import capitalize_first, mirror_final_punctuation, strip_debris
from text.segment import Document, Piece, fit_to_model, segment, split_long
from text.spans import (
    MAX_PLACEHOLDERS,
    PLACEHOLDERS,
    Protected,
    SpanGuard,
    find_latin_spans,
    find_spans,
    split_around_spans,
)

__all__ = [
    "CHINESE",
    "ENGLISH",
    "KNOWN_STEPS",
    "LANGUAGES",
    "MAX_PLACEHOLDERS",
    "PLACEHOLDERS",
    "ZH_EN",
    "Direction",
    "Document",
    "Language",
    "Piece",
    "Protected",
    "SourcePreprocessor",
    "SpanGuard",
    "capitalize_first",
    "clean_input",
    "find_latin_spans",
    "find_spans",
    "fit_to_model",
    "language",
    "mirror_final_punctuation",
    "opus_punct",
    "segment",
    "split_around_spans",
    "split_long",
    "strip_debris",
]
