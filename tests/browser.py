"""Helpers for the Chromium tests that keep the pages' own Content-Security-Policy on."""

from __future__ import annotations

import time
from typing import Any


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
