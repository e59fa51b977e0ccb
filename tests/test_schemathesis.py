"""Schemathesis against the service's own ``GET /openapi.json``, through the Flask app.

Every operation the description lists is fuzzed on the fake engine (schemathesis's
examples, coverage and fuzzing phases: positive and negative data, derandomized, no
example database, no deadline), and every answer must

- never be a 5xx (``not_a_server_error``);
- have a status code, a content type and, where the description gives one, a body that
  the description declares for that operation (``status_code_conformance``,
  ``content_type_conformance``, ``response_schema_conformance``);
- if it is an error, be in its API's shape: the native envelope
  ``{"success": false, "error": {"code", "message"}}``, LibreTranslate's ``{"error": ...}``
  (``POST /translate`` answers a LibreTranslate body, ``q`` and no ``text``, in that
  shape too), DeepL's ``{"message": ...}``.

Not run: ``positive_data_acceptance`` (the description cannot say that a target must be
a served language, or ``q`` not empty), ``negative_data_rejection`` (the DeepL endpoint
is as lenient as DeepL about unknown fields and their types) and ``unsupported_method``
(DeepL's ``/v2/...`` catch-all answers an undeclared method 404, as DeepL does).

The fuzzer never uploads a file of a type the service reads, nor makes a valid DeepL
glossary, so those endpoints' successful answers (a download, a job and its progress,
LibreTranslate's URL; a glossary, its entries, its deletion) are checked against the
description by small tests at the end, with requests of their own.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
from fakes import FakeEngines
from flask import Flask
from helpers import wait_until
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import CoverageScenario, coverage_scenario

from app import create_app
from config import load_settings
from web import __version__
from web.openapi import build_spec

pytestmark = pytest.mark.slow  # about 10 s on 2 idle cores, 30 s with both kept busy

MAX_EXAMPLES = 30  # fuzzing phase, per operation; operations without inputs run once

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

LIBRETRANSLATE = {
    "/languages",
    "/detect",
    "/frontend/settings",
    "/translate_file",
    "/download_file/{filename}",
    "/suggest",
}


# pytest 9.2 dropped the ``Node._nodeid`` that ``schemathesis.pytest.from_fixture`` sets,
# so the description is loaded at import, from the code that serves it, and the first
# test checks it is what the app serves; every request goes through the app object.
SPEC = json.loads(json.dumps(build_spec(load_settings(), __version__)))  # as served
schema = schemathesis.openapi.from_dict(copy.deepcopy(SPEC), config=CONFIG)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app on the fake engine for every operation (conftest's ``app``, module-wide)."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    overrides = {"model_dir": str(tmp / "fake-zh-en"), "log_dir": str(tmp / "logs")}
    application = create_app(
        {**overrides, "intra_op_threads": 1, "max_wait_ms": 1, "TESTING": True},
        engine_factory=FakeEngines(),
    )
    registry = application.extensions["registry"]
    assert registry.wait_ready(60), [t.error for t in registry]
    yield application
    registry.close()


def test_the_fuzzed_description_is_the_served_one(served: Flask) -> None:
    assert served.test_client().get("/openapi.json").get_json() == SPEC


# --- error shapes -------------------------------------------------------------------------


def _is_native(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == {"success", "error"}
        and body["success"] is False
        and isinstance(body["error"], dict)
        and set(body["error"]) == {"code", "message"}
        and isinstance(body["error"]["code"], str)
        and isinstance(body["error"]["message"], str)
        and bool(body["error"]["message"])
    )


def _is_libretranslate(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str)


def _is_deepl(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"message"} and isinstance(body["message"], str)


def _shapes_allowed(case: Any) -> tuple[Any, ...]:
    path = case.operation.path
    if coverage_scenario(case) == CoverageScenario.UNSPECIFIED_HTTP_METHOD:
        # A method no route has is answered by the app-wide 405 handler (native envelope)
        # or, under /v2, by DeepL's catch-all (404 in DeepL's shape); an envelope either way.
        return (_is_native, _is_libretranslate, _is_deepl)
    if _download_path_with_newline(case):
        return (_is_native,)  # see _download_path_with_newline
    if path.startswith("/v2/"):
        return (_is_deepl,)
    if path in LIBRETRANSLATE:
        return (_is_libretranslate,)
    if path == "/translate":
        return (_is_native, _is_libretranslate)  # the body decides; both are declared
    return (_is_native,)


def _download_path_with_newline(case: Any) -> bool:
    """Known gap, reported: Werkzeug's ``path`` converter matches no newline after a
    path's first character, so ``GET /download_file/a%0Ab`` reaches no route and the
    app-wide 404 answers in the native envelope instead of LibreTranslate's."""
    name = unquote(str((case.path_parameters or {}).get("filename")))  # encoded once sent
    return case.operation.path == "/download_file/{filename}" and "\n" in name[1:]


def _check_error_shape(case: Any, response: Any) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    allowed = _shapes_allowed(case)
    assert any(shape(body) for shape in allowed), (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]!r}"
        f" is not {' or '.join(shape.__name__[4:] for shape in allowed)}"
    )


# --- the fuzzer ---------------------------------------------------------------------------


@schema.parametrize()
def test_every_operation_answers_as_described(case: Any, served: Flask) -> None:
    response = case.call(app=served)
    if _download_path_with_newline(case):
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
    else:
        case.validate_response(response, checks=CHECKS)
    _check_error_shape(case, response)


# --- answers the fuzzer does not reach ---------------------------------------------------


def _upload(client: Any, path: str, name: str, headers: dict | None = None, **fields: str) -> Any:
    data = {"file": (io.BytesIO("你好。我是学生。\n".encode()), name), **fields}
    return client.post(path, data=data, content_type="multipart/form-data", headers=headers)


def _validated(path: str, method: str, response: Any, **params: Any) -> Any:
    """Check a test client's *response* as if schemathesis had made the request."""
    case = schema[path][method].Case(path_parameters=params or None)
    case.validate_response(response, checks=CHECKS)
    _check_error_shape(case, schemathesis.Response.from_any(response))
    return response


def test_file_answers_match_the_description(served: Flask) -> None:
    client = served.test_client()

    downloaded = _upload(client, "/translate/file", "notes.txt")
    assert downloaded.status_code == 200, downloaded.data[:300]
    _validated("/translate/file", "POST", downloaded)

    queued = _upload(client, "/translate/file", "notes.md", {"Prefer": "respond-async"})
    assert queued.status_code == 202, queued.data[:300]
    job_id = _validated("/translate/file", "POST", queued).get_json()["job"]["id"]
    status = f"/translate/file/{job_id}"

    def done() -> bool:
        answer = _validated("/translate/file/{job_id}", "GET", client.get(status), job_id=job_id)
        return answer.get_json()["job"]["state"] == "done"

    wait_until(done, 10, "the file job")
    download = client.get(f"{status}/download")
    assert download.status_code == 200
    _validated("/translate/file/{job_id}/download", "GET", download, job_id=job_id)

    libre = _upload(client, "/translate_file", "notes.txt", source="zh", target="en")
    assert libre.status_code == 200, libre.data[:300]
    url = _validated("/translate_file", "POST", libre).get_json()["translatedFileUrl"]
    name = url.rsplit("/download_file/", 1)[1]
    fetched = client.get(f"/download_file/{name}")
    assert fetched.status_code == 200
    _validated("/download_file/{filename}", "GET", fetched, filename=name)

    refused = _upload(client, "/translate/file", "picture.png")
    assert refused.status_code == 415
    _validated("/translate/file", "POST", refused)
    no_target = _upload(client, "/translate_file", "notes.txt")
    assert no_target.status_code == 400
    _validated("/translate_file", "POST", no_target)


def test_glossary_answers_match_the_description(served: Flask) -> None:
    client = served.test_client()
    body = {"name": "g", "source_lang": "zh", "target_lang": "en", "entries": "大\thuge"}
    created = client.post("/v2/glossaries", json=body)
    assert created.status_code == 201, created.data[:300]
    glossary_id = _validated("/v2/glossaries", "POST", created).get_json()["glossary_id"]
    one = "/v2/glossaries/{glossary_id}"
    _validated("/v2/glossaries", "GET", client.get("/v2/glossaries"))
    _validated(one, "GET", client.get(f"/v2/glossaries/{glossary_id}"), glossary_id=glossary_id)
    entries = client.get(f"/v2/glossaries/{glossary_id}/entries")
    assert entries.status_code == 200 and "huge" in entries.get_data(as_text=True)
    _validated(f"{one}/entries", "GET", entries, glossary_id=glossary_id)
    deleted = client.delete(f"/v2/glossaries/{glossary_id}")
    assert deleted.status_code == 204
    _validated(one, "DELETE", deleted, glossary_id=glossary_id)
    gone = client.get(f"/v2/glossaries/{glossary_id}")
    assert gone.status_code == 404
    _validated(one, "GET", gone, glossary_id=glossary_id)


@pytest.mark.xfail(strict=True, reason="reported: no route matches, the app-wide 404 answers")
def test_a_download_name_with_a_newline_is_refused_in_libretranslate_shape(served: Flask) -> None:
    # When this passes, drop _download_path_with_newline and this test's xfail.
    response = served.test_client().get("/download_file/a%0Ab.txt")
    assert response.status_code == 404 and _is_libretranslate(response.get_json())
