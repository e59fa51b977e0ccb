"""A zh→en and an en→zh fake translator behind one app, served on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fakes import FakeEngines
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from config import load_settings
from serving import Translator, TranslatorRegistry
from text.languages import Direction


@contextmanager
def two_directions(root: Path) -> Iterator[tuple[TranslatorRegistry, dict]]:
    """A started registry with fake zh→en and en→zh translators, and its settings."""
    overrides = {
        "model_dir": str(root / "fake-zh-en"),
        "log_dir": str(root / "logs"),
        "max_chars": 5000,
        "max_batch_items": 50,
        "max_body_bytes": 262144,
    }
    settings = load_settings({**overrides, "max_wait_ms": 1}, environ={})
    engines = FakeEngines()
    built = TranslatorRegistry(
        [
            Translator(settings, root / "fake-zh-en", engines, direction=Direction.of("zh", "en")),
            Translator(settings, root / "fake-en-zh", engines, direction=Direction.of("en", "zh")),
        ]
    )
    built.start(background=False)
    assert built.ready
    try:
        yield built, overrides
    finally:
        built.close()


@contextmanager
def zh_en_translator(root: Path) -> Iterator[Translator]:
    """A started zh→en translator on the fake engine, with its files under *root*."""
    overrides = {"model_dir": str(root / "fake-zh-en"), "log_dir": str(root / "logs")}
    built = Translator(
        load_settings({**overrides, "max_wait_ms": 1}, environ={}),
        root / "fake-zh-en",
        FakeEngines(),
        direction=Direction.of("zh", "en"),
    )
    built.start(background=False)
    try:
        yield built
    finally:
        built.close()


def app_for(registry: tuple[TranslatorRegistry, dict]) -> Flask:
    built, overrides = registry
    return create_app({**overrides, "max_wait_ms": 1, "TESTING": True}, registry=built)


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve *app* on a free loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
