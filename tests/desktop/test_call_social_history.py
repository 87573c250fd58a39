"""When a customer with a social history calls (issue 15): the desktops are told at once
(`call.incoming` on the stream, a notice in Chromium) and the call's conversation shows what
the caller said in public on X lately, his kind post marked with a hint to thank him."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from tests.desktop.browser import browser_login
from tests.desktop.conftest import desk_for, make_agent
from tests.factories import api_account, message_event, post_events, text_tag
from threadline.contacts.models import Evidence
from threadline.contacts.service import link_identity
from threadline.conversations.models import Conversation, Message
from threadline.events.models import StreamEvent
from threadline.sandbox.providers import twilio as stw
from threadline.sandbox.providers import x as sx
from threadline.workspace.service import create_channel_account


def _caller_with_a_public_post(runtime, workspace_id, client, worker, sandbox):
    config = {"account_sid": "AC" + "7" * 32, "auth_token": "sandbox-token",
              "from_number": "+15559870000", "api_base_url": f"{sandbox.url}/twilio"}
    with runtime.db.session() as s:
        voice = create_channel_account(s, workspace_id, kind="voice", name="Phone",
                                       config=config)
    x_config = {"consumer_key": "ck", "consumer_secret": "sandbox_secret",
                "access_token": "2244994945-token", "access_token_secret": "ats",
                "user_id": "2244994945", "api_base_url": f"{sandbox.url}/x"}
    with runtime.db.session() as s:
        x_account = create_channel_account(s, workspace_id, kind="x", name="Acme on X",
                                           config=x_config)
    marker = text_tag(6)
    hook = sx.mention_webhook(str(x_account.id), x_config, f"post-{marker}",
                              str(secrets.randbelow(10**9)), f"fan{marker}",
                              f"@acme Love the new app, checkout is so much faster now! {marker}")
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
    worker.drain()
    with runtime.db.session(write=False) as s:  # praise: in the Chatter view, not the queue
        customer_id = s.scalar(select(Conversation.customer_id).join(
            Message, Message.conversation_id == Conversation.id).where(
            Message.workspace_id == workspace_id, Message.provider_id == f"post-{marker}"))
    assert customer_id is not None
    number = f"+1415555{secrets.randbelow(10**4):04d}"
    with runtime.db.session() as s:
        link_identity(s, workspace_id, customer_id, kind="phone",
                      address=number, evidence=Evidence.AGENT, actor_type="agent",
                      actor_id=None)
    return voice, config, number, marker


def _ring(client, voice, config, number) -> None:
    hook = stw.call_webhook(str(voice.id), config, number, base_url="http://testserver")
    answer = client.post(hook.path, content=hook.body, headers=hook.headers)
    assert answer.status_code == 200, answer.text


def _call_conversation(runtime, workspace_id) -> str:
    with runtime.db.session(write=False) as s:
        [event] = s.scalars(select(StreamEvent).where(
            StreamEvent.workspace_id == workspace_id, StreamEvent.name == "call.incoming"))
        return str(event.payload["conversation_id"])


def test_the_call_shows_the_callers_public_posts(runtime, workspace_id, client, worker,
                                                  sandbox, app):
    voice, config, number, marker = _caller_with_a_public_post(runtime, workspace_id, client,
                                                               worker, sandbox)
    _ring(client, voice, config, number)
    worker.drain()
    conv = _call_conversation(runtime, workspace_id)
    desk = desk_for(app, runtime, workspace_id, "agent")
    page = desk.get(f"/conversations/{conv}").text
    assert 'id="social-history"' in page
    assert f"checkout is so much faster now! {marker}" in page
    assert 'data-role="acknowledge"' in page


def test_no_call_no_social_card(runtime, workspace_id, client, worker, app):
    account = api_account(runtime, workspace_id)
    assert post_events(client, account, [message_event("plain-1", text="hello there")]
                       ).status_code == 200
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    desk = desk_for(app, runtime, workspace_id, "agent")
    assert 'id="social-history"' not in desk.get(f"/conversations/{conv['id']}").text


def test_the_desktop_rings_live(runtime, workspace_id, client, worker, sandbox, live_server,
                                chromium):
    voice, config, number, marker = _caller_with_a_public_post(runtime, workspace_id, client,
                                                               worker, sandbox)
    agent = make_agent(runtime, workspace_id, "agent", "Cal Center")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    try:
        page.goto("/inbox")
        page.wait_for_selector("body[data-live='1']", state="attached", timeout=10_000)
        _ring(client, voice, config, number)
        worker.drain()
        notice = page.locator(".call-notice", has_text="Incoming call")
        notice.wait_for(timeout=10_000)
        notice.locator("a").click()
        page.wait_for_selector("#social-history", timeout=10_000)
        post = page.locator("#social-history li", has_text=marker)
        assert post.locator(".ch-x").inner_text() == "X"  # his history on X
        assert post.get_attribute("data-sentiment") == "positive"
        assert post.locator("[data-role=acknowledge]").is_visible()  # the kind post stands out
        assert post.evaluate("li => getComputedStyle(li).borderLeftStyle") == "solid"
    finally:
        page.context.close()
