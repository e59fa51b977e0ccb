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


def load(driver: WebDriver, server: StubServer, path: str = "/") -> WebDriver:
    """A freshly loaded page at desktop size; earlier tests leave no state behind."""
    driver.set_window_size(*DESKTOP_SIZE)
    for record in ("CALLS", "DIRECTIONS", "DETECTS", "FILES", "GLOSSARIES"):
        server.app.config[record].clear()
    server.release_slow.clear()
    driver.get(server.origin + path)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    return driver


@pytest.fixture
def live_page(driver: WebDriver, server: StubServer) -> WebDriver:
    """The page as shipped: it translates 500 ms after typing pauses."""
    return load(driver, server)


@pytest.fixture
def page(driver: WebDriver, server: StubServer) -> WebDriver:
    """The page with translate-as-you-type pushed out of the way (a 10-minute pause), so
    the tests of the Translate button count the requests it makes exactly; the tests of
    translating as you type use ``live_page``."""
    load(driver, server)
    driver.execute_script("document.getElementById('translator').dataset.debounceMs = '600000';")
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
    # The scratch textarea is gone again (the glossary's is the page's own).
    assert page.find_elements(By.CSS_SELECTOR, "textarea:not(#glossary)") == [
        el(page, "source-text")
    ]


# --- direction, swap, detection ---------------------------------------------------------


PHONE_375 = (375, 740)


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


# --- notes and layout -------------------------------------------------------------------


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
