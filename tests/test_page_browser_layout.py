"""Headless-Chromium tests of the translation page's layout (templates/index.html +
static/): no horizontal scroll on phones, a button row that stays put, the demo model's
note, and the API docs page.

The page talks to a stub backend (tests/page_stub.py), so these tests need neither the
model nor the real app. They need Debian's ``chromium`` and ``chromium-driver`` packages
and the ``selenium`` Python package; without the browser the module is skipped (see
tests/browser_page.py, which holds the fixtures and helpers the browser tests share).
Translating text itself is tested in tests/test_page_browser.py.
"""

from __future__ import annotations

import pytest
from browser_page import (
    DESKTOP_SIZE,
    PHONE_375,
    PHONE_SIZE,
    driver_fixture,  # noqa: F401 - the driver fixture
    el,
    load,
    page_fixture,  # noqa: F401 - the page fixture
    page_stub,
    server_fixture,  # noqa: F401 - the server fixture
    type_input,
    wait_for,
    wait_idle,
    wait_output,
    wait_status_contains,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.slow


# --- notes and layout -------------------------------------------------------------------


def test_phone_width_has_no_horizontal_scroll(page: WebDriver):
    page.set_window_size(*PHONE_SIZE)
    wait_for(page, lambda d: d.execute_script("return window.innerWidth") <= PHONE_SIZE[0])

    # A long unbroken output word must wrap rather than widen the page.
    type_input(page, "x" * 45)
    el(page, "translate-btn").click()
    wait_output(page, "EN: " + "x" * 45)

    scroll_width, client_width = page.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];"
    )
    assert scroll_width <= client_width
    source, output = el(page, "source-text"), el(page, "target-text")
    assert output.rect["y"] >= source.rect["y"] + source.rect["height"]  # stacked
    button = el(page, "translate-btn")
    assert button.is_displayed()
    assert button.rect["x"] >= 0
    assert button.rect["x"] + button.rect["width"] <= client_width


def test_demo_model_note_is_shown_only_for_the_demo_model(driver, server):
    page = load(driver, server, "/?demo=1")
    note = el(page, "demo-note")
    assert note.is_displayed()
    assert note.text == "Demo model: everyday sentences; see the README for production models."
    page = load(driver, server, "/")
    assert page.find_elements(By.ID, "demo-note") == []


def button_rects(driver: WebDriver) -> list[dict]:
    """Where the buttons (and, where shown, the hint beside them) are."""
    ids = ("translate-btn", "copy-btn", "clear-btn", "shortcut-hint", "source-text")
    return [el(driver, i).rect for i in ids if el(driver, i).is_displayed()]


@pytest.mark.parametrize("size", [DESKTOP_SIZE, PHONE_375])
def test_the_button_row_does_not_move_when_labels_and_status_change(page, server, size):
    page.set_window_size(*size)
    type_input(page, "好")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 好")
    idle = button_rects(page)

    el(page, "copy-btn").click()
    wait_status_contains(page, "Copied")
    assert button_rects(page) == idle  # "Copied" and its status line

    type_input(page, "boom")
    el(page, "translate-btn").click()
    wait_status_contains(page, page_stub.QUEUE_FULL_MESSAGE)
    assert button_rects(page) == idle  # an error status

    type_input(page, "slow")
    el(page, "translate-btn").click()
    wait_for(page, lambda d: "Translating" in el(d, "translate-btn").text)
    assert button_rects(page) == idle  # "Translating…" with its spinner
    server.release_slow.set()
    wait_idle(page)


def test_375_px_wide_phone_has_no_horizontal_scroll(page):
    page.set_window_size(*PHONE_375)
    wait_for(page, lambda d: d.execute_script("return window.innerWidth") <= PHONE_375[0])
    type_input(page, "hello " + "y" * 40)
    el(page, "translate-btn").click()
    wait_for(page, lambda d: el(d, "use-detected").is_displayed())
    scroll_width, client_width = page.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];"
    )
    assert scroll_width <= client_width
    for element_id in ("direction", "swap-btn", "file-input", "file-btn", "clear-btn"):
        rect = el(page, element_id).rect
        assert rect["x"] >= 0 and rect["x"] + rect["width"] <= client_width, element_id


# --- the API docs page ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [DESKTOP_SIZE, PHONE_375])
def test_docs_page_renders_the_openapi_description_locally(page, server, size):
    assert el(page, "docs-link").get_attribute("href") == server.origin + "/docs"
    page.set_window_size(*size)
    page.get_log("browser")
    el(page, "docs-link").click()
    wait_for(page, lambda d: el(d, "api-docs").get_attribute("aria-busy") == "false")

    assert page.title.startswith("API documentation")
    op = el(page, "post-translate-file")
    assert "multipart/form-data" in op.text and "curl -s -X POST -F file=@notes.md" in op.text
    assert "text (required)" in el(page, "post-translate").text
    assert page.find_elements(By.ID, "get-download-file-filename-")
    resources = page.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    assert [name for name in resources if not name.startswith(server.origin + "/")] == []
    assert [e for e in page.get_log("browser") if e["level"] == "SEVERE"] == []
    scroll_width, client_width = page.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];"
    )
    assert scroll_width <= client_width
