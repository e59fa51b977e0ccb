"""The translator module of the design card: the pipeline lives in :mod:`serving`.

``Translator`` is one direction's pipeline (clean, segment, protect spans, cache, batch,
post-process); ``TranslatorRegistry`` holds one per served direction.
"""

from serving import RequestStats, Translator, TranslatorRegistry

__all__ = ["RequestStats", "Translator", "TranslatorRegistry"]
