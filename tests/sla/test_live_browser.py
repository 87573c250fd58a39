"""Live breach notices in real headless Chromium against a live Threadline: when the scanner
fires a breach, the supervisor's page shows the notice and its breaches panel refreshes
without a reload, the conversation's assignee sees the notice, another agent does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.factories import api_account
from tests.sla.helpers import conversation_of, customer_writes, policy
from threadline.db.base import utcnow
from threadline.events.models import OutboxJob
from threadline.sla.engine import SCAN_JOB, scan

pytestmark = pytest.mark.slow


def test_breach_notice_for_the_assignee_and_supervisors(runtime, workspace_id, client, worker,
                                                        live_server, chromium):
    boss = make_agent(runtime, workspace_id, "supervisor", "Kim Boss")
    ana = make_agent(runtime, workspace_id, "agent", "Ana Assignee")
    other = make_agent(runtime, workspace_id, "agent", "Bo Other")
    policy(client, first_response_minutes=60, escalation=["notify"])
    customer_writes(client, worker, api_account(runtime, workspace_id), "live-1",
                    at=utcnow() - timedelta(hours=3), text="still no refund")
    conv = conversation_of(runtime, workspace_id, "live-1")
    assert client.patch(f"/api/v1/conversations/{conv.id}",
                        json={"assignee_id": str(ana.id)}).status_code == 200
    worker.drain()
    with runtime.db.session() as session:  # the scan is this test's to run, not the server's
        session.execute(delete(OutboxJob).where(OutboxJob.name == SCAN_JOB,
                                                OutboxJob.status == "pending"))
    pages = {}
    for agent in (boss, ana, other):
        page = browser_login(chromium, live_server.url, agent.email, agent.password)
        if agent is boss:
            page.goto("/supervisor")
            page.wait_for_selector("#sla-panel table", timeout=15000)
            assert "No breaches or warnings" in page.inner_text("#sla-panel")
            page.evaluate("window.__sameDocument = true")
        page.wait_for_selector("body[data-sla-live='1']", state="attached", timeout=15000)
        pages[agent.email] = page
    assert scan(runtime)["breaches"] >= 1
    supervisor = pages[boss.email]
    notice = supervisor.locator(".sla-notice", has_text="Service level breached: first response")
    notice.wait_for(timeout=15000)
    assert notice.locator("a").get_attribute("href") == f"/conversations/{conv.id}"
    supervisor.locator("#sla-panel", has_text="breached").wait_for(timeout=15000)
    assert supervisor.evaluate("window.__sameDocument") is True  # live, no reload
    pages[ana.email].locator(".sla-notice").wait_for(timeout=15000)
    pages[other.email].wait_for_timeout(1000)
    assert pages[other.email].locator(".sla-notice").count() == 0
    for page in pages.values():
        page.context.close()
