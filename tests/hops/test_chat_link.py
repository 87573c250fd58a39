"""Acceptance 1, end to end through real HTTP against the sandbox: a public X complaint -> the
agent sends a chat link publicly -> the customer opens it and submits the entry form -> his chat
messages land in the same conversation, in private -> resolved -> the public follow-up is a
reply to the original tweet; the hop has its three times and a consent row exists."""

from __future__ import annotations

from typing import Any

from tests.hops.conftest import Hops, wait_for
from threadline.triage import check_outbound


def webchat_account(hop: Hops) -> str:
    return hop.account("webchat", {"title": "Acme chat"}, name="Acme chat")


class TestChatLink:
    def test_public_complaint_to_private_chat_and_back_to_public(self, hop: Hops) -> None:
        _, conv, tweet = hop.x_complaint(f"@acme my booking was cancelled?! {hop.tag}")
        chat_account = webchat_account(hop)

        # The agent offers a chat link, publicly; the reply holds no personal data.
        offer = hop.offer(conv["id"], "chat_link")
        url, reply = offer["url"], offer["message"]
        assert "/s/" in url and url in reply["text"]
        assert reply["visibility"] == "public"
        assert not check_outbound(reply["text"], visibility="public").blocked
        hop.wait_delivery(conv["id"], reply["id"])
        [call] = hop.calls("x", method="POST", path_contains="/2/tweets", text=url)
        assert call["json"]["reply"] == {"in_reply_to_tweet_id": tweet["provider_id"]}
        assert call["json"]["text"] == reply["text"]

        # The customer opens the link: the form shows his public question (never repeated).
        page = hop.customer.get(hop.path(url))
        assert page.status_code == 200
        assert "booking was cancelled" in page.text and 'name="consent"' in page.text
        # ... and the channels the company offers.
        assert "Other ways to reach us" in page.text

        question = f"It was booking for two on Friday {hop.tag}"
        answer = hop.customer.post(hop.path(url), data={
            "name": "Jane", "email": "jane@example.com", "question": question,
            "consent": "yes"})
        assert answer.status_code == 200, answer.text
        visitor_token, chat_url = hop.handoff(answer.text)
        assert chat_url == f"/webchat/{chat_account}"
        assert hop.customer.get(chat_url).status_code == 200

        # He chats; everything lands in the same conversation, in private.
        said = f"Can you rebook me? {hop.tag}"
        sent = hop.customer.post(f"/webchat/{chat_account}/messages",
                                 json={"text": said, "echo_id": "e" + hop.tag},
                                 headers={"x-visitor-token": visitor_token})
        assert sent.status_code == 202, sent.text

        def both_in_conversation() -> dict[str, Any] | None:
            detail = hop.conversation(conv["id"])
            texts = {m["text"]: m for m in detail["messages"]}
            return detail if question in texts and said in texts else None
        detail = wait_for(both_in_conversation, what="chat messages in the conversation")
        chat = [m for m in detail["messages"] if m["channel"] == "webchat"]
        assert {m["visibility"] for m in chat} == {"private"}
        assert {m["direction"] for m in chat} == {"inbound"}
        assert len(hop.conversations()) == 1

        # His chat shows the public question first: he never repeats it.
        history = hop.customer.get(f"/webchat/{chat_account}/history",
                                   headers={"x-visitor-token": visitor_token}).json()
        assert history["items"][0]["type"] == "context"
        assert "booking was cancelled" in history["items"][0]["text"]

        # The agent answers in the chat, then resolves: a public follow-up is drafted.
        private = hop.sent(conv["id"], f"Rebooked you on Saturday {hop.tag}",
                           visibility="private", channel_account_id=chat_account)
        hop.wait_delivery(conv["id"], private["id"])
        resolved = hop.api.post(f"/conversations/{conv['id']}/resolve")
        assert resolved.status_code == 200, resolved.text
        wait_for(lambda: hop.conversation(conv["id"])["status"] == "resolved",
                 what="resolved committed")
        draft = resolved.json()["follow_up_draft"]
        assert draft and not check_outbound(draft, visibility="public").blocked
        follow = hop.api.post(f"/conversations/{conv['id']}/follow-up", json={})
        assert follow.status_code == 201, follow.text
        hop.wait_delivery(conv["id"], follow.json()["id"])
        [public] = [c for c in hop.calls("x", method="POST", path_contains="/2/tweets",
                                         text=tweet["provider_id"])
                    if c["json"]["text"] == draft]
        assert public["json"]["reply"] == {"in_reply_to_tweet_id": tweet["provider_id"]}

        [record] = hop.hops(conv["id"])
        assert record["method"] == "chat_link" and record["to_channel"] == "webchat"
        assert record["offered_at"] <= record["taken_at"] <= record["returned_at"]
        # Whoever took the public link is a pending taker with his own customer: the consents
        # and the preferred channel are his (decision 0103; test_link_takers.py has the rest).
        [taker] = hop.conversation(conv["id"])["takers"]
        assert taker["state"] == "pending" and taker["claimed_customer_id"] == \
            detail["customer"]["id"]
        customer = hop.api.get(f"/customers/{taker['customer_id']}").json()
        consents = customer["consents"]
        assert {(c["kind"], c["method"]) for c in consents} >= {("webchat", "form"),
                                                                ("email", "form")}
        assert all(c["wording"] and c["source"].startswith("short_link:") for c in consents)
        assert customer["preferred_channel"] == "webchat"
        # Nothing left for the supervisors' close-out list.
        open_list = hop.api.get("/hops", params={"open_public_closeout": "true"}).json()
        assert open_list == []

    def test_supervisors_see_hopped_conversations_without_close_out(self, hop: Hops) -> None:
        _, conv, _ = hop.x_complaint(f"@acme where is my refund {hop.tag}")
        webchat_account(hop)
        offer = hop.offer(conv["id"], "chat_link", reason="practicality")
        hop.api.patch(f"/conversations/{conv['id']}", json={"status": "resolved"})
        wait_for(lambda: hop.conversation(conv["id"])["status"] == "resolved",
                 what="resolved committed")
        [item] = hop.api.get("/hops", params={"open_public_closeout": "true"}).json()
        assert item["id"] == offer["hop"]["id"] and item["conversation_status"] == "resolved"
        assert item["returned_at"] is None
        # Resolved through the plain PATCH: the draft is there on request too.
        draft = hop.api.get(f"/conversations/{conv['id']}/follow-up").json()["draft"]
        assert draft
