"""CSAT in the web chat: the survey is a message of the visitor's chat carrying a 1-5
rating; his rating (over HTTP with his visitor token, and in the real widget in Chromium) is
recorded, the conversation stays resolved; another visitor, another workspace, a bad score, an
oversized comment and a second answer are refused with typed errors and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import make_token
from tests.factories import text_tag
from tests.webchat.conftest import Chat, wait_for
from threadline.jobs.runtime import Runtime
from threadline.workspace import service as workspace_service

TIMEOUT_MS = 15_000


@pytest.fixture
def chat(runtime: Runtime, live_server: Any, workspace_id: uuid.UUID,
         token: str) -> Iterator[Chat]:
    c = Chat(runtime, live_server, workspace_id, token, {"allowed_origins": ["*"]})
    answer = c.api.put("/csat/settings", json={"enabled": True, "delay_minutes": 0})
    assert answer.status_code == 200, answer.text
    yield c
    c.close()


def surveyed(chat: Chat, visitor: str, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The visitor's question answered, the conversation resolved: (conversation, the survey
    item of his history once sent)."""
    conv = chat.conversation_with(text)
    assert chat.reply(conv["id"], "Here is your answer.").status_code == 201
    assert chat.api.patch(f"/conversations/{conv['id']}",
                          json={"status": "resolved"}).status_code == 200

    def probe() -> dict[str, Any] | None:
        items = chat.history(visitor).json()["items"]
        return next((i for i in items if i.get("survey")), None)

    return conv, wait_for(probe, what="the survey in the visitor's chat")


def rate(chat: Chat, visitor: str, survey_id: str, body: Any) -> httpx.Response:
    return chat.http.post(f"{chat.base}/surveys/{survey_id}", json=body,
                          headers={"x-visitor-token": visitor})


def surveys(chat: Chat, conversation_id: str) -> list[dict[str, Any]]:
    answer = chat.api.get("/csat/surveys", params={"conversation_id": conversation_id})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


class TestInlineRating:
    def test_the_visitor_rates_in_his_chat(self, chat: Chat) -> None:
        text = f"Where is my parcel {text_tag(6)}"
        visitor = chat.start({"name": "Dana", "question": text})
        conv, item = surveyed(chat, visitor, text)
        assert item["sender"] == "agent" and item["survey"]["scale"] == [1, 2, 3, 4, 5]
        assert item["survey"]["answered"] is False
        [survey] = surveys(chat, conv["id"])
        assert (survey["channel"], survey["method"], survey["status"]) == (
            "webchat", "inline", "sent")
        answer = rate(chat, visitor, item["survey"]["id"],
                      {"score": 4, "comment": "Quick and kind"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"survey_id": item["survey"]["id"], "score": 4,
                                 "recorded": True}
        [survey] = surveys(chat, conv["id"])
        assert (survey["status"], survey["score"], survey["comment"]) == (
            "answered", 4, "Quick and kind")
        after = chat.api.get(f"/conversations/{conv['id']}").json()
        assert after["status"] == "resolved" and after["reopen_count"] == 0
        assert len(chat.api.get("/conversations").json()["items"]) == 1
        again = [i for i in chat.history(visitor).json()["items"] if i.get("survey")]
        assert again[0]["survey"] == {"id": item["survey"]["id"], "scale": [1, 2, 3, 4, 5],
                                      "answered": True, "score": 4}

    def test_a_typed_rating_in_the_chat_counts(self, chat: Chat) -> None:
        text = f"Broken lid {text_tag(6)}"
        visitor = chat.start({"question": text})
        conv, _ = surveyed(chat, visitor, text)
        assert chat.say(visitor, "5 great service").status_code == 202

        def answered() -> dict[str, Any] | None:
            found = surveys(chat, conv["id"])
            return found[0] if found[0]["status"] == "answered" else None

        survey = wait_for(answered, what="the typed rating")
        assert (survey["score"], survey["comment"]) == (5, "great service")
        after = chat.api.get(f"/conversations/{conv['id']}").json()
        assert after["status"] == "resolved"
        assert not [m for m in after["messages"] if m["text"] == "5 great service"]
        # after the answer, the same words are an ordinary message again (it reopens)
        assert chat.say(visitor, "5 more questions please").status_code == 202
        wait_for(lambda: chat.api.get(f"/conversations/{conv['id']}").json()["status"]
                 == "open", what="an ordinary message reopening it")


class TestRefusals:
    def test_bad_scores_oversized_comments_strangers_and_replays(self, chat: Chat,
                                                               runtime: Runtime) -> None:
        text = f"Refund {text_tag(6)}"
        visitor = chat.start({"question": text})
        conv, item = surveyed(chat, visitor, text)
        survey_id = item["survey"]["id"]
        for score in (0, 6, "abc", "4", 4.5, None, True):
            answer = rate(chat, visitor, survey_id, {"score": score})
            assert answer.status_code == 422, (score, answer.text)
            assert answer.json()["error"]["code"] == "validation_failed"
        long = rate(chat, visitor, survey_id, {"score": 3, "comment": "x" * 1001})
        assert long.status_code == 422
        extra = rate(chat, visitor, survey_id, {"score": 3, "sneaky": True})
        assert extra.status_code == 422
        stranger = chat.start({"question": f"other {text_tag(6)}"})
        assert rate(chat, stranger, survey_id, {"score": 1}).status_code == 404
        assert rate(chat, visitor, str(uuid.uuid4()), {"score": 1}).status_code == 404
        assert rate(chat, "forged-token", survey_id, {"score": 1}).status_code == 401
        # the same survey id through another workspace's chat account: not found there
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(session, "Other",
                                                       f"o-{uuid.uuid4().hex[:10]}")
            other_id = other.id
        other_chat = Chat(runtime, chat.server, other_id, make_token(runtime, other_id),
                          {"allowed_origins": ["*"]})
        try:
            intruder = other_chat.start({"question": "hi"})
            answer = other_chat.http.post(f"{other_chat.base}/surveys/{survey_id}",
                                          json={"score": 1},
                                          headers={"x-visitor-token": intruder})
            assert answer.status_code == 404
        finally:
            other_chat.close()
        [survey] = surveys(chat, conv["id"])
        assert survey["status"] == "sent" and survey["score"] is None
        assert rate(chat, visitor, survey_id, {"score": 2}).status_code == 200
        replay = rate(chat, visitor, survey_id, {"score": 5})
        assert replay.status_code == 409
        assert replay.json()["error"]["code"] == "survey_answered"
        [survey] = surveys(chat, conv["id"])
        assert (survey["score"], survey["comment"]) == (2, None)


@pytest.mark.slow
class TestWidgetInChromium:
    def test_the_widget_shows_the_rating_and_sends_it(self, chromium: Any, chat: Chat) -> None:
        context = chromium.new_context()
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                    and "status of 404" not in m.text else None)
            page.goto(chat.base)
            text = f"Lost parcel {text_tag(6)}"
            page.get_by_label("Name").fill("Dana")
            page.get_by_label("Your question").fill(text)
            page.get_by_role("button", name="Start chat").click()
            conv = chat.conversation_with(text)
            assert chat.reply(conv["id"], "Found it, it ships today.").status_code == 201
            assert chat.api.patch(f"/conversations/{conv['id']}",
                                  json={"status": "resolved"}).status_code == 200
            page.get_by_role("button", name="4 out of 5").click(timeout=TIMEOUT_MS)
            page.get_by_label("Comment").fill("Fast, thanks")
            page.get_by_role("button", name="Send rating").click()
            page.get_by_text("Thank you! You rated us 4 out of 5.").wait_for(timeout=TIMEOUT_MS)
            [survey] = surveys(chat, conv["id"])
            assert (survey["status"], survey["score"], survey["comment"]) == (
                "answered", 4, "Fast, thanks")
            page.reload()  # the answered state comes back with the history
            page.get_by_text("Thank you! You rated us 4 out of 5.").wait_for(timeout=TIMEOUT_MS)
            assert errors == []
        finally:
            context.close()
