"""Moderation in real headless Chromium against a live Threadline and the provider sandbox
(issue 15): an agent hides a customer's Facebook comment and sees it hidden live, then shows
it again; an agent deletes the brand's own reply through the confirm step, and another
agent's open desktop shows it deleted without a reload."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import make_token
from tests.desktop.browser import browser_login, chromium  # noqa: F401
from tests.desktop.conftest import make_agent
from tests.moderation.helpers import comment_hook, meta_account, new_comment_id, sandbox_deleted
from threadline.conversations.models import Message

pytestmark = pytest.mark.slow


def _wait_message(runtime: Any, provider_id: str, seconds: float = 15.0) -> Message:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with runtime.db.session(write=False) as s:
            found = s.scalar(select(Message).where(Message.provider_id == provider_id))
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"message {provider_id} never arrived")


def _customer_comment(runtime: Any, live_url: str, account: Any,
                      config: dict[str, Any]) -> tuple[Message, str]:
    comment_id = new_comment_id()
    hook = comment_hook(account, config, comment_id,
                        text=f"this shop is a scam {secrets.token_hex(3)}")
    answer = httpx.post(live_url + hook.path, content=hook.body, headers=hook.headers)
    assert answer.status_code == 200, answer.text
    return _wait_message(runtime, comment_id), comment_id


def _open(page: Any, conversation_id: uuid.UUID) -> None:
    page.goto(f"/conversations/{conversation_id}")
    page.wait_for_selector("body[data-live='1']", state="attached", timeout=15000)
    page.evaluate("window.__sameDocument = true")


def _graph_hides(sandbox_url: str, comment_id: str) -> list[str]:
    calls = httpx.get(f"{sandbox_url}/_sandbox/calls", params={"provider": "meta"}).json()
    return [str((c.get("json") or c.get("form") or {}).get("is_hidden")).lower()
            for c in calls["calls"] if c["method"] == "POST" and c["path"].endswith(comment_id)]


def test_hide_and_unhide_a_facebook_comment(runtime, workspace_id, live_server, sandbox,
                                            chromium):  # noqa: F811
    account, config = meta_account(runtime, workspace_id, sandbox.url)
    customer, comment_id = _customer_comment(runtime, live_server.url, account, config)
    agent = make_agent(runtime, workspace_id, "agent", "Ada Agent")
    page = browser_login(chromium, live_server.url, agent.email, agent.password)
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    _open(page, customer.conversation_id)
    item = page.locator(f"#msg-{customer.id}")
    assert item.locator("[data-role=hidden]").count() == 0

    item.locator("[data-role=hide]").click()
    item.locator("[data-role=hidden]").wait_for(timeout=15000)  # live, when the worker did it
    assert "Hidden from the public" in item.locator("[data-role=hidden]").inner_text()
    assert _graph_hides(sandbox.url, comment_id) == ["true"]
    assert len(dialogs) == 1 and dialogs[0].startswith("Hide this comment on Facebook?")

    page.locator(f"#msg-{customer.id} [data-role=unhide]").click()
    page.locator(f"#msg-{customer.id} [data-role=hide]").wait_for(timeout=15000)
    assert page.locator(f"#msg-{customer.id} [data-role=hidden]").count() == 0
    assert _graph_hides(sandbox.url, comment_id) == ["true", "false"]
    assert len(dialogs) == 1  # showing it again asks nothing (and never the split question)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    page.context.close()


def test_deleting_the_brands_reply_refreshes_the_open_desktop(runtime, workspace_id,
                                                              live_server, sandbox,
                                                              chromium):  # noqa: F811
    account, config = meta_account(runtime, workspace_id, sandbox.url)
    customer, _ = _customer_comment(runtime, live_server.url, account, config)
    token = make_token(runtime, workspace_id)
    text = f"Sorry, wrong answer {secrets.token_hex(3)}"
    sent = httpx.post(f"{live_server.url}/api/v1/conversations/{customer.conversation_id}"
                      "/messages", json={"text": text, "visibility": "public"},
                      headers={"authorization": f"Bearer {token}"})
    assert sent.status_code == 201, sent.text
    reply_id = uuid.UUID(sent.json()["id"])
    deadline = time.monotonic() + 15
    provider_id = None
    while time.monotonic() < deadline and not provider_id:
        with runtime.db.session(write=False) as s:
            provider_id = s.scalar(select(Message.provider_id).where(Message.id == reply_id))
        time.sleep(0.1)
    assert provider_id, "the reply was never sent"

    ada = make_agent(runtime, workspace_id, "agent", "Ada Agent")
    bob = make_agent(runtime, workspace_id, "agent", "Bob Agent")
    page = browser_login(chromium, live_server.url, ada.email, ada.password)
    watcher = browser_login(chromium, live_server.url, bob.email, bob.password)
    _open(page, customer.conversation_id)
    _open(watcher, customer.conversation_id)
    watched = watcher.locator(f"#msg-{reply_id}")
    assert text in watched.inner_text()
    # An agent may delete the brand's reply, not the customer's comment.
    assert page.locator(f"#msg-{customer.id} [data-role=delete]").count() == 0

    page.locator(f"#msg-{reply_id} [data-role=delete]").click()
    box = page.locator(f"#msg-{reply_id} [data-role=delete-box]")
    box.wait_for(timeout=5000)  # the confirm step: nothing is deleted yet
    assert "cannot be undone" in box.inner_text()
    assert sandbox_deleted(sandbox.url, "meta").count(provider_id) == 0
    box.locator("[data-role=delete-reason]").select_option("mistake")
    box.locator("[data-role=delete-confirm]").click()

    watched.locator("[data-role=deleted]").wait_for(timeout=15000)
    assert "Deleted on Facebook by the brand" in watched.inner_text()
    assert "Sent by mistake or wrong" in watched.inner_text()
    assert watcher.evaluate("window.__sameDocument") is True  # refreshed live, no reload
    page.locator(f"#msg-{reply_id} [data-role=deleted]").wait_for(timeout=15000)
    assert page.locator(f"#msg-{reply_id} [data-role=delete]").count() == 0
    assert sandbox_deleted(sandbox.url, "meta").count(provider_id) == 1
    page.context.close()
    watcher.context.close()
