"""Accessors for what the app factory attached to the current app (like flaskr's get_db)."""

from __future__ import annotations

from flask import current_app

from config import Settings
from serving import TranslatorRegistry
from web.metrics import Metrics


def get_settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def get_registry() -> TranslatorRegistry:
    registry: TranslatorRegistry = current_app.extensions["registry"]
    return registry


def get_metrics() -> Metrics:
    metrics: Metrics = current_app.extensions["metrics"]
    return metrics
