"""File translation: every format through POST /translate/file and the fake engine, and
the errors and limits of uploads.

The fake engine "translates" with the tiny model's code (tests/fakes.py): 你→you,
好→good, 我→I, 是→is, 学→learn, 生→born, 大→big, 小→small; other characters are copied.
Every file is made here, in tmp_path or in memory. Jobs and the download store,
LibreTranslate's translate_file, the page and the CLI are tested in
tests/test_files_jobs.py.
"""

from __future__ import annotations

import io
import json

import docx
import pytest
from docx.shared import Pt
from file_uploads import (
    make_app_fixture,  # noqa: F401 - the make_app fixture
    upload,
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
