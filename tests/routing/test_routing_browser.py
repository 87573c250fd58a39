"""Presence in real headless Chromium against a live Threadline with its worker: the agent
goes online from the selector in the rail (the static heartbeat has marked his desktop seen),
and a Spanish message arriving through a signed webhook is routed to him and shows in his
inbox without a reload; going offline hands it back to the team's queue."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.factories import api_account, message_event, signed_headers
from tests.factories import body as events_body
from threadline.conversations.models import Conversation
from threadline.routing import admin
from threadline.routing.schemas import MemberIn, RuleIn, TeamIn
from threadline.routing.service import ROUTER
from threadline.workspace.models import Agent

pytestmark = pytest.mark.slow


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_presence_selector_routes_work_to_the_agent_and_offline_hands_it_back(
        runtime, workspace_id, live_server, chromium):
    desk = make_agent(runtime, workspace_id, "agent", "Ana Browser")
    with runtime.db.session() as session:
        agent = session.get(Agent, desk.id)
        agent.skills = ["es"]
        team = admin.create_team(session, workspace_id, TeamIn(
            name="Español", skills=["es"], members=[MemberIn(agent_id=desk.id)]), ROUTER)
        admin.create_rule(session, workspace_id, RuleIn.model_validate({
            "name": "spanish", "team_id": team.id,
            "conditions": [{"field": "language", "op": "is", "value": "es"}]}), ROUTER)
    account = api_account(runtime, workspace_id)
    page = browser_login(chromium, live_server.url, desk.email, desk.password)
    try:
        check(runtime, workspace_id, live_server, page, desk, account)
    finally:  # the page's event stream open would keep the server and its worker running
        page.context.close()


def check(runtime, workspace_id, live_server, page, desk, account) -> None:
    select = page.locator("#presence select[name=presence]")
    select.wait_for(timeout=15000)
    assert select.input_value() == "offline"

    def agent_row() -> Agent:
        with runtime.db.session(write=False) as session:
            row = session.get(Agent, desk.id)
            assert row is not None
            return row

    wait_for(lambda: agent_row().last_seen_at is not None)  # the heartbeat
    select.select_option("online")
    wait_for(lambda: agent_row().presence == "online")
    page.locator("#presence.presence-online").wait_for(timeout=15000)

    pid = f"browser-{uuid.uuid4().hex[:8]}"
    text = "Hola, mi pedido llegó roto y necesito una solución, por favor."
    raw = events_body([message_event(pid, author="lucia", visibility="private", text=text)])
    response = httpx.post(f"{live_server.url}/webhooks/api/{account.id}", content=raw,
                          headers=signed_headers(account, raw))
    assert response.status_code == 200

    def conversation() -> Conversation | None:
        with runtime.db.session(write=False) as session:
            return session.query(Conversation).filter(
                Conversation.workspace_id == workspace_id).one_or_none()

    wait_for(lambda: (c := conversation()) is not None and c.assignee_id == desk.id)
    page.locator(".inbox-row", has_text="pedido").wait_for(timeout=15000)

    select = page.locator("#presence select[name=presence]")
    select.select_option("offline")
    wait_for(lambda: agent_row().presence == "offline")
    wait_for(lambda: (c := conversation()) is not None and c.assignee_id is None)
    conv = conversation()
    assert conv is not None and conv.queued_at is not None
    assert conv.routed_reason.startswith("Ana Browser went offline")
