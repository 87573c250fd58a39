"""Chromium (Playwright): a customer writes through a real webhook, the agent's conversation
is resolved and sampled; the supervisor opens the review queue, answers the scorecard beside
the timeline and writes a comment; the agent opens his reviews and reads the score and the
comment (its markup shown as text, never run)."""

from __future__ import annotations

import time
import uuid

import httpx
from sqlalchemy import select

from tests.desktop.browser import browser_login, chromium  # noqa: F401
from tests.desktop.conftest import make_agent
from tests.factories import api_account, body, message_event, signed_headers
from tests.quality.helpers import reviews_of
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor, assign, set_status
from threadline.quality.sampling import sample_workspace
from threadline.quality.schemas import SamplingSettings
from threadline.quality.scorecards import set_sampling_settings

SYSTEM = Actor("system")


def _customer_writes(runtime, live_url, account, text):
    pid = f"q-{uuid.uuid4().hex[:8]}"
    raw = body([message_event(pid, author=f"c-{pid}", text=text, visibility="private")])
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


def test_supervisor_reviews_and_the_agent_reads_the_comment(
        runtime, workspace_id, live_server, chromium):  # noqa: F811
    ada = make_agent(runtime, workspace_id, "agent", "Ada Agent")
    sam = make_agent(runtime, workspace_id, "supervisor", "Sam Supervisor")
    account = api_account(runtime, workspace_id)
    conv_id = _customer_writes(runtime, live_server.url, account,
                               "My parcel arrived broken, what now?")
    with runtime.db.session() as session:
        conv = session.get(Conversation, conv_id)
        assert conv is not None
        assign(session, conv, ada.id, SYSTEM)
        set_status(session, conv, "resolved", SYSTEM)
        set_sampling_settings(session, workspace_id, SamplingSettings(random_percent=100),
                              SYSTEM)
    with runtime.db.session() as session:
        assert sample_workspace(session, workspace_id)["random"] == 1
    [review] = reviews_of(runtime, workspace_id)

    supervisor = browser_login(chromium, live_server.url, sam.email, sam.password)
    supervisor.goto("/quality")
    row = supervisor.wait_for_selector(f"#qa-{review.id}")
    assert "Ada Agent" in row.inner_text() and "random" in row.inner_text()
    supervisor.click(f"#qa-{review.id} [data-role=review]")
    supervisor.wait_for_selector("#qa-form")
    assert "My parcel arrived broken, what now?" in supervisor.inner_text("#qa-timeline")
    supervisor.check("input[name='answer.tone'][value='4']")
    supervisor.check("input[name='answer.accuracy'][value='5']")
    supervisor.check("input[name='answer.policy'][value='no']")
    supervisor.check("input[name='answer.public_private'][value='yes']")
    comment = "Offer the replacement first. <b>Not bold</b> <script>window.pwned=1</script>"
    supervisor.fill("textarea[name=comment]", comment)
    supervisor.click("#qa-submit")
    supervisor.wait_for_url("**/quality?notice=review-saved")
    assert supervisor.locator("#qa-done").inner_text().count("65.0") == 1

    page = browser_login(chromium, live_server.url, ada.email, ada.password)
    page.click("#quality-link")
    page.wait_for_url("**/quality/mine")
    mine = page.wait_for_selector(f"#qa-{review.id}")
    assert "65.0" in mine.inner_text() and "Offer the replacement first." in mine.inner_text()
    page.click(f"#qa-{review.id} [data-role=open]")
    page.wait_for_selector("#qa-comment")
    assert page.inner_text("#qa-comment") == comment  # the markup is text
    assert page.locator("#qa-comment b, #qa-comment script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert page.inner_text("#qa-score").startswith("65.0")
    assert page.locator("#qa-form").count() == 0
    supervisor.context.close()
    page.context.close()
