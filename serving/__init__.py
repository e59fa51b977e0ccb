"""Serving: the per-direction translator pipeline, its batcher and cache, the error tree."""

from serving.batcher import MicroBatcher
from serving.cache import TranslationCache
from serving.engine_pool import ProcessEngine
from serving.engines import EngineFactory, TranslationEngine, load_engine
from serving.health import Health, Status
from serving.jobs import Job, RequestStats
from serving.registry import TranslatorRegistry
from serving.translator import Translator

__all__ = [
    "EngineFactory",
    "Health",
    "Job",
    "MicroBatcher",
    "ProcessEngine",
    "RequestStats",
    "Status",
    "TranslationCache",
    "TranslationEngine",
    "Translator",
    "TranslatorRegistry",
    "load_engine",
]
