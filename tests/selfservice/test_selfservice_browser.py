"""The bot in the real widget (headless Chromium): the visitor's question gets the bot's
answer with its article's link and "Yes, thanks" / "Talk to a person"; "Talk to a person"
stays visible above the message box and hands over; script in messages is shown as text.
Saves docs/screenshots/self-service-bot.png."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.selfservice.conftest import bot_session, enable_bot, make_kb
from tests.webchat.conftest import Chat, wait_for
from threadline.jobs.runtime import Runtime
from threadline.selfservice.models import BotState, Reason

TIMEOUT_MS = 20_000
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / \
    "self-service-bot.png"

pytestmark = pytest.mark.slow


@pytest.fixture
def chat(runtime: Runtime, live_server: Any, workspace_id: uuid.UUID, token: str,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Chat]:
    # article links need the public address: the live server's own
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(
        update={"public_url": live_server.url}))
    make_kb(runtime, workspace_id)
    enable_bot(runtime, workspace_id)
    c = Chat(runtime, live_server, workspace_id, token, {"title": "Acme support"})
    yield c
    c.close()


class TestBotInTheWidget:
    def test_answer_with_article_and_talk_to_a_person(self, chromium: Any, chat: Chat,
                                                      runtime: Runtime) -> None:
        context = chromium.new_context(viewport={"width": 520, "height": 760})
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{chat.server.url}/webchat/{chat.id}")
            page.get_by_label("Name").fill("Dana")
            page.get_by_label("Your question").fill("Where is my order?")
            page.get_by_role("button", name="Start chat").click()
            answer = page.locator(".tl-automated")
            answer.wait_for(timeout=TIMEOUT_MS)
            assert answer.locator(".tl-meta").inner_text().endswith("automated answer")
            assert answer.locator(".tl-body").inner_text().startswith("Tracking your order")
            link = answer.locator("a.tl-article")
            assert link.inner_text() == "Read the article: Tracking your order"
            href = link.get_attribute("href") or ""
            assert href.startswith(chat.server.url + "/help/") and link.get_attribute(
                "rel") == "noopener noreferrer"
            assert [b.inner_text() for b in answer.locator(".tl-choice").all()] == [
                "Yes, thanks", "Talk to a person"]
            person = page.locator("button.tl-person")
            assert person.is_visible() and person.inner_text() == "Talk to a person"
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=False)

            # script typed by the visitor is text, never run
            page.get_by_label("Message").fill('<img src=x onerror="window.__xss=1">')
            page.get_by_role("button", name="Send").click()
            page.get_by_text('<img src=x onerror="window.__xss=1">',
                             exact=True).wait_for(timeout=TIMEOUT_MS)
            assert page.evaluate("window.__xss") is None

            conv = chat.conversation_with("Where is my order?")
            person.click()  # still one tap away after another message
            page.get_by_text("Talk to a person", exact=True).first.wait_for(timeout=TIMEOUT_MS)

            def handed() -> Any:
                row = bot_session(runtime, conv["id"])
                return row if row is not None and row.state == BotState.HANDED_OVER else None

            row = wait_for(handed, what="the handover")
            # the script message came first: a second question, handed over at once
            assert row.reason in (Reason.SECOND_QUESTION, Reason.ASKED)
            assert errors == []
        finally:
            context.close()
