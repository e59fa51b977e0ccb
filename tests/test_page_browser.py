"""Headless-Chromium tests of the translation page (templates/index.html + static/):
translating text with the Translate button, Ctrl+Enter and as you type, errors and
timeouts, the character counter, Clear and Copy.

The page talks to a stub backend (tests/page_stub.py), so these tests need neither the
model nor the real app. They need Debian's ``chromium`` and ``chromium-driver`` packages
and the ``selenium`` Python package; without the browser the module is skipped (see
tests/browser_page.py, which holds the fixtures and helpers the browser tests share).
The layout and the docs page are tested in tests/test_page_browser_layout.py; direction,
file upload and the glossary in tests/test_page_browser_options.py.
"""

from __future__ import annotations

import pytest
from browser_page import (
    StubServer,
    assert_no_junk,
    driver_fixture,  # noqa: F401 - the driver fixture
    el,
    live_page_fixture,  # noqa: F401 - the live_page fixture
    page_fixture,  # noqa: F401 - the page fixture
    page_stub,
    server_fixture,  # noqa: F401 - the server fixture
    set_input,
    text_of,
    type_input,
    wait_for,
    wait_idle,
    wait_output,
    wait_status_contains,
)
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.slow


# --- Tests -------------------------------------------------------------------------------


def test_page_loads_with_both_panes_and_only_local_resources(page: WebDriver, server: StubServer):
    page.get_log("browser")  # drop anything logged before this test's own page load
    page.get(server.origin + "/")
    wait_for(page, lambda d: d.execute_script("return document.readyState") == "complete")

    assert page.title == "Chinese → English Translator"
    source = el(page, "source-text")
    output = el(page, "target-text")
    assert source.tag_name == "textarea" and source.get_attribute("lang") == "zh"
    assert output.get_attribute("lang") == "en"
    assert source.is_displayed() and output.is_displayed()
    # Side by side on a desktop-width window.
    assert output.rect["x"] > source.rect["x"] + source.rect["width"] / 2
    assert page.find_element(By.CSS_SELECTOR, "label[for='source-text']").text == "Chinese"

    for button_id, name in (
        ("translate-btn", "Translate"),
        ("copy-btn", "Copy"),
        ("clear-btn", "Clear"),
    ):
        button = el(page, button_id)
        assert button.is_displayed()
        assert name in (button.accessible_name or "")
    assert el(page, "char-counter").text == "0 / 50"
    assert el(page, "translator").get_attribute("data-max-chars") == "50"
    assert el(page, "status").get_attribute("aria-live") == "polite"
    assert "Model: stub-model" in page.find_element(By.TAG_NAME, "footer").text

    resources = page.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    for script in ("translate.js", "direction.js", "controls.js", "files.js"):
        assert any(name.split("?")[0].endswith("/static/" + script) for name in resources)
    assert any(name.split("?")[0].endswith("/static/style.css") for name in resources)
    foreign = [name for name in resources if not name.startswith(server.origin + "/")]
    assert foreign == []
    # The stylesheet really applied (a 404 or a syntax error would leave defaults).
    white_space = page.execute_script("return getComputedStyle(arguments[0]).whiteSpace;", output)
    assert white_space == "pre-wrap"

    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_translate_button_shows_result_and_keeps_line_breaks(page: WebDriver, server: StubServer):
    type_input(page, "你好\n世界")
    el(page, "translate-btn").click()

    wait_output(page, "EN: 你好\n世界")
    assert server.calls == ["你好\n世界"]
    assert el(page, "translate-btn").is_enabled()
    assert el(page, "target-text").find_elements(By.CSS_SELECTOR, "*") == []


def test_ctrl_enter_translates(page: WebDriver):
    box = el(page, "source-text")
    type_input(page, "早上好")
    ActionChains(page).click(box).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(
        Keys.CONTROL
    ).perform()

    wait_output(page, "EN: 早上好")
    # The shortcut must not also insert a newline into the input.
    assert box.get_property("value") == "早上好"


def test_api_error_shows_the_server_message(page: WebDriver):
    type_input(page, "boom")
    el(page, "translate-btn").click()

    status = wait_status_contains(page, page_stub.QUEUE_FULL_MESSAGE)
    assert_no_junk(status)
    output = text_of(page, "target-text")
    assert output != "undefined"
    assert output == ""
    wait_idle(page)
    assert el(page, "translate-btn").is_enabled()


def test_non_json_error_mentions_http_status(page: WebDriver):
    type_input(page, "html")
    el(page, "translate-btn").click()

    status = wait_status_contains(page, "HTTP 502")
    assert_no_junk(status)
    assert "<html>" not in status
    assert text_of(page, "target-text") == ""


def test_result_is_inserted_as_text_not_html(page: WebDriver):
    source = "<script>alert(1)</script>"
    type_input(page, source)
    el(page, "translate-btn").click()

    wait_for(page, lambda d: text_of(d, "target-text") != "")
    output = el(page, "target-text")
    content = text_of(page, "target-text")
    assert "<img src=x onerror=alert(1)>" in content
    assert "<b>bold</b>" in content
    assert content.endswith(source)
    assert output.find_elements(By.CSS_SELECTOR, "*") == []
    assert page.find_elements(By.CSS_SELECTOR, "img, #target-text b, #target-text script") == []
    with pytest.raises(NoAlertPresentException):
        page.switch_to.alert.text  # noqa: B018 - accessing it is the check


def test_counter_over_limit_disables_translate(page: WebDriver, server: StubServer):
    counter = el(page, "char-counter")
    button = el(page, "translate-btn")
    box = el(page, "source-text")

    type_input(page, "a" * 51)
    wait_for(page, lambda d: counter.text == "51 / 50")
    assert "counter--over" in counter.get_attribute("class")
    assert not button.is_enabled()
    assert box.get_attribute("aria-invalid") == "true"
    color_over = counter.value_of_css_property("color")

    # The shortcut must not get around the disabled button.
    ActionChains(page).click(box).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(
        Keys.CONTROL
    ).perform()

    box.send_keys(Keys.BACKSPACE)
    wait_for(page, lambda d: counter.text == "50 / 50")
    assert "counter--over" not in counter.get_attribute("class")
    assert counter.value_of_css_property("color") != color_over
    assert button.is_enabled()
    assert box.get_attribute("aria-invalid") is None
    assert server.calls == []


def test_counter_counts_code_points_like_python(page: WebDriver):
    counter = el(page, "char-counter")
    set_input(page, "😀")
    wait_for(page, lambda d: counter.text == "1 / 50")

    # 50 emoji are 100 UTF-16 units but 50 characters for the server: still allowed.
    set_input(page, "😀" * 50)
    wait_for(page, lambda d: counter.text == "50 / 50")
    assert el(page, "translate-btn").is_enabled()

    set_input(page, "😀" * 51)
    wait_for(page, lambda d: counter.text == "51 / 50")
    assert not el(page, "translate-btn").is_enabled()


def test_clear_empties_both_panes_and_focuses_input(page: WebDriver):
    type_input(page, "谢谢")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 谢谢")

    el(page, "clear-btn").click()

    wait_for(page, lambda d: text_of(d, "target-text") == "")
    assert el(page, "source-text").get_property("value") == ""
    assert el(page, "char-counter").text == "0 / 50"
    assert page.switch_to.active_element == el(page, "source-text")


def test_clear_during_a_request_cancels_it(page: WebDriver, server: StubServer):
    button = el(page, "translate-btn")
    type_input(page, "slow")
    button.click()
    wait_for(page, lambda d: el(d, "translator").get_attribute("aria-busy") == "true")

    el(page, "clear-btn").click()

    wait_idle(page)
    assert button.is_enabled() and "Translate" in button.text
    server.release_slow.set()
    # The page is usable at once, and the cancelled answer never shows up.
    type_input(page, "好")
    button.click()
    wait_output(page, "EN: 好")
    assert "slow" not in text_of(page, "target-text")


def test_whitespace_only_input_does_not_call_the_api(page: WebDriver, server: StubServer):
    type_input(page, "   \n  ")
    el(page, "translate-btn").click()
    assert text_of(page, "target-text") == ""

    # A real translation afterwards proves the page is idle and shows what reached the server.
    type_input(page, "好")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 好")
    assert server.calls == ["好"]


def test_loading_state_and_no_double_submit(page: WebDriver, server: StubServer):
    button = el(page, "translate-btn")
    type_input(page, "slow")
    button.click()

    wait_for(page, lambda d: el(d, "translator").get_attribute("aria-busy") == "true")
    assert not button.is_enabled()
    assert "Translating" in button.text
    # Both ways of asking again are ignored while the first request is in flight.
    page.execute_script("arguments[0].click();", button)
    ActionChains(page).click(el(page, "source-text")).key_down(Keys.CONTROL).send_keys(
        Keys.ENTER
    ).key_up(Keys.CONTROL).perform()

    server.release_slow.set()
    wait_output(page, "EN: slow")
    wait_idle(page)
    assert button.is_enabled() and "Translate" in button.text
    assert server.calls == ["slow"]


def test_client_side_timeout_shows_a_clear_message(page: WebDriver, server: StubServer):
    # The page reads its timeout per request; shorten it instead of waiting 60 s.
    page.execute_script("document.getElementById('translator').dataset.timeoutMs = '300';")
    type_input(page, "slow")
    el(page, "translate-btn").click()

    status = wait_status_contains(page, "timed out")
    server.release_slow.set()  # let the abandoned server-side request finish
    assert_no_junk(status)
    wait_idle(page)
    assert el(page, "translate-btn").is_enabled()


def test_copy_shows_confirmation(page: WebDriver):
    type_input(page, "复制")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 复制")

    el(page, "copy-btn").click()

    # The status line keeps the confirmation; the button's "Copied" badge fades after 2 s,
    # too soon to assert on reliably under load.
    wait_status_contains(page, "Copied")


def test_copy_falls_back_to_exec_command_with_the_exact_text(page: WebDriver):
    type_input(page, "第一行\n第二行")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 第一行\n第二行")
    # Simulate a browser that refuses the async Clipboard API, and record what the fallback
    # selected when it asked for a copy.
    page.execute_script(
        "navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));"
        "const original = document.execCommand.bind(document);"
        "window.__copied = null;"
        "document.execCommand = (cmd, ...rest) => {"
        "  if (cmd === 'copy') { window.__copied = document.activeElement.value; }"
        "  return original(cmd, ...rest);"
        "};"
    )

    el(page, "copy-btn").click()

    wait_status_contains(page, "Copied")
    assert page.execute_script("return window.__copied;") == "EN: 第一行\n第二行"
    # The scratch textarea is gone again (the glossary's is the page's own).
    assert page.find_elements(By.CSS_SELECTOR, "textarea:not(#glossary)") == [
        el(page, "source-text")
    ]


# --- translate as you type --------------------------------------------------------------


def test_translates_once_typing_pauses(live_page, server):
    assert el(live_page, "translator").get_attribute("data-debounce-ms") == "500"
    set_input(live_page, "你好世界")
    wait_output(live_page, "EN: 你好世界")
    assert server.calls == ["你好世界"]  # one input event, one request, after the pause
    type_input(live_page, "再见")
    wait_output(live_page, "EN: 再见")
    assert server.calls[-1] == "再见"


def test_changing_the_text_marks_the_translation_stale(page):
    type_input(page, "你好")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 你好")
    assert "output--stale" not in el(page, "target-text").get_attribute("class")
    assert not el(page, "stale-badge").is_displayed()

    set_input(page, "你好吗")

    assert "output--stale" in el(page, "target-text").get_attribute("class")
    assert el(page, "stale-badge").is_displayed()
    el(page, "translate-btn").click()
    wait_output(page, "EN: 你好吗")
    assert not el(page, "stale-badge").is_displayed()


def test_emptying_the_text_clears_the_translation(page):
    type_input(page, "你好")
    el(page, "translate-btn").click()
    wait_output(page, "EN: 你好")
    set_input(page, "")
    assert text_of(page, "target-text") == ""
    assert text_of(page, "detected-text") == ""


def test_typing_cancels_the_request_in_flight(page, server):
    type_input(page, "slow")
    el(page, "translate-btn").click()
    wait_for(page, lambda d: el(d, "translator").get_attribute("aria-busy") == "true")

    set_input(page, "好")  # the slow answer would be stale: aborted, the page is idle

    wait_idle(page)
    assert el(page, "translate-btn").is_enabled()
    el(page, "translate-btn").click()
    wait_output(page, "EN: 好")
    server.release_slow.set()
    assert server.calls == ["slow", "好"]
    assert "slow" not in text_of(page, "target-text")
