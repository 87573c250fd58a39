"""Chromium (Playwright): an agent's public reply is held, the supervisor (another browser
context) sees it appear live in the approval queue on the supervisor view, edits and approves
it, and the provider sandbox receives the call only then; a rejected reply never reaches it."""

from __future__ import annotations

import time
import uuid

import httpx
from sqlalchemy import select

from tests.approval.helpers import sandbox_calls
from tests.desktop.browser import browser_login, chromium  # noqa: F401
from tests.desktop.conftest import make_agent
from tests.factories import api_account, body, message_event, signed_headers
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import SYSTEM
from threadline.outbound.approval_rules import ApprovalPolicy, set_approval_policy
from threadline.workspace.models import Agent


def _conversation(runtime, live_url, account, text):
    pid = f"b-{uuid.uuid4().hex[:8]}"
    raw = body([message_event(pid, author=f"c-{pid}", text=text)])
    assert httpx.post(f"{live_url}/webhooks/api/{account.id}", content=raw,
                      headers=signed_headers(account, raw)).status_code == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with runtime.db.session(write=False) as session:
            conv_id = session.scalar(select(Conversation.id).join(
                Message, Message.conversation_id == Conversation.id)
                .where(Message.provider_id == pid))
        if conv_id:
            return conv_id
        time.sleep(0.1)
    raise AssertionError("the conversation never appeared")


def _wait_calls(sandbox, marker, count, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(sandbox_calls(sandbox, marker)) >= count:
            break
        time.sleep(0.1)
    return sandbox_calls(sandbox, marker)


def test_held_reply_is_edited_and_approved_live_and_a_rejected_one_never_sent(
        runtime, workspace_id, live_server, sandbox, chromium):  # noqa: F811
    agent = make_agent(runtime, workspace_id, "agent", "Tia Trainee")
    boss = make_agent(runtime, workspace_id, "supervisor", "Sam Supervisor")
    with runtime.db.session() as session:
        trainee = session.get(Agent, agent.id)
        assert trainee is not None
        trainee.in_training = True
        set_approval_policy(session, workspace_id, ApprovalPolicy(in_training=True), SYSTEM)
    account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
    first = _conversation(runtime, live_server.url, account, "When do you open on Sunday?")

    supervisor = browser_login(chromium, live_server.url, boss.email, boss.password)
    supervisor.goto("/supervisor")
    supervisor.wait_for_selector("#approval-queue [data-role=queue-empty]")
    supervisor.wait_for_function("document.getElementById('approval-queue')"
                                 ".dataset.live === 'ready'")

    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    page.goto(f"/conversations/{first}")
    draft = f"we open at 10 i think {uuid.uuid4().hex[:6]}"
    page.fill("#composer-text", draft)
    page.check("input[name=visibility][value=public]")
    page.click("#send-button")
    page.wait_for_selector("[data-role=delivery]:has-text('awaiting approval')")

    item = supervisor.wait_for_selector(".approval-item", timeout=10_000)  # live, no reload
    assert draft in item.inner_text() or draft in supervisor.input_value(
        ".approval-item textarea")
    time.sleep(1.0)  # the worker had time: still nothing reached the provider
    assert sandbox_calls(sandbox, draft) == []

    final = f"We open at 10:00 on Sundays. {uuid.uuid4().hex[:6]}"
    supervisor.fill(".approval-item textarea", final)
    supervisor.click(".approval-item [data-role=approve]")
    supervisor.wait_for_selector("#approval-queue [data-role=queue-empty]")
    [call] = _wait_calls(sandbox, final, 1)
    assert call["json"]["text"] == final
    assert sandbox_calls(sandbox, draft) == []
    page.wait_for_selector(f"#timeline :text('{final}')", timeout=10_000)

    second = _conversation(runtime, live_server.url, account, "Are you open at Easter?")
    page.goto(f"/conversations/{second}")
    rude = f"no idea lol {uuid.uuid4().hex[:6]}"
    page.fill("#composer-text", rude)
    page.check("input[name=visibility][value=public]")
    page.click("#send-button")
    supervisor.wait_for_selector(".approval-item", timeout=10_000)
    supervisor.fill(".approval-item input[name=reason]", "Check the Easter hours first")
    supervisor.click(".approval-item [data-role=reject]")
    supervisor.wait_for_selector("#approval-queue [data-role=queue-empty]")
    page.wait_for_selector(".delivery-error:has-text('Check the Easter hours first')",
                           timeout=10_000)
    time.sleep(1.0)
    assert sandbox_calls(sandbox, rude) == []
    supervisor.context.close()
    page.context.close()
