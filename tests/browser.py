"""Helpers for the Chromium tests: one Playwright driver per worker, and polling under the pages' CSP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_DRIVER: Any = None  # the worker's Playwright (its Node.js driver), started by the first browser test


class _Chromium:
    """``playwright.chromium`` that remembers the browsers it launched, to close them with the test."""

    def __init__(self, browser_type: Any) -> None:
        self._type = browser_type
        self.launched: list[Any] = []

    def launch(self, **options: Any) -> Any:
        browser = self._type.launch(**options)
        self.launched.append(browser)
        return browser


class _Playwright:
    """What a test sees of the shared driver: ``chromium.launch`` (the rest of Playwright as is)."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver
        self.chromium = _Chromium(driver.chromium)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


@contextmanager
def shared_playwright() -> Iterator[Any]:
    """``with sync_playwright() as p`` without starting a Node.js driver per test.

    Starting Playwright's driver costs a second of CPU and several seconds of wall time on a busy
    machine, once per test; the browser itself is still launched by each test, so no test sees
    another's browser state. Every browser launched inside the block is closed when it ends.
    """
    global _DRIVER
    if _DRIVER is None:
        from playwright.sync_api import sync_playwright

        _DRIVER = sync_playwright().start()
    playwright = _Playwright(_DRIVER)
    try:
        yield playwright
    finally:
        for browser in playwright.chromium.launched:
            if browser.is_connected():
                browser.close()


def stop_shared_playwright() -> None:
    """Stop the worker's driver (at the end of the session), if a test started it."""
    global _DRIVER
    if _DRIVER is not None:
        _DRIVER.stop()
        _DRIVER = None


def wait_until(page: Any, expression: str, *, timeout_s: float = 15) -> None:
    """Wait until ``expression`` is truthy in ``page``, polling from the test.

    Playwright's ``wait_for_function`` polls by compiling the string in the page, which a policy
    without ``'unsafe-eval'`` forbids; ``page.evaluate`` is not subject to the page's policy.
    """
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s} s: {expression}")
        page.wait_for_timeout(100)
