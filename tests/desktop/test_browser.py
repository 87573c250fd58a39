"""The agent desktop in real headless Chromium against a live Threadline and the provider
sandbox: a public X mention arrives live, the agent replies in public, the delivery state turns
to sent, a DM from the same customer joins the same conversation as private, and the customer
panel shows the customer's X identity writing in public and in private."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import x as sandbox_x
from threadline.workspace.service import create_channel_account

pytestmark = pytest.mark.slow


def x_account(runtime: Runtime, workspace_id: uuid.UUID, sandbox_url: str) -> tuple[str, dict]:
    config = {"consumer_key": "ck", "consumer_secret": secrets.token_hex(16),
              "access_token": "at", "access_token_secret": secrets.token_hex(16),
              "user_id": str(4_400_000_000 + secrets.randbelow(10**6)),
              "api_base_url": f"{sandbox_url}/x"}
    with runtime.db.session() as session:
        account = create_channel_account(session, workspace_id, kind="x", name="Brand on X",
                                         config=config)
        return str(account.id), config


def deliver(base_url: str, hook: Any) -> None:
    response = httpx.post(base_url + hook.path, content=hook.body, headers=hook.headers)
    assert response.status_code == 200, response.text


def test_x_mention_reply_dm_and_customer_panel(runtime, workspace_id, live_server, sandbox,
                                               chromium):
    account_id, config = x_account(runtime, workspace_id, sandbox.url)
    agent = make_agent(runtime, workspace_id, "agent", "Ada Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    page.wait_for_selector("body[data-live='1']", state="attached", timeout=15000)
    page.evaluate("window.__sameDocument = true")
    open_before = int(page.inner_text("#count-active"))

    user_id = str(7_000_000_000 + secrets.randbelow(10**9))
    tweet_id = str(1_880_000_000_000_000_000 + secrets.randbelow(10**15))
    text = f"@brand my parcel {secrets.token_hex(3)} never arrived, help?"
    started = time.monotonic()
    deliver(live_server.url, sandbox_x.mention_webhook(account_id, config, tweet_id, user_id,
                                                       "jane_doe", text, name="Jane Doe"))
    row = page.locator(".inbox-row", has_text=text)
    row.wait_for(timeout=1000)
    assert time.monotonic() - started < 1.0
    assert page.evaluate("window.__sameDocument") is True  # no reload
    # the Open tab's count follows the list live (it came with the refreshed list)
    page.wait_for_function("n => Number(document.getElementById('count-active').textContent)"
                           " === n", arg=open_before + 1, timeout=3000)

    row.click()
    message = page.locator(".msg.dir-inbound", has_text=text)
    message.wait_for(timeout=3000)
    assert message.locator("[data-role=visibility]").inner_text() == "Public"
    assert message.get_attribute("data-channel") == "x"
    assert page.locator("#composer-account option:checked").inner_text().startswith("X")
    assert page.locator("#composer input[name=visibility][value=public]").is_checked()

    reply = f"Sorry Jane, we are on it ({secrets.token_hex(2)})."
    page.keyboard.press("r")
    page.keyboard.type(reply)
    page.keyboard.press("Control+Enter")
    sent = page.locator(".msg.dir-outbound", has_text=reply)
    sent.wait_for(timeout=3000)
    page.wait_for_function(
        "t => [...document.querySelectorAll('.msg.dir-outbound')].some("
        "m => m.textContent.includes(t) && m.dataset.delivery === 'sent')", arg=reply,
        timeout=15000)
    assert sent.locator("[data-role=delivery]").inner_text().lower() == "sent"
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "x"}).json()["calls"]
    assert any(reply in str(c) and tweet_id in str(c) for c in calls), "public reply not posted"

    dm_text = f"Here is my order number, privately {secrets.token_hex(3)}"
    deliver(live_server.url, sandbox_x.dm_webhook(account_id, config,
                                                  str(uuid.uuid4().int)[:19], user_id,
                                                  "jane_doe", dm_text, name="Jane Doe"))
    dm = page.locator(".msg.dir-inbound", has_text=dm_text)
    dm.wait_for(timeout=3000)  # lands live in the open conversation: the same conversation
    assert dm.locator("[data-role=visibility]").inner_text() == "Private"
    assert page.locator(".msg.dir-inbound", has_text=text).count() == 1
    assert page.locator(".inbox-row", has_text=dm_text).count() == 1
    assert page.evaluate("window.__sameDocument") is True

    page.click("#customer-link")
    page.wait_for_selector("#identities")
    identity = page.locator("#identities .identity-row[data-kind=x]")
    assert identity.count() == 1
    assert user_id in identity.inner_text() and "jane_doe" in identity.inner_text()
    surfaces = identity.locator("[data-surface]").all_inner_texts()
    assert surfaces == ["Private", "Public"]
    history = page.locator("#customer-conversations .history-row")
    assert history.count() == 1
    page.context.close()
