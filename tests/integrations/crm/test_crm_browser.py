"""Chromium (Playwright) against Threadline live with its worker and the sandbox's HubSpot: a
customer's conversation is matched to his HubSpot contact by the worker, and an agent sees
the contact's and company's fields in the CRM card of the customer page and of the
conversation's customer card (loaded by htmx)."""

from __future__ import annotations

import uuid

import httpx

from tests.desktop.browser import browser_login, chromium  # noqa: F401
from tests.desktop.conftest import make_agent
from tests.e2e.conftest import wait_for
from tests.factories import api_account, body, message_event, signed_headers
from tests.integrations.crm.conftest import hubspot_connection, tag


def test_contact_fields_appear_in_the_customer_panel(runtime, workspace_id, live_server,
                                                     sandbox, crm, token,
                                                     chromium):  # noqa: F811
    t = tag()
    email = f"panel-{t}@example.com"
    contact = crm.hs_contact(email=email, firstname="Pia", jobtitle="Head of Ops")
    crm.hs_company(contact, name=f"Initech {t}")
    api = httpx.Client(base_url=live_server.url + "/api/v1", timeout=10,
                       headers={"Authorization": f"Bearer {token}"})
    hubspot_connection(api, crm)
    account = api_account(runtime, workspace_id, identity_kind="email")
    pid = f"p-{uuid.uuid4().hex[:8]}"
    raw = body([message_event(pid, author=email, email=email, visibility="private",
                              text=f"Where is my invoice {t}")])
    assert httpx.post(f"{live_server.url}/webhooks/api/{account.id}", content=raw,
                      headers=signed_headers(account, raw)).status_code == 200

    def linked() -> dict | None:
        for item in api.get("/conversations").json()["items"]:
            conv = api.get(f"/conversations/{item['id']}").json()
            panel = api.get(f"/customers/{conv['customer']['id']}/crm").json()
            if panel["links"] and panel["links"][0]["fields"]:
                return conv
        return None
    conv = wait_for(linked, what="the customer linked with fields")
    api.close()

    agent = make_agent(runtime, workspace_id, "agent", "Pat Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    try:
        page.goto(f"/customers/{conv['customer']['id']}")
        card = page.locator("#crm-panel")
        card.locator("dd[data-field=jobtitle]").wait_for(timeout=10_000)
        assert card.locator("dd[data-field=jobtitle]").inner_text() == "Head of Ops"
        assert card.locator("dd[data-field=firstname]").inner_text() == "Pia"
        assert card.locator("[data-part=account] dd[data-field=name]").inner_text() == \
            f"Initech {t}"
        assert card.locator(f"[data-contact='{contact}']").count() == 1

        page.goto(f"/conversations/{conv['id']}")
        side = page.locator(".conv-side #crm-panel")
        side.locator("dd[data-field=jobtitle]").wait_for(timeout=10_000)
        assert side.locator("dd[data-field=email]").inner_text() == email
        side.locator("button", has_text="Refresh from CRM").click()
        page.locator("#crm-panel [role=status]").wait_for(timeout=10_000)
        assert "Refresh queued" in page.locator("#crm-panel [role=status]").inner_text()
    finally:
        page.context.close()
