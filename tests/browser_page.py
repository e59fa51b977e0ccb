"""What the headless-Chromium tests of the page (tests/test_page_browser*.py) share: the
stub backend's server (tests/page_stub.py), the browser, the page fixtures and the helpers
that drive the page.

Importing this module skips the importing test module where Debian's ``chromium`` or
``chromium-driver`` is missing. The test modules import the fixtures from here under their
function names (``server_fixture``, ``driver_fixture``, ``page_fixture``,
``live_page_fixture``); each test module gets its own browser and stub server.
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
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

try:
    from tests import page_stub
except ImportError:  # tests/ is not a package and the repo root is not on sys.path
    import page_stub  # type: ignore[no-redef]

WAIT_S = 15  # generous: CI machines may be busy; every wait ends as soon as it can
DESKTOP_SIZE = (1280, 900)
PHONE_SIZE = (360, 740)
PHONE_375 = (375, 740)


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


@pytest.fixture(scope="module", name="server")
def server_fixture() -> Iterator[StubServer]:
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


@pytest.fixture(scope="module", name="driver")
def driver_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
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


@pytest.fixture(name="live_page")
def live_page_fixture(driver: WebDriver, server: StubServer) -> WebDriver:
    """The page as shipped: it translates 500 ms after typing pauses."""
    return load(driver, server)


@pytest.fixture(name="page")
def page_fixture(driver: WebDriver, server: StubServer) -> WebDriver:
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
