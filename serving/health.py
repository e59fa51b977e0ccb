"""A translator's state as the probes see it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Status(enum.StrEnum):
    STARTING = "starting"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Health:
    status: Status
    direction: str
    model: str
    error: str | None
    queue_depth: int
    worker_alive: bool
    batches: int
    cache: dict[str, int]

    @property
    def alive(self) -> bool:
        """False once the model failed to load or a ready translator lost its workers."""
        if self.status is Status.FAILED:
            return False
        return not (self.status is Status.READY and not self.worker_alive)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_status": self.status.value,
            "model": self.model,
            "direction": self.direction,
            "queue_depth": self.queue_depth,
            "worker_alive": self.worker_alive,
            "batches": self.batches,
            "cache": self.cache,
        }
