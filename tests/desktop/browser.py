"""Browser helpers for the desktop tests (the `chromium` fixture lives in tests/conftest.py:
Debian's Chromium driven by Playwright, one instance per test process)."""

from __future__ import annotations

from typing import Any

import pytest


def browser_login(browser: Any, base_url: str, email: str, password: str,
                  viewport: dict[str, int] | None = None) -> Any:
    context = browser.new_context(base_url=base_url,
                                  viewport=viewport or {"width": 1440, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox")
    return page


@pytest.fixture
def chromium(chromium: Any) -> Any:
    """For modules that import `chromium` from here: the one shared browser of conftest."""
    return chromium
