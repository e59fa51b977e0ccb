"""File translation beyond the single request: jobs (Prefer: respond-async) and the job
and download store, LibreTranslate's translate_file, the page and the OpenAPI description
of the file endpoints, and the CLI's translate-file.

The fake engine "translates" with the tiny model's code (tests/fakes.py): 你→you,
好→good, 我→I, 是→is, 学→learn, 生→born, 大→big, 小→small; other characters are copied.
Every file is made here, in tmp_path or in memory. The formats, and the errors and limits
of uploads, are tested in tests/test_files.py.
"""

from __future__ import annotations

import json
import threading

import pytest
from fakes import FakeEngines, Gate
from file_uploads import (
    make_app_fixture,  # noqa: F401 - the make_app fixture
    upload,
)
from helpers import wait_until

from serving import Translator, TranslatorRegistry
from serving.errors import QueueFull
from serving.file_jobs import DONE, FAILED, FileStore
from text.languages import Direction

# --- jobs: Prefer: respond-async ------------------------------------------------------------


def test_async_job_reports_progress_and_serves_the_download(make_app, engines):
    app = make_app(max_batch_items=1)
    client = app.test_client()
    gate = Gate(engines.engine)
    response = upload(client, "a.txt", "你好\n\n大\n\n小".encode(), {"Prefer": "respond-async"})
    assert response.status_code == 202
    job = response.get_json()["job"]
    assert response.headers["Location"] == job["status_url"]
    assert job["state"] in {"queued", "running"} and "download_url" not in job
    gate.entered.wait(10)
    running = client.get(job["status_url"]).get_json()["job"]
    assert running["state"] == "running" and running["done"] < running["total"] == 4
    gate.release.set()
    wait_until(lambda: client.get(job["status_url"]).get_json()["job"]["state"] == DONE)
    done = client.get(job["status_url"]).get_json()["job"]
    assert done["progress"] == 1.0 and done["done"] == done["total"]
    download = client.get(done["download_url"])
    assert download.data == b"You good\n\nBig\n\nSmall"
    assert download.headers["Content-Disposition"] == "attachment; filename=a.en.txt"


def test_a_failed_job_reports_its_error(client, engines):
    def fail(texts, options):
        raise RuntimeError("engine broke")

    engines.engine.respond = fail
    response = upload(client, "a.txt", "你好".encode(), {"Prefer": "respond-async"})
    url = response.get_json()["job"]["status_url"]
    wait_until(lambda: client.get(url).get_json()["job"]["state"] == FAILED)
    job = client.get(url).get_json()["job"]
    assert job["error"]["code"] == "translation_failed"
    assert client.get(url + "/download").status_code == 500


def test_unknown_jobs_are_404(client):
    assert client.get("/translate/file/nope").status_code == 404
    assert client.get("/translate/file/nope/download").status_code == 404


# --- the store --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_store_expires_finished_entries():
    clock = Clock()
    store = FileStore(ttl_s=60, clock=clock)
    entry = store.put("a.txt", "text/plain", b"x")
    clock.now += 59
    assert store.get(entry.id) is not None
    clock.now += 2
    assert store.get(entry.id) is None
    store.close()


def test_store_evicts_the_oldest_for_count_and_bytes():
    clock = Clock()
    store = FileStore(max_files=2, max_bytes=10, clock=clock)
    first = store.put("1", "text/plain", b"12345")
    clock.now += 1
    second = store.put("2", "text/plain", b"12345")
    clock.now += 1
    third = store.put("3", "text/plain", b"1")
    assert store.get(first.id) is None and store.get(second.id) and store.get(third.id)
    with pytest.raises(QueueFull):
        store.put("4", "text/plain", b"x" * 11)
    store.close()


def test_store_refuses_jobs_over_max_pending():
    store = FileStore(max_pending=1, workers=1)
    release = threading.Event()
    store.submit("a", "text/plain", lambda progress: release.wait(10) and b"a")
    with pytest.raises(QueueFull) as caught:
        store.submit("b", "text/plain", lambda progress: b"b")
    assert caught.value.retry_after
    release.set()
    store.close()


# --- LibreTranslate ---------------------------------------------------------------------------


def test_libretranslate_translate_file_and_download(client):
    response = upload(client, "a.txt", "你好".encode(), path="/translate_file", target="en")
    assert response.status_code == 200
    url = response.get_json()["translatedFileUrl"]
    assert url.startswith("http://localhost/download_file/") and url.endswith(".a.en.txt")
    download = client.get(url.removeprefix("http://localhost"))
    assert download.data == b"You good"
    assert download.headers["Content-Disposition"] == "attachment; filename=a.en.txt"


def test_libretranslate_auto_source_and_errors_in_its_shape(client):
    response = upload(
        client, "a.md", "# 你好".encode(), path="/translate_file", source="auto", target="en"
    )
    assert response.status_code == 200
    response = upload(client, "a.txt", b"x", path="/translate_file", source="zh")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Invalid request: missing target parameter"}
    response = upload(client, "a.exe", b"x", path="/translate_file", target="en")
    assert response.status_code == 400 and "'.exe'" in response.get_json()["error"]
    response = client.get("/download_file/0123.a.txt")
    assert response.status_code == 404 and set(response.get_json()) == {"error"}


# --- the page, the docs, the description ----------------------------------------------------


def test_page_has_the_file_form_docs_link_and_demo_note(make_app, tmp_path):
    client = make_app(model_dir=str(tmp_path / "demo-zh-en")).test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'id="file-form"' in page and 'href="/docs"' in page
    assert "Demo model: everyday sentences; see the README for production models." in page
    assert 'data-source="zh" data-target="en"' in page
    docs_page = client.get("/docs")
    assert docs_page.status_code == 200 and "/static/docs.js" in docs_page.get_data(as_text=True)


def test_page_without_the_demo_model_has_no_note(client):
    assert "Demo model" not in client.get("/").get_data(as_text=True)


def test_openapi_describes_the_file_endpoints(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/translate/file", "/translate/file/{job_id}", "/translate_file"):
        assert path in paths


# --- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def fake_registry(monkeypatch, tmp_path):
    """``TranslatorRegistry.from_settings`` serving the fake zh→en and en→zh engines."""
    engines = FakeEngines()

    def from_settings(cls, settings, *args, **kwargs):
        return cls(
            [
                Translator(
                    settings, tmp_path / "fake-zh-en", engines, direction=Direction.of("zh", "en")
                ),
                Translator(
                    settings, tmp_path / "fake-en-zh", engines, direction=Direction.of("en", "zh")
                ),
            ]
        )

    monkeypatch.setattr(TranslatorRegistry, "from_settings", classmethod(from_settings))
    return engines


def test_cli_translates_a_file_with_a_progress_bar(fake_registry, tmp_path, capsys):
    from cli import main

    source, target = tmp_path / "notes.md", tmp_path / "notes.en.md"
    source.write_text("# 你好\n\n`你好`", encoding="utf-8")
    assert main(["translate-file", str(source), str(target)]) == 0
    assert target.read_text(encoding="utf-8") == "# You good\n\n`你好`"
    assert "char" in capsys.readouterr().err  # tqdm's bar counts characters


def test_cli_jsonl_fields_and_auto_source(fake_registry, tmp_path):
    from cli import main

    source, target = tmp_path / "catalog.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"title": "big", "sku": "small"}\n', encoding="utf-8")
    args = ["translate-file", str(source), str(target), "--source", "auto", "--target", "zh"]
    assert main([*args, "--fields", "title", "--no-progress"]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == {"title": "大", "sku": "small"}


def test_cli_errors(fake_registry, tmp_path, capsys):
    from cli import main

    text = tmp_path / "a.txt"
    text.write_text("你好", encoding="utf-8")
    assert main(["translate-file", str(text), str(tmp_path / "b.txt"), "--fields", "x"]) == 2
    assert main(["translate-file", str(tmp_path / "missing.txt"), str(tmp_path / "b")]) == 1
    exe = tmp_path / "a.exe"
    exe.write_bytes(b"MZ")
    assert main(["translate-file", str(exe), str(tmp_path / "b.exe")]) == 1
    assert "unsupported_file_type" in capsys.readouterr().err
