"""Shared fixtures: the app on a fake engine (the default), and tiny real models.

API and translator tests run against :class:`fakes.FakeEngine` through the app factory's
``engine_factory`` seam. The tiny real models (tests/tiny_models.py) serve the engine,
export and end-to-end tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeEngines
from flask import Flask
from flask.testing import FlaskClient
from tiny_models import tiny_build as build

# Helper modules that hold fixtures and asserts of several test modules: rewrite their
# asserts as pytest does the test modules' own.
pytest.register_assert_rewrite("batcher_fakes", "browser_page", "file_uploads")


@pytest.fixture(scope="session")
def tiny_build() -> Path:
    """The zh→en tiny model: ``checkpoint/`` (transformers) and ``model/`` (service)."""
    return build("zh-en")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_build: Path) -> Path:
    return tiny_build / "model"


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_build: Path) -> Path:
    return tiny_build / "checkpoint"


@pytest.fixture(scope="session")
def tiny_en_zh_dir() -> Path:
    """The en→zh tiny model directory, trained on the same code reversed."""
    return build("en-zh") / "model"


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict:
    """Service settings for tests: a (fake) model path, logs in tmp, one engine thread."""
    return {
        "model_dir": str(tmp_path / "fake-zh-en"),
        "extra_model_dirs": [],  # whatever directions config/settings.json ships
        "log_dir": str(tmp_path / "logs"),
        "intra_op_threads": 1,
        "max_wait_ms": 1,
    }


@pytest.fixture
def real_overrides(settings_overrides: dict, tiny_model_dir: Path) -> dict:
    """Settings that serve the tiny real zh→en model."""
    return {**settings_overrides, "model_dir": str(tiny_model_dir)}


@pytest.fixture
def engines() -> FakeEngines:
    return FakeEngines()


@pytest.fixture
def app(settings_overrides: dict, engines: FakeEngines) -> Iterator[Flask]:
    from app import create_app

    application = create_app({**settings_overrides, "TESTING": True}, engine_factory=engines)
    registry = application.extensions["registry"]
    assert registry.wait_ready(60), [t.error for t in registry]
    yield application
    registry.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_client(settings_overrides: dict, engines: FakeEngines):
    """Build apps with extra settings on the fake engine; give their test clients."""
    from app import create_app

    made: list[Flask] = []

    def build(**overrides: object) -> FlaskClient:
        application = create_app(
            {**settings_overrides, **overrides, "TESTING": True}, engine_factory=engines
        )
        assert application.extensions["registry"].wait_ready(60)
        made.append(application)
        return application.test_client()

    yield build
    for application in made:
        application.extensions["registry"].close()
