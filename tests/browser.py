"""Headless Chromium for the report tests and benchmarks: Debian's chromium and chromedriver through Selenium.

Never a browser download: the binaries are /usr/bin/chromium and /usr/bin/chromedriver (or $CHROMIUM,
$CHROMEDRIVER); `available()` tells whether they are here. Each driver gets a fresh profile directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")


def missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


class Browser:
    """One headless Chromium window of `width` x `height` CSS pixels."""

    def __init__(self, width: int = 1440, height: int = 900):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="cnncalc-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={self.profile}")
        opts.add_argument(f"--window-size={width},{height}")
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(60)
        self.driver.set_window_size(width, height)

    def open(self, url_or_path: str | Path, timeout: float = 30) -> float:
        """Load a page and wait until the report says it is ready; the seconds that took."""
        url = url_or_path if str(url_or_path).startswith(("http:", "file:")) else Path(url_or_path).resolve().as_uri()
        self.driver.get("about:blank")  # leave the last page (and its timers) first
        self.console()  # what the last page logged is not this page's
        start = time.perf_counter()
        self.driver.get(str(url))
        self.wait_ready(timeout)
        return time.perf_counter() - start

    def wait_ready(self, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.js("return document.documentElement.getAttribute('data-ready')") == "1":
                return
            time.sleep(0.02)
        raise TimeoutError(f"the page was not ready in {timeout} s; console: {self.console()}")

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def console(self) -> list[dict[str, Any]]:
        """Console messages since the last call (errors, CSP violations, uncaught exceptions)."""
        return list(self.driver.get_log("browser"))

    def errors(self) -> list[str]:
        return [m["message"] for m in self.console() if m.get("level") in ("SEVERE", "ERROR")]

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def screenshot(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return path

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def embedded_data(html: str) -> Any:
    """The JSON a report page embeds (its `\\u` escapes are JSON string escapes)."""
    import json

    start = html.index('<script type="application/json" id="cnncalc-data">')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])


def click(b: Browser, selector: str) -> None:
    """Scroll the element to the middle of its scroll boxes, then click it as a user would."""
    e = b.css(selector)
    b.js("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", e)
    e.click()
