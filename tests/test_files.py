"""File translation: every format through the endpoints and the fake engine, the limits,
the job and download store, LibreTranslate's translate_file, the CLI.

The fake engine "translates" with the tiny model's code (tests/fakes.py): 你→you,
好→good, 我→I, 是→is, 学→learn, 生→born, 大→big, 小→small; other characters are copied.
Every file is made here, in tmp_path or in memory.
"""

from __future__ import annotations

import io
import json
import threading

import docx
import pytest
from docx.shared import Pt
from fakes import FakeEngines, Gate
from helpers import wait_until

from app import create_app
from serving import Translator, TranslatorRegistry
from serving.errors import QueueFull
from serving.file_jobs import DONE, FAILED, FileStore
from text.languages import Direction


@pytest.fixture
def make_app(settings_overrides, engines):
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


def on_disk(tmp_path, name: str, data: bytes | str) -> bytes:
    """Write the test's own file to tmp_path and read it back, as a user's file would be."""
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path.read_bytes()


def error_of(response) -> dict:
    body = response.get_json()
    assert body["success"] is False
    return body["error"]


# --- each format through POST /translate/file ------------------------------------------------


def test_txt_comes_back_as_an_attachment_with_paragraphs_kept(client, tmp_path):
    data = on_disk(tmp_path, "notes.txt", "你好。\r\n\r\n我是学生。\r\n")
    response = upload(client, "notes.txt", data)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=notes.en.txt"
    assert response.mimetype == "text/plain"
    assert response.data == b"You good.\r\n\r\nI is learn born.\r\n"


def test_a_chinese_file_name_is_kept_in_the_download_name(client):
    response = upload(client, "../笔记.txt", "你好".encode())
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"document.en.txt\"; filename*=UTF-8''%E7%AC%94%E8%AE%B0.en.txt"
    )
    response = upload(client, "Café 报告.txt", "你好".encode())
    assert 'filename="Cafe.en.txt"' in response.headers["Content-Disposition"]


def test_markdown_keeps_code_links_and_structure(client, tmp_path):
    source = (
        '# 你好\n\n- 我是[学生](https://例子.cn/学生 "你")，运行`pip install 你好`\n\n'
        "```\n你好\n```\n"
    )
    response = upload(client, "readme.md", on_disk(tmp_path, "readme.md", source))
    assert response.status_code == 200
    assert response.data.decode() == (
        '# You good\n\n- I is [learn born](https://例子.cn/学生 "你"),运行`pip install 你好`\n\n'
        "```\n你好\n```\n"
    )
    assert response.mimetype == "text/markdown"


def test_srt_keeps_indices_timings_and_line_breaks(client, tmp_path):
    source = (
        "1\n00:00:01,000 --> 00:00:02,000\n你好。\n我是学生。\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\n大\n"
    )
    response = upload(client, "film.srt", on_disk(tmp_path, "film.srt", source))
    assert response.data.decode() == (
        "1\n00:00:01,000 --> 00:00:02,000\nYou good.\nI is learn born.\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nBig\n"
    )


def test_html_keeps_tags_scripts_and_code(client, tmp_path):
    source = "<h1>你好</h1><p>我是<b>学生</b>。<code>你好</code></p><script>var a='你';</script>"
    response = upload(client, "page.html", on_disk(tmp_path, "page.html", source))
    out = response.data.decode()
    assert out.startswith("<h1>You good</h1><p>")
    assert "<b>" in out and "</b>" in out and "<code>你好</code>" in out
    assert out.endswith("<script>var a='你';</script>")
    assert response.mimetype == "text/html"


def test_jsonl_translates_strings_and_keeps_numbers(client, tmp_path):
    source = '{"id": "A1", "title": "大", "price": 5}\n{"title": "小", "tags": ["你好"]}\n'
    response = upload(client, "catalog.jsonl", on_disk(tmp_path, "catalog.jsonl", source))
    lines = [json.loads(line) for line in response.data.decode().splitlines()]
    assert lines == [
        {"id": "A1", "title": "Big", "price": 5},
        {"title": "Small", "tags": ["You good"]},
    ]


def make_docx(tmp_path) -> bytes:
    document = docx.Document()
    document.add_heading("你好", level=1)
    paragraph = document.add_paragraph("我是")
    paragraph.add_run("学生").bold = True
    paragraph.add_run("。")
    big = document.add_paragraph()
    for char in "大小":
        big.add_run(char).font.size = Pt(20)
    document.add_table(rows=1, cols=1).cell(0, 0).text = "你好"
    document.sections[0].header.paragraphs[0].text = "大"
    document.save(tmp_path / "report.docx")
    return (tmp_path / "report.docx").read_bytes()


def test_docx_keeps_styles_runs_tables_and_headers(client, tmp_path):
    response = upload(client, "report.docx", make_docx(tmp_path))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=report.en.docx"
    document = docx.Document(io.BytesIO(response.data))
    heading, mixed, big = document.paragraphs
    assert heading.style.name == "Heading 1" and heading.text == "You good"
    # Three style groups (plain, bold, plain): the translation spread over them.
    assert [r.bold for r in mixed.runs] == [None, True, None]
    assert mixed.text == "I is learn born."
    assert mixed.runs[1].text.strip() in {"learn", "is learn", "learn born."}
    # One style group of two runs: all of it in the first run, the run's size kept.
    assert [r.text for r in big.runs] == ["Big small", ""]
    assert big.runs[0].font.size == Pt(20)
    assert document.tables[0].cell(0, 0).text == "You good"
    assert document.sections[0].header.paragraphs[0].text == "Big"


# --- errors and limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("program.exe", b"MZ", 415, "unsupported_file_type"),
        ("noextension", b"x", 415, "unsupported_file_type"),
        ("broken.docx", b"not a zip", 400, "unreadable_file"),
        ("bad.jsonl", b"{oops", 400, "unreadable_file"),
        ("binary.txt", b"\x80\xff\xfe\x00\x81", 400, "unreadable_file"),
    ],
)
def test_unreadable_uploads_are_clear_errors(client, name, data, status, code):
    response = upload(client, name, data)
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_missing_file_and_wrong_media_type(client):
    response = client.post(
        "/translate/file", data={"source": "zh"}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "'file'" in error_of(response)["message"]
    response = client.post("/translate/file", json={"text": "你好"})
    assert response.status_code == 415


def test_unserved_direction_is_400_listing_the_served_ones(client):
    response = upload(client, "a.txt", "你好".encode(), target="fr")
    assert response.status_code == 400
    assert error_of(response)["code"] == "unsupported_direction"


def test_files_over_max_file_bytes_are_413_and_under_it_pass_the_body_limit(make_app):
    app = make_app(max_file_bytes=300_000, max_body_bytes=4096)
    client = app.test_client()
    big = ("大" * 3000 + "\n\n").encode() * 30  # about 270 KB: over max_body_bytes
    assert upload(client, "big.txt", big).status_code == 200
    response = upload(client, "huge.txt", big * 2)
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "file_too_large" and "300000" in error["message"]
    # The other endpoints keep max_body_bytes.
    assert client.post("/translate", json={"text": "大" * 3000}).status_code == 413


def test_files_over_max_file_chars_are_413_text_too_long(make_app):
    client = make_app(max_file_chars=10).test_client()
    response = upload(client, "a.txt", ("大" * 11).encode())
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "text_too_long" and "10" in error["message"]


def test_a_text_longer_than_max_chars_is_cut_and_joined(make_app):
    client = make_app(max_chars=20).test_client()
    response = upload(client, "a.txt", ("大。" * 30).encode())
    assert response.status_code == 200
    assert response.data.decode() == " ".join(["Big."] * 30)


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
