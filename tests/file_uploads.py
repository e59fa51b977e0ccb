"""Helpers shared by the file translation tests (tests/test_files.py,
tests/test_files_jobs.py): the upload request, and the ``make_app`` fixture, which the
test modules import from here as ``make_app_fixture``.
"""

from __future__ import annotations

import io

import pytest

from app import create_app


@pytest.fixture(name="make_app")
def make_app_fixture(settings_overrides, engines):
    made = []

    def build(**overrides):
        application = create_app(
            {**settings_overrides, **overrides, "TESTING": True}, engine_factory=engines
        )
        assert application.extensions["registry"].wait_ready(30)
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["registry"].close()


def upload(client, name: str, data: bytes, headers=None, path="/translate/file", **fields):
    return client.post(
        path,
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
        headers=headers or {},
    )
