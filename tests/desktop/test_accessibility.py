"""Accessibility (issue 15): axe-core (from the npm registry, node_modules/axe-core) runs in
real headless Chromium on the inbox, a conversation, a customer, the supervisor view, the
settings, a short link's page and the web chat page, with data on every page; no serious or
critical violation is allowed. The report names each rule and element that fails."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.desktop.conftest import make_agent
from tests.hops.conftest import Hops

pytestmark = pytest.mark.slow

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("serious", "critical")


@pytest.fixture
def hop(live_server: Any, sandbox: Any, token: str, runtime: Any,
        workspace_id: uuid.UUID) -> Iterator[Hops]:
    harness = Hops(live_server, sandbox, token, runtime, workspace_id)
    yield harness
    harness.close()


def violations(page: Any) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [f"{v['impact']} {v['id']}: {v['help']} at {json.dumps(v['nodes'])}"
            for v in result if v["impact"] in IMPACTS]


def test_desktop_and_customer_pages_have_no_serious_violations(hop: Hops, chromium: Any):
    assert AXE.is_file(), "node_modules/axe-core is missing: scripts/install.sh runs npm ci"
    _, conv, _ = hop.x_complaint(f"@acme my order never arrived {hop.tag}")
    chat = hop.account("webchat", {"title": "Acme chat"}, name="Acme chat")
    offer = hop.offer(conv["id"], "chat_link")
    admin = make_agent(hop.runtime, hop.workspace_id, "admin", "Ada Admin")

    context = chromium.new_context(base_url=hop.server.url, bypass_csp=True,
                                   viewport={"width": 1440, "height": 900})
    desk = context.new_page()
    desk.goto("/login")
    report = {"login": violations(desk)}
    desk.fill("input[name=email]", admin.email)
    desk.fill("input[name=password]", admin.password)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/inbox")
    desk.locator(".inbox-row").first.wait_for(timeout=10000)
    pages = {"inbox": "/inbox", "conversation": f"/conversations/{conv['id']}",
             "customer": f"/customers/{conv['customer_id']}", "supervisor": "/supervisor",
             "settings": "/settings", "link": hop.path(offer["url"]),
             "web chat": f"/webchat/{chat}"}
    # and every other page of the desktop
    pages.update({path: path for path in (
        "/account", "/approvals", "/callbacks", "/dashboards", "/dashboards/conversations",
        "/quality", f"/customers/{conv['customer_id']}/journey", "/settings/teams",
        "/settings/routing", "/settings/approval", "/settings/business-hours",
        "/settings/service-levels", "/settings/automation", "/settings/quality",
        "/settings/csat", "/settings/dashboards")})
    for name, path in pages.items():
        answer = desk.goto(path)
        assert answer is not None and answer.status == 200, (name, answer and answer.status)
        desk.wait_for_load_state("networkidle")
        report[name] = violations(desk)

    # the keyboard alone reaches the composer and its send button from the top of the page
    desk.goto(f"/conversations/{conv['id']}")
    reached = set()
    for _ in range(150):
        desk.keyboard.press("Tab")
        reached.add(desk.evaluate("document.activeElement.id || document.activeElement.name"
                                  " || document.activeElement.tagName"))
        if {"composer-text", "send-button"} <= reached:
            break
    context.close()
    assert {"composer-text", "send-button"} <= reached, sorted(reached)
    found = {name: v for name, v in report.items() if v}
    print("axe-core:", {name: len(v) for name, v in report.items()})
    assert found == {}, json.dumps(found, indent=1)
