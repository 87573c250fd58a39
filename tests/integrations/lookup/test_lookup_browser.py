"""In real headless Chromium: the conversation view shows the customer data panel with the
orders the brand's endpoint (started by the test) returns, loaded after the view without
holding it; a slow endpoint leaves the view usable; a 500 is shown as an error."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.factories import only_api_conversation
from tests.integrations.lookup.conftest import configure
from tests.integrations.lookup.receiver import Receiver
from threadline.jobs.runtime import Runtime


def test_the_panel_beside_a_conversation(runtime: Runtime, workspace_id: uuid.UUID,
                                         client: TestClient, worker: Any, live_server: Any,
                                         chromium: Any, receiver: Receiver) -> None:
    conv = only_api_conversation(runtime, workspace_id, client, worker,
                                 text="Where is my parcel?")
    configure(client, receiver, "ok", cache=0)
    agent = make_agent(runtime, workspace_id, "agent", "Ada Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    try:
        page.goto(f"/conversations/{conv['id']}")
        card = page.locator("#customer-data[data-state=ok]")
        card.wait_for(timeout=15000)
        orders = card.locator("[data-role=lookup-order]")
        assert orders.count() == 2
        assert "#1042" in orders.nth(0).inner_text() and "shipped" in orders.nth(0).inner_text()
        assert "59.90 EUR" in orders.nth(0).inner_text()
        assert "-4.10 EUR" in card.locator("[data-role=lookup-balance]").inner_text()
        assert "Monthly box" in card.inner_text() and "Return label" in card.inner_text()
        [call] = receiver.received
        assert call.signed and call.body["data"]["conversation_id"] == conv["id"]

        # slow: the view is there and usable before the panel gives up
        configure(client, receiver, "slow", timeout=3, cache=0)
        receiver.slow_seconds = 5
        page.goto(f"/conversations/{conv['id']}")
        page.locator("#composer-text").wait_for(timeout=3000)
        # the view is complete while the lookup still runs (it gives up after 3 s)
        assert page.locator("#customer-data").get_attribute("data-state") == "loading"
        page.locator("#customer-data[data-state=timeout]").wait_for(timeout=6000)
        assert "Lookup timed out" in page.locator("[data-role=lookup-error]").inner_text()

        # a 500: shown as an error in the panel
        configure(client, receiver, "500", cache=0)
        page.goto(f"/conversations/{conv['id']}")
        failed = page.locator("#customer-data[data-state=failed]")
        failed.wait_for(timeout=15000)
        error = failed.locator("[data-role=lookup-error]")
        assert error.get_attribute("data-code") == "lookup_http_error"
        assert "Lookup unavailable" in error.inner_text() and "500" in error.inner_text()
    finally:
        page.context.close()


def test_an_admin_sets_the_endpoint_up(runtime: Runtime, workspace_id: uuid.UUID,
                                       client: TestClient, live_server: Any, chromium: Any,
                                       receiver: Receiver) -> None:
    admin = make_agent(runtime, workspace_id, "admin", "Alma Admin")
    page = browser_login(chromium, live_server.url, admin.email, admin.password)
    try:
        page.goto("/settings")
        page.click("#customer-data-link")
        page.fill("input[name=url]", f"{receiver.url}/ok")
        page.fill("input[name=timeout_seconds]", "2")
        page.click("#lookup-settings button[type=submit]")
        secret = page.locator("#lookup-secret [data-role=secret]").inner_text()
        assert secret.startswith("whsec_")
        assert client.get("/api/v1/integrations/customer-data").json()["timeout_seconds"] == 2
        page.goto("/settings/customer-data")
        assert page.locator("[data-role=secret]").count() == 0  # shown once
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#rotate-secret")
        rotated = page.locator("#lookup-secret [data-role=secret]")
        rotated.wait_for(timeout=3000)
        assert rotated.inner_text().startswith("whsec_") and rotated.inner_text() != secret
        page.once("dialog", lambda dialog: dialog.dismiss())  # cancelled: nothing happens
        page.click("#remove-endpoint")
        page.wait_for_timeout(300)
        assert client.get("/api/v1/integrations/customer-data").status_code == 200
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#remove-endpoint")
        page.get_by_text("Endpoint removed").wait_for(timeout=3000)
        assert client.get("/api/v1/integrations/customer-data").status_code == 404
    finally:
        page.context.close()
