"""The handover end to end over real HTTP (Threadline in uvicorn with its worker): the
visitor's question is answered by the bot in his chat; he asks for a person; the conversation
appears in the live inbox (the desktop's inbox page and the API) with the bot's exchange in
its timeline; an agent answers, and the visitor reads it — he never repeated his question."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import make_token
from tests.desktop.conftest import make_agent, sign_in
from tests.selfservice.conftest import enable_bot, make_kb
from tests.webchat.conftest import Chat, wait_for
from threadline.jobs.runtime import Runtime


@pytest.fixture
def chat(runtime: Runtime, live_server: Any, workspace_id: uuid.UUID,
         token: str) -> Iterator[Chat]:
    make_kb(runtime, workspace_id)
    enable_bot(runtime, workspace_id)
    c = Chat(runtime, live_server, workspace_id, token, {"allowed_origins": ["*"]})
    yield c
    c.close()


def bot_item(chat: Chat, visitor: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        items = chat.history(visitor).json()["items"]
        return next((i for i in items if i.get("bot")), None)

    return wait_for(probe, what="the bot's answer in the visitor's chat")


class TestHandoverOverHttp:
    def test_bot_answers_customer_asks_for_a_person_agent_answers(
            self, chat: Chat, live_server: Any, runtime: Runtime,
            workspace_id: uuid.UUID) -> None:
        question = f"Where is my order {chat.workspace_id.hex[:6]}?"
        visitor = chat.start({"name": "Dana", "question": question})
        answer = bot_item(chat, visitor)
        assert answer["sender"] == "agent" and answer["text"].startswith("Tracking your order")
        assert answer["bot"]["title"] == "Tracking your order"
        assert answer["bot"]["choices"] == ["Yes, thanks", "Talk to a person"]
        conv = chat.conversation_with(question)
        assert conv["status"] == "snoozed" and conv["assignee_id"] is None

        assert chat.say(visitor, "Talk to a person").status_code == 202

        def handed_over() -> dict[str, Any] | None:
            detail = chat.api.get(f"/conversations/{conv['id']}").json()
            return detail if detail["status"] == "open" else None

        detail = wait_for(handed_over, what="the conversation in the live queue")
        # the bot's exchange in the timeline: the question, the bot's answer, the request
        timeline = [(m["direction"], m["text"]) for m in detail["messages"]]
        assert timeline[0] == ("inbound", question)
        assert timeline[1][0] == "outbound" and timeline[1][1].startswith("Tracking your order")
        assert timeline[2] == ("inbound", "Talk to a person")
        # ... in the live inbox: the API's open view and the desktop's inbox page
        listed = chat.api.get("/conversations", params={"view": "open"}).json()["items"]
        assert conv["id"] in [c["id"] for c in listed]
        with httpx.Client(base_url=live_server.url, timeout=30) as desk:
            signed = sign_in(desk, make_agent(runtime, workspace_id, "agent"))  # type: ignore[arg-type]
            assert signed.status_code == 303
            page = desk.get("/inbox/list", params={"view": "open"})
            assert page.status_code == 200 and conv["id"] in page.text
            thread = desk.get(f"/conversations/{conv['id']}/timeline")
            assert thread.status_code == 200
            assert question in thread.text and "Tracking your order" in thread.text

        # an agent answers; the visitor reads it; his question was asked once
        assert chat.reply(conv["id"], "Hello Dana, it arrives tomorrow.").status_code == 201

        def agent_reply() -> bool:
            items = chat.history(visitor).json()["items"]
            return any(i["text"] == "Hello Dana, it arrives tomorrow." for i in items)

        wait_for(agent_reply, what="the agent's answer in the chat")
        items = chat.history(visitor).json()["items"]
        assert [i["text"] for i in items if i["sender"] == "visitor"] == [
            question, "Talk to a person"]
        final = chat.api.get(f"/conversations/{conv['id']}").json()
        assert sum(1 for m in final["messages"] if m["text"] == question) == 1

    def test_another_workspaces_token_cannot_read_the_bots_settings_or_figures(
            self, chat: Chat, runtime: Runtime) -> None:
        from threadline.workspace.service import create_workspace

        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:6]}").id
        foreign = make_token(runtime, other)
        with httpx.Client(base_url=chat.server.url + "/api/v1", timeout=10,
                          headers={"Authorization": f"Bearer {foreign}"}) as api:
            mine = api.get("/selfservice/settings").json()
            assert mine["enabled"] is False  # its own (default) settings, never ours
            answer = api.put("/selfservice/settings", json={
                "enabled": True, "accounts": {chat.id: True}})
            assert answer.status_code == 404  # our account is not theirs
            assert answer.json()["error"]["code"] == "channel_account_not_found"
        assert chat.api.get("/selfservice/settings").json()["enabled"] is True
