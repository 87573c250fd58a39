"""The confirmation step in real headless Chromium: an admin opens the customer, follows
"Erase this customer…", a wrong confirmation is refused, his name erases him. The pages need
no inline script or style (the desktop's CSP forbids them)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.subjects.test_subject_access import customer, name_of
from threadline.jobs.runtime import Runtime

pytestmark = pytest.mark.slow
NAME = "Quentin Erasable"


def test_admin_erases_after_typing_the_name(runtime: Runtime, workspace_id: uuid.UUID,
                                            live_server: Any, chromium: Any) -> None:
    cid = customer(runtime, workspace_id)
    admin = make_agent(runtime, workspace_id, "admin", "Alma Admin")
    page = browser_login(chromium, live_server.url, admin.email, admin.password)
    page.goto(f"/customers/{cid}")
    with page.expect_download() as download:
        page.click("#subject-requests button[type=submit]")
    assert download.value.suggested_filename == f"customer-{cid}.json"

    page.click("text=Erase this customer…")
    page.wait_for_url(f"**/customers/{cid}/erase")
    inline = page.evaluate("""() => [...document.querySelectorAll('script:not([src]), [style]')]
        .length + [...document.querySelectorAll('*')].filter(e => [...e.attributes]
        .some(a => a.name.startsWith('on'))).length""")
    assert inline == 0
    page.fill("input[name=confirm]", "Quentin")
    page.click("#erase-form button[type=submit]")
    assert "type the customer" in page.content()
    assert name_of(runtime, cid) == NAME

    page.goto(f"/customers/{cid}/erase")
    page.fill("input[name=confirm]", NAME)
    page.click("#erase-form button[type=submit]")
    page.wait_for_url(f"**/customers/{cid}?notice=erased")
    assert page.locator("#erased-notice").is_visible()
    assert name_of(runtime, cid) is None
    page.context.close()
