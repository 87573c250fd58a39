"""Headless Chromium against a running `threadline demo`: the login page and the signed-in inbox
load htmx from the installed package, with no failed script request. Called by
scripts/wheel_check.sh; prints one line per check and exits non-zero on any failure.

    python scripts/wheel_browser_check.py BASE_URL EMAIL PASSWORD HTMX_VERSION
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]


def check_htmx(page: Any, where: str, version: str, failures: list[str]) -> None:
    loaded = page.evaluate("() => window.htmx ? window.htmx.version : null")
    if loaded != version:
        failures.append(f"{where}: window.htmx.version is {loaded!r}, expected {version!r}")
    else:
        print(f"ok: {where} has htmx {loaded}")


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url or "/login/" in url)
    if "/login/password" in page.url:  # the demo admin's password is a one-time password
        own = "wheel-check-" + secrets.token_urlsafe(12)
        page.fill("input[name=new_password]", own)
        page.fill("input[name=new_password_again]", own)
        page.click("form[action='/login/password'] button[type=submit]")
    page.wait_for_url("**/inbox", timeout=15_000)


def main(base_url: str, email: str, password: str, version: str) -> int:
    failures: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_context(base_url=base_url).new_page()
            page.on("requestfailed", lambda r: failures.append(
                f"request failed: {r.url} ({r.failure})"))
            page.on("response", lambda r: failures.append(f"HTTP {r.status}: {r.url}")
                    if r.status >= 400 and r.request.resource_type in ("script", "stylesheet")
                    else None)
            page.on("pageerror", lambda e: failures.append(f"page error: {e}"))
            page.goto("/login")
            page.wait_for_load_state("load")
            check_htmx(page, "login page", version, failures)
            sign_in(page, email, password)
            page.wait_for_load_state("load")
            page.wait_for_selector("#inbox-list", timeout=15_000)
            check_htmx(page, "inbox", version, failures)
        except Exception as exc:  # a timeout or a missing element: a failure like any other
            failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            browser.close()
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    raise SystemExit(main(*sys.argv[1:5]))
