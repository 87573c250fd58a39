"""Visitor messages in, agent replies out: real HTTP, the embedded worker, the visitor stream."""

from __future__ import annotations

from tests.factories import api_account, message_event, post_events
from tests.webchat.conftest import Chat, wait_for


class TestVisitorMessages:
    def test_a_visitor_message_becomes_a_private_message_in_a_conversation(self, chat: Chat):
        token = chat.start({"name": "Bo"})
        answer = chat.say(token, "Is my parcel lost?", echo_id="echo-1")
        assert answer.status_code == 202
        assert answer.json() == {"echo_id": "echo-1", "accepted": True, "duplicate": False}
        conv = chat.conversation_with("Is my parcel lost?")
        assert conv["origin_channel"] == "webchat" and conv["origin_visibility"] == "private"
        [message] = conv["messages"]
        assert message["visibility"] == "private" and message["direction"] == "inbound"
        assert message["meta"]["echo_id"] == "echo-1"
        # The same echo id again (a retry) is one message.
        again = chat.say(token, "Is my parcel lost?", echo_id="echo-1")
        assert again.status_code == 202 and again.json()["duplicate"] is True
        chat.say(token, "Hello?")
        conv = chat.conversation_with("Hello?")
        assert [m["text"] for m in conv["messages"]] == ["Is my parcel lost?", "Hello?"]

    def test_the_generic_webhook_path_refuses_web_chat_bodies(self, chat: Chat):
        raw = b'{"type":"message","visitor":{"id":"v_intruder"},' \
              b'"message":{"echo_id":"x1","text":"hi","sent_at":"2026-11-01T12:00:00Z"}}'
        answer = chat.http.post(f"{chat.server.url}/webhooks/webchat/{chat.id}", content=raw,
                                headers={"content-type": "application/json"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "not_a_webhook"
        assert chat.stored_events() == 0


class TestAgentReplies:
    def test_reply_reaches_the_stream_and_history_as_sent(self, chat: Chat):
        token = chat.start({"question": "Can I change my delivery slot?"})
        conv = chat.conversation_with("Can I change my delivery slot?")
        with chat.stream(token) as stream:
            answer = chat.reply(conv["id"], "Yes: pick a new slot in your account.")
            assert answer.status_code == 201, answer.text
            live = stream.wait_message(lambda m: m["sender"] == "agent")
        assert live["text"] == "Yes: pick a new slot in your account."
        assert live["delivery"] == "sent" and live["id"] == answer.json()["id"]
        items = chat.history(token).json()["items"]
        assert [(i["sender"], i["text"], i["delivery"]) for i in items] == [
            ("visitor", "Can I change my delivery slot?", "received"),
            ("agent", "Yes: pick a new slot in your account.", "sent")]
        sent = chat.api.get(f"/conversations/{conv['id']}").json()["messages"][-1]
        assert sent["delivery"] == "sent" and sent["provider_id"] == sent["id"]

    def test_visitor_messages_also_reach_the_stream(self, chat: Chat):
        token = chat.start({})
        with chat.stream(token) as stream:
            chat.say(token, "typed in another tab", echo_id="tab-2")
            live = stream.wait_message(lambda m: m["sender"] == "visitor")
        assert live["echo_id"] == "tab-2" and live["text"] == "typed in another tab"

    def test_notes_and_other_visitors_never_reach_the_visitor(self, chat: Chat):
        token = chat.start({"question": "Where is my refund?"})
        other = chat.start({"question": "A different visitor"})
        conv = chat.conversation_with("Where is my refund?")
        with chat.stream(token) as stream, chat.stream(other) as other_stream:
            note = chat.api.post(f"/conversations/{conv['id']}/messages",
                                 json={"text": "internal: customer is VIP", "kind": "note",
                                       "visibility": "private"})
            assert note.status_code == 201
            chat.reply(conv["id"], "Your refund left today.")
            stream.wait_message(lambda m: m["text"] == "Your refund left today.")
            wait_for(lambda: any(m["text"] == "A different visitor"
                                 for m in chat.history(other).json()["items"]) or None,
                     what="the other visitor's question")
        texts = [m["text"] for m in stream.messages()]
        assert "internal: customer is VIP" not in texts
        history = [i["text"] for i in chat.history(token).json()["items"]]
        assert history == ["Where is my refund?", "Your refund left today."]
        other_texts = [m["text"] for m in other_stream.messages()]
        assert "Your refund left today." not in other_texts
        assert [i["text"] for i in chat.history(other).json()["items"]] == [
            "A different visitor"]

    def test_messages_of_other_channels_in_the_conversation_stay_hidden(
            self, chat: Chat, runtime, workspace_id):
        token = chat.start({"question": "Chat question", "email": "kim@example.com"})
        conv = chat.conversation_with("Chat question")
        # The same customer writes on another channel; it joins the conversation (rule 4).
        acc = api_account(runtime, workspace_id, identity_kind="email")
        event = message_event("api-1", author="kim@example.com", author_kind="email",
                              text="Sent from my email client", visibility="private",
                              thread_key="mail-1")
        event["message"]["created_at"] = conv["messages"][0]["created_at"]
        assert post_events(chat.root, acc, [event]).status_code == 200
        conv = chat.conversation_with("Sent from my email client")
        assert {m["channel"] for m in conv["messages"]} == {"webchat", "api"}
        assert [i["text"] for i in chat.history(token).json()["items"]] == ["Chat question"]

    def test_read_receipt_marks_the_agent_message_read(self, chat: Chat):
        token = chat.start({"question": "Anyone there?"})
        conv = chat.conversation_with("Anyone there?")
        reply = chat.reply(conv["id"], "Here!").json()
        wait_for(lambda: any(i["delivery"] == "sent" for i in chat.history(token).json()["items"]
                             if i["sender"] == "agent") or None, what="sent reply")
        answer = chat.http.post(f"{chat.base}/read", json={"message_id": reply["id"]},
                                headers={"x-visitor-token": token})
        assert answer.status_code == 202
        wait_for(lambda: chat.api.get(f"/conversations/{conv['id']}").json()["messages"][-1]
                 ["delivery"] == "read", what="read state")
        # A message id outside the visitor's chat is refused and stores nothing more.
        before = chat.stored_events()
        stranger = chat.http.post(f"{chat.base}/read", json={"message_id": conv["id"]},
                                  headers={"x-visitor-token": token})
        assert stranger.status_code == 404
        assert chat.stored_events() == before
