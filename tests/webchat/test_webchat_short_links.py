"""A chat opened from a short link joins that conversation and shows the public question.
The link the web chat takes is the private `chat_session` link the hop form hands its taker; a
public chat code (posted in a public reply) opens its form page `/s/{code}` only, and a used or
expired link opens nothing (decision 0103)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests.factories import api_account, message_event, post_events
from tests.webchat.conftest import Chat, wait_for
from threadline.hops.records.links import create_short_link


def public_complaint(chat: Chat, runtime: Any, workspace_id: uuid.UUID,
                     text: str) -> dict[str, Any]:
    acc = api_account(runtime, workspace_id, identity_kind="x")
    event = message_event(f"tweet-{uuid.uuid4().hex[:8]}", author="cust-9", text=text,
                          visibility="public")
    assert post_events(chat.root, acc, [event]).status_code == 200
    return chat.conversation_with(text)


def chat_link(runtime: Any, workspace_id: uuid.UUID, conv: dict[str, Any], *,
              purpose: str = "chat_session", ttl: timedelta = timedelta(days=7)) -> str:
    with runtime.db.session() as session:
        _, code = create_short_link(session, workspace_id, purpose=purpose,
                                    conversation_id=uuid.UUID(conv["id"]),
                                    customer_id=uuid.UUID(conv["customer_id"]), ttl=ttl)
    return code


class TestShortLinkChat:
    def test_chat_joins_the_linked_conversation_and_shows_the_public_question(
            self, chat: Chat, runtime, workspace_id):
        question = "@acme my flight was cancelled, what now?"
        conv = public_complaint(chat, runtime, workspace_id, question)
        code = chat_link(runtime, workspace_id, conv)
        token = chat.start({"name": "Cus", "email": "cus@example.com", "link_token": code,
                            "question": "Booking ref is in here, privately."})
        chat.say(token, "And a second message.")
        joined = wait_for(lambda: (lambda d: d if len(d["messages"]) == 3 else None)(
            chat.api.get(f"/conversations/{conv['id']}").json()), what="3 messages")
        assert [(m["channel"], m["visibility"], m["text"]) for m in joined["messages"]] == [
            ("api", "public", question),
            ("webchat", "private", "Booking ref is in here, privately."),
            ("webchat", "private", "And a second message.")]
        items = chat.history(token).json()["items"]
        assert items[0]["type"] == "context" and items[0]["text"] == question
        assert items[0]["visibility"] == "public" and items[0]["channel"] == "api"
        assert [i["text"] for i in items[1:]] == ["Booking ref is in here, privately.",
                                                  "And a second message."]
        with chat.stream(token) as stream:
            chat.reply(joined["id"], "Thanks, we rebooked you.")
            stream.wait_message(lambda m: m["text"] == "Thanks, we rebooked you.")

    def test_link_given_with_a_message_joins_the_conversation(self, chat: Chat, runtime,
                                                              workspace_id):
        conv = public_complaint(chat, runtime, workspace_id, "public: my card was charged twice")
        code = chat_link(runtime, workspace_id, conv)
        token = chat.start({})
        assert chat.say(token, "about the double charge", link_token=code).status_code == 202
        joined = chat.conversation_with("about the double charge")
        assert joined["id"] == conv["id"]

    def test_a_public_chat_code_opens_no_chat_session(self, chat: Chat, runtime, workspace_id):
        conv = public_complaint(chat, runtime, workspace_id, "public: my seat was given away")
        code = chat_link(runtime, workspace_id, conv, purpose="chat")
        answer = chat.session({"link_token": code, "question": "continuing privately"})
        assert (answer.status_code, answer.json()["error"]["code"]) == (422,
                                                                        "link_wrong_purpose")

    def test_expired_unknown_and_wrong_purpose_links_store_nothing(self, chat: Chat, runtime,
                                                                   workspace_id):
        conv = public_complaint(chat, runtime, workspace_id, "public: where is my order")
        before = chat.stored_events()
        expired = chat_link(runtime, workspace_id, conv, ttl=timedelta(seconds=-1))
        callback = chat_link(runtime, workspace_id, conv, purpose="callback")
        cases = [(expired, 410, "link_expired"), ("no-such-code-" + "x" * 20, 404,
                                                  "link_not_found"),
                 (callback, 422, "link_wrong_purpose")]
        token = chat.start({})
        for code, status, error in cases:
            answer = chat.session({"question": "hello", "link_token": code})
            assert (answer.status_code, answer.json()["error"]["code"]) == (status, error)
            said = chat.say(token, "hello", link_token=code)
            assert (said.status_code, said.json()["error"]["code"]) == (status, error)
        assert chat.stored_events() == before
