"""Headless-Chromium tests of what the translation page sends besides the text
(templates/index.html + static/): the direction selector, swap and the detected language,
file upload, and the glossary.

The page talks to a stub backend (tests/page_stub.py), so these tests need neither the
model nor the real app. They need Debian's ``chromium`` and ``chromium-driver`` packages
and the ``selenium`` Python package; without the browser the module is skipped (see
tests/browser_page.py, which holds the fixtures and helpers the browser tests share).
Translating text itself is tested in tests/test_page_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_page import (
    driver_fixture,  # noqa: F401 - the driver fixture
    el,
    load,
    page_fixture,  # noqa: F401 - the page fixture
    page_stub,
    server_fixture,  # noqa: F401 - the server fixture
    set_input,
    text_of,
    type_input,
    wait_for,
    wait_output,
    wait_status_contains,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.slow


# --- direction, swap, detection ---------------------------------------------------------


def test_direction_selector_sends_the_direction_and_relabels_the_panes(page, server):
    assert el(page, "direction").get_property("value") == "zh-en"
    page.execute_script(
        "const s = document.getElementById('direction'); s.value = 'en-zh';"
        "s.dispatchEvent(new Event('change', {bubbles: true}));"
    )
    assert el(page, "source-label").text == "English"
    assert el(page, "target-label").text == "Chinese"
    assert el(page, "source-text").get_attribute("lang") == "en"
    assert el(page, "target-text").get_attribute("lang") == "zh"
    type_input(page, "big")
    el(page, "translate-btn").click()
    wait_output(page, "ZH: big")
    assert server.app.config["DIRECTIONS"] == ["en-zh"]


def test_swap_reverses_the_direction_and_the_texts(page, server):
    type_input(page, "你好")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 你好")

    el(page, "swap-btn").click()

    assert el(page, "direction").get_property("value") == "en-zh"
    assert el(page, "source-label").text == "English"
    assert el(page, "source-text").get_property("value") == "EN: 你好"
    assert text_of(page, "target-text") == "你好"  # the source of the text now translated
    assert server.calls == ["你好"]  # no request needed for that
    el(page, "translate-btn").click()
    wait_output(page, "ZH: EN: 你好")
    assert server.app.config["DIRECTIONS"] == ["zh-en", "en-zh"]


def test_swap_without_a_translation_keeps_the_text_and_translates_it(page, server):
    set_input(page, "hello")
    el(page, "swap-btn").click()
    wait_output(page, "ZH: hello")
    assert el(page, "source-text").get_property("value") == "hello"


def test_swap_is_disabled_when_the_reverse_is_not_served(driver, server):
    page = load(driver, server, "/?directions=zh-en")
    assert not el(page, "swap-btn").is_enabled()
    assert "only" in el(page, "swap-btn").get_attribute("title")


def test_detected_language_is_shown_and_offers_the_matching_direction(page, server):
    type_input(page, "hello")
    el(page, "translate-btn").click()
    wait_for(page, lambda d: text_of(d, "detected-text").startswith("Detected: English"))
    assert server.app.config["DETECTS"] == ["hello"]
    offer = el(page, "use-detected")
    assert offer.is_displayed() and "English → Chinese" in offer.text

    offer.click()

    wait_output(page, "ZH: hello")
    assert el(page, "direction").get_property("value") == "en-zh"
    assert not el(page, "use-detected").is_displayed()


def test_detected_language_matching_the_source_offers_nothing(page):
    type_input(page, "你好")
    el(page, "translate-btn").click()
    wait_for(page, lambda d: text_of(d, "detected-text") == "Detected: Chinese")
    assert not el(page, "use-detected").is_displayed()


# --- files --------------------------------------------------------------------------------


def choose_file(driver: WebDriver, path: Path) -> None:
    driver.execute_script("document.getElementById('file-form').dataset.pollMs = '20';")
    el(driver, "file-input").send_keys(str(path))


def test_file_upload_shows_progress_and_offers_the_download(page, server, tmp_path):
    source = tmp_path / "notes.txt"
    source.write_text("你好", encoding="utf-8")
    choose_file(page, source)
    el(page, "file-btn").click()

    link = el(page, "file-download")
    wait_for(page, lambda d: link.is_displayed(), "the download link never appeared")
    assert link.text == "Download notes.en.txt"
    assert link.get_attribute("download") == "notes.en.txt"
    assert link.get_attribute("href").endswith("/download")
    assert el(page, "file-progress").get_property("value") == 100
    assert "Translated" in text_of(page, "file-status")
    assert server.app.config["FILES"] == [("notes.txt", "zh", "en")]
    fetched = page.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text()).then(done);",
        link.get_attribute("href"),
    )
    assert fetched == "EN: 你好"


def test_file_upload_errors_are_shown(page, server, tmp_path):
    for name, message in (
        ("program.exe", "files of type '.exe' cannot be translated"),
        ("fail.txt", page_stub.FILE_FAILED_MESSAGE),
    ):
        path = tmp_path / name
        path.write_bytes(b"x")
        choose_file(page, path)
        el(page, "file-btn").click()
        wait_for(page, lambda d, m=message: m in text_of(d, "file-status"))
        assert "status--error" in el(page, "file-status").get_attribute("class")
        assert not el(page, "file-download").is_displayed()
        assert el(page, "file-btn").is_enabled()


def test_a_file_over_the_limit_is_refused_before_upload(page, server, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (page_stub.MAX_FILE_BYTES + 1))
    choose_file(page, big)
    el(page, "file-btn").click()
    wait_for(page, lambda d: "the limit is" in text_of(d, "file-status"))
    assert server.app.config["FILES"] == []


# --- glossary -----------------------------------------------------------------------------


def set_glossary(driver: WebDriver, value: str) -> None:
    el(driver, "glossary-box").find_element(By.TAG_NAME, "summary").click()
    driver.execute_script(
        "const box = document.getElementById('glossary'); box.value = arguments[0];"
        "box.dispatchEvent(new Event('input', {bubbles: true}));",
        value,
    )


def test_glossary_goes_with_the_request(page, server):
    set_glossary(page, "苹果=Apple\n\n 小米 = Xiaomi ")
    type_input(page, "苹果和小米")
    el(page, "translate-btn").click()
    wait_output(page, "EN: Apple和Xiaomi")
    assert server.app.config["GLOSSARIES"] == [{"苹果": "Apple", "小米": "Xiaomi"}]


def test_a_glossary_term_not_applied_is_reported(page):
    set_glossary(page, page_stub.UNAPPLIED_TERM + "=bad")
    type_input(page, "好" + page_stub.UNAPPLIED_TERM)
    el(page, "translate-btn").click()
    wait_status_contains(page, "not applied: " + page_stub.UNAPPLIED_TERM)


def test_a_malformed_glossary_line_is_an_error_and_sends_nothing(page, server):
    set_glossary(page, "苹果=Apple\n小米")
    type_input(page, "苹果")
    el(page, "translate-btn").click()
    status = wait_status_contains(page, "Glossary line 2")
    assert "term=translation" in status
    assert el(page, "glossary").get_attribute("aria-invalid") == "true"
    assert server.calls == []
