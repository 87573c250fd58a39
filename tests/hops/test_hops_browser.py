"""Acceptance 5: the chat-link flow from both sides in real headless Chromium (Debian's, through
Playwright): the agent sees a public X complaint in the desktop and sends a chat link from the
conversation's hop card; the customer opens the link, fills the entry form and chats in the web
chat page, which opens on his public question; the agent sees his messages live in the same
conversation, as private, marked unverified (not proven to be @jane), answers from the desktop
composer (the customer sees the answer live), confirms it is the same person, resolves, and
sends the drafted public follow-up from the desktop."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.hops.conftest import Hops, wait_for

pytestmark = pytest.mark.slow


def test_chat_link_from_both_sides(hop: Hops, chromium: Any) -> None:
    _, conv, _ = hop.x_complaint(f"@acme my flight {hop.tag} was cancelled, help")
    chat_account = hop.account("webchat", {"title": "Acme chat"}, name="Acme chat")
    agent = make_agent(hop.runtime, hop.workspace_id, "agent", "Ada Agent")
    desk = browser_login(chromium, hop.server.url, agent.email, agent.password)
    desk.locator(".inbox-row", has_text=hop.tag).click()
    desk.locator(".msg.dir-inbound", has_text="was cancelled").wait_for(timeout=15000)

    desk.select_option("#hop-actions select[name=method]", "chat_link")
    desk.select_option("#hop-actions select[name=reason]", "privacy")
    desk.click("#hop-actions button[type=submit]")
    link = desk.locator(".msg.dir-outbound", has_text="/s/")
    link.wait_for(timeout=15000)
    found = re.search(r"https?://\S+/s/[A-Za-z0-9_-]+", link.inner_text())
    assert found, link.inner_text()
    url = found.group(0)

    customer = chromium.new_context(viewport={"width": 420, "height": 800})
    page = customer.new_page()
    page.goto(url)
    assert "was cancelled" in page.locator("#hop-context").inner_text()
    page.fill("input[name=name]", "Jane")
    question = f"Booked for Friday {secrets.token_hex(3)}"
    page.fill("textarea[name=question]", question)
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    # The hand-off page shows his proof code (decision 0103), then he continues to the chat.
    assert page.locator("#proof-code").inner_text().startswith("TL-")
    page.click("#hop-continue[href]")  # its address is set once the session is stored
    page.wait_for_url(f"**/webchat/{chat_account}", timeout=15000)
    page.locator(".tl-message.tl-context", has_text="was cancelled").wait_for(timeout=15000)
    page.locator(".tl-message.tl-visitor", has_text=question).wait_for(timeout=15000)

    said = f"Can you rebook me {secrets.token_hex(3)}"
    page.fill(".tl-compose textarea", said)
    page.keyboard.press("Enter")

    # The agent sees both live in the open conversation, as private web chat messages.
    for text in (question, said):
        message = desk.locator(".msg.dir-inbound", has_text=text)
        message.wait_for(timeout=15000)
        assert message.get_attribute("data-channel") == "webchat"
        assert message.locator("[data-role=visibility]").inner_text() == "Private"
    assert len(hop.conversations()) == 1

    # He is not proven to be @jane: his messages, the customer card and the composer say so.
    desk.reload()
    for text in (question, said):
        mark = desk.locator(".msg.dir-inbound", has_text=text).locator("[data-role=unverified]")
        assert mark.inner_text() == "⚠ unverified — not proven to be @jane"
        assert mark.is_visible()
    assert desk.locator("[data-role=taker]").is_visible()
    assert "not proven to be @jane" in desk.locator("#composer-taker-warning").inner_text()

    answer = f"Rebooked you on Saturday {secrets.token_hex(3)}"
    desk.select_option("#composer-account", chat_account)
    desk.check("#composer input[name=visibility][value=private]")
    desk.fill("#composer-text", answer)
    desk.keyboard.press("Control+Enter")
    page.locator(".tl-message.tl-agent", has_text=answer).wait_for(timeout=15000)

    # The agent confirms it is the same person (after the confirmation dialog): no marks.
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("[data-role=taker] button[data-role=confirm-taker]")
    desk.locator("[data-role=taker]").wait_for(state="detached", timeout=15000)
    assert desk.locator("[data-role=unverified]").count() == 0

    desk.click("form:has(input[name=status][value=resolved]) button")
    draft = desk.locator("#follow-up-text")
    draft.wait_for(timeout=15000)
    assert draft.input_value() and "/s/" not in draft.input_value()
    desk.click("#hop-actions form:has(#follow-up-text) button[type=submit]")
    wait_for(lambda: hop.hops(conv["id"])[0]["returned_at"] is not None, what="returned")
    [record] = hop.hops(conv["id"])
    assert record["offered_at"] and record["taken_at"] and record["returned_at"]
    customer.close()
    desk.context.close()
