"""Headless-Chromium tests of the translation page (templates/index.html + static/).

The page talks to a stub backend (tests/page_stub.py), so these tests need neither the
model nor the real app. They need Debian's ``chromium`` and ``chromium-driver`` packages
and the ``selenium`` Python package; without the browser the module is skipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(
        f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

try:
    from tests import page_stub
except ImportError:  # tests/ is not a package and the repo root is not on sys.path
    import page_stub  # type: ignore[no-redef]

pytestmark = pytest.mark.slow

WAIT_S = 15  # generous: CI machines may be busy; every wait ends as soon as it can
DESKTOP_SIZE = (1280, 900)
PHONE_SIZE = (360, 740)


# --- Fixtures ----------------------------------------------------------------------------


class StubServer:
    def __init__(self) -> None:
        self.app = page_stub.create_app()
        # threaded: a half-open speculative connection from Chromium must not block others.
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def calls(self) -> list[str]:
        return self.app.config["CALLS"]

    @property
    def release_slow(self) -> threading.Event:
        return self.app.config["RELEASE_SLOW"]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.release_slow.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[StubServer]:
    stub = StubServer()
    stub.start()
    yield stub
    stub.stop()


def _chrome_options(profile_dir: Path) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--lang=en-US",
        f"--window-size={DESKTOP_SIZE[0]},{DESKTOP_SIZE[1]}",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    # One browser per module (per xdist worker): starting Chromium is the slow part.
    profile_dir = tmp_path_factory.mktemp("chromium-profile")
    # An explicit driver path keeps Selenium Manager from trying to download anything.
    service = Service(CHROMEDRIVER)
    browser = webdriver.Chrome(service=service, options=_chrome_options(profile_dir))
    browser.set_page_load_timeout(30)
    browser.set_script_timeout(30)
    yield browser
    browser.quit()


@pytest.fixture
def page(driver: WebDriver, server: StubServer) -> WebDriver:
    """A freshly loaded page at desktop size; earlier tests leave no state behind."""
    driver.set_window_size(*DESKTOP_SIZE)
    server.calls.clear()
    server.release_slow.clear()
    driver.get(server.origin + "/")
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    return driver


# --- Helpers -----------------------------------------------------------------------------


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], message: str = "") -> Any:
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.05).until(condition, message)


def el(driver: WebDriver, element_id: str) -> WebElement:
    return driver.find_element(By.ID, element_id)


def text_of(driver: WebDriver, element_id: str) -> str:
    """Exact textContent (Selenium's .text collapses whitespace and line breaks)."""
    return driver.execute_script(
        "return document.getElementById(arguments[0]).textContent;", element_id
    )


def set_input(driver: WebDriver, value: str) -> None:
    """Set the textarea as a paste would: ChromeDriver cannot type non-BMP characters."""
    driver.execute_script(
        "const box = document.getElementById('source-text');"
        "box.value = arguments[0];"
        "box.dispatchEvent(new Event('input', {bubbles: true}));",
        value,
    )


def type_input(driver: WebDriver, value: str) -> None:
    box = el(driver, "source-text")
    box.clear()
    box.send_keys(value)


def wait_output(driver: WebDriver, expected: str) -> None:
    wait_for(
        driver,
        lambda d: text_of(d, "target-text") == expected,
        f"output never became {expected!r}; it is {text_of(driver, 'target-text')!r}",
    )


def wait_status_contains(driver: WebDriver, fragment: str) -> str:
    wait_for(
        driver,
        lambda d: fragment in text_of(d, "status"),
        f"status never contained {fragment!r}; it is {text_of(driver, 'status')!r}",
    )
    return text_of(driver, "status")


def wait_idle(driver: WebDriver) -> None:
    wait_for(
        driver,
        lambda d: el(d, "translator").get_attribute("aria-busy") != "true",
        "the request never finished",
    )


def assert_no_junk(text: str) -> None:
    for junk in ("undefined", "[object Object]", "null", "NaN"):
        assert junk not in text


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
    assert any(name.split("?")[0].endswith("/static/app.js") for name in resources)
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
    assert page.find_elements(By.CSS_SELECTOR, "textarea") == [el(page, "source-text")]
