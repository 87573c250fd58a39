"""The phone in Chromium (issue 15): a callback placed from the queue and its outcome
recorded, and click-to-call from a conversation; the sandbox's Twilio receives the calls over
real HTTP from the live server's worker."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from sqlalchemy import select

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.desktop.phone_helpers import (
    customer_with_phone,
    give_phone,
    random_number,
    twilio_calls,
    voice_account,
)
from tests.desktop.test_accessibility import AXE, violations
from threadline.contacts.service import record_consent
from threadline.conversations.models import Message
from threadline.db.base import utcnow
from threadline.hops.records.models import Callback


def _wait_for_call(sandbox_url: str, to: str, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in twilio_calls(sandbox_url, "/Calls.json")
                 if c["form"].get("To") == to]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"the sandbox got no call to {to}")


def test_a_callback_placed_from_the_queue_and_its_outcome_recorded(
        runtime, workspace_id, client, worker, sandbox, live_server, chromium):
    setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
    with runtime.db.session() as s:
        record_consent(s, workspace_id, setup.customer_id, kind="phone",
                       address=setup.customer_phone, purpose="callback", method="verbal",
                       wording="You may call me back on this number")
    start = (utcnow() + timedelta(hours=3)).isoformat()
    answer = client.post(f"/api/v1/conversations/{setup.conversation_id}/callbacks",
                         json={"phone": setup.customer_phone, "window_start": start})
    assert answer.status_code == 201, answer.text
    callback_id = answer.json()["id"]
    agent = make_agent(runtime, workspace_id, "agent", "Queue Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    try:
        page.goto("/callbacks")
        row = page.locator(f'tr[data-callback="{callback_id}"]')
        assert row.get_attribute("data-group") == "scheduled"
        row.locator('[data-role="call-now"]').click()
        page.wait_for_selector('[data-role="notice"]', timeout=10_000)
        assert "The call is being placed." in page.inner_text('[data-role="notice"]')
        placed = _wait_for_call(sandbox.url, setup.customer_phone)
        assert placed["form"]["From"] == setup.config["from_number"]  # type: ignore[index]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            page.goto("/callbacks")
            state = page.locator(f'tr[data-callback="{callback_id}"]').get_attribute(
                "data-state")
            if state == "placed":
                break
            time.sleep(0.2)
        assert state == "placed"
        row = page.locator(f'tr[data-callback="{callback_id}"]')
        row.locator('select[name="outcome"]').select_option("completed")
        row.locator('input[name="note"]').fill("sorted the refund on the phone")
        row.locator('[data-role="record-outcome"]').click()
        page.wait_for_selector('[data-role="notice"]', timeout=10_000)
        done = page.locator(f'#callbacks-done tr[data-callback="{callback_id}"]')
        assert done.get_attribute("data-state") == "completed"
        assert "completed: sorted the refund on the phone" in done.inner_text()
    finally:
        page.context.close()
    with runtime.db.session(write=False) as s:
        row_state = s.get(Callback, uuid.UUID(callback_id))
        assert row_state is not None and row_state.state == "completed"
        call = s.scalar(select(Message).where(Message.provider_id == row_state.call_provider_id))
        assert call is not None and call.kind == "call"


def test_click_to_call_from_a_conversation(runtime, workspace_id, client, worker, sandbox,
                                           live_server, chromium):
    setup = customer_with_phone(runtime, workspace_id, client, worker, None)
    voice_account(runtime, workspace_id, sandbox.url)
    agent = make_agent(runtime, workspace_id, "agent", "Click Caller")
    own = random_number()
    give_phone(runtime, agent.id, own)
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    try:
        page.goto(f"/conversations/{setup.conversation_id}")
        button = page.locator('#phone-card [data-role="click-to-call"]')
        button.wait_for(timeout=10_000)
        button.click()
        page.wait_for_selector('#phone-card [data-role="call-notice"]', timeout=10_000)
        placed = _wait_for_call(sandbox.url, own)
        twiml = str(placed["form"]["Twiml"])  # type: ignore[index]
        assert f"<Number>{setup.customer_phone}</Number>" in twiml
        page.goto(f"/conversations/{setup.conversation_id}")
        record = page.locator(".msg.kind-call").first
        record.wait_for(timeout=10_000)
        assert "click-to-call" in record.inner_text()
    finally:
        page.context.close()


def test_the_phone_pages_have_no_serious_accessibility_violations(
        runtime, workspace_id, client, worker, sandbox, live_server, chromium):
    assert AXE.is_file(), "node_modules/axe-core is missing: scripts/install.sh runs npm ci"
    setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
    with runtime.db.session() as s:
        record_consent(s, workspace_id, setup.customer_id, kind="phone",
                       address=setup.customer_phone, purpose="callback", method="verbal",
                       wording="You may call me back on this number")
    start = (utcnow() + timedelta(hours=3)).isoformat()
    assert client.post(f"/api/v1/conversations/{setup.conversation_id}/callbacks",
                       json={"phone": setup.customer_phone, "window_start": start}
                       ).status_code == 201
    agent = make_agent(runtime, workspace_id, "agent", "Axe Agent")
    give_phone(runtime, agent.id, random_number())
    context = chromium.new_context(base_url=live_server.url, bypass_csp=True,
                                   viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto("/login")
        page.fill("input[name=email]", agent.email)
        page.fill("input[name=password]", agent.password)
        page.click("button[type=submit]")
        page.wait_for_url("**/inbox")
        report: dict[str, list[str]] = {}
        page.goto("/callbacks")
        page.locator("details.callback-more summary").first.click()
        report["callbacks"] = violations(page)
        page.goto("/account")
        report["account"] = violations(page)
        page.goto(f"/conversations/{setup.conversation_id}")
        page.locator('#phone-card [data-role="click-to-call"]').wait_for(timeout=10_000)
        report["conversation"] = violations(page)
        assert {k: v for k, v in report.items() if v} == {}
    finally:
        context.close()
