"""Prometheus metrics: request counts and latency, batch sizes, cache, queue, readiness.

Each app gets its own registry (tests build many apps in one process); ``/metrics``
renders it in the Prometheus text format, process figures (RSS, CPU) included.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class Metrics:
    """The service's metrics, bound to one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "translator_requests",
            "HTTP requests by path and status",
            ["path", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "translator_request_seconds",
            "Request latency (translate)",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.sentences = Counter(
            "translator_sentences", "Sentences translated (cache included)", registry=self.registry
        )
        self.cache_hits = Counter(
            "translator_cache_hits", "Sentences answered from the cache", registry=self.registry
        )
        self.fallbacks = Counter(
            "translator_span_fallbacks",
            "Sentences retranslated because the first translation lost a span",
            registry=self.registry,
        )
        self.repetition_retries = Counter(
            "translator_repetition_retries",
            "Sentences retranslated because the first translation repeated itself",
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "translator_batch_sentences",
            "Sentences per engine call",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "translator_batch_seconds",
            "Engine call duration",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch(self, queue_depth: Callable[[], float], ready: Callable[[], float]) -> None:
        """Report gauges computed at scrape time."""
        Gauge(
            "translator_queue_depth", "Sentences waiting for the engine", registry=self.registry
        ).set_function(queue_depth)
        Gauge(
            "translator_ready", "1 when the model is loaded and warmed up", registry=self.registry
        ).set_function(ready)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
