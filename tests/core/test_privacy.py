"""Inbound personal data in public: flagged, masked by default (reveal audited), a hop to
private suggested, and the post hidden where the platform allows and the account wants it."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select

from tests.factories import api_account, message_event, post_events
from threadline.events.models import AuditEvent
from threadline.sandbox.providers import meta
from threadline.workspace.service import create_channel_account

CARD = "4111 1111 1111 1111"


def only_conversation(client):
    items = client.get("/api/v1/conversations").json()["items"]
    assert len(items) == 1
    return client.get(f"/api/v1/conversations/{items[0]['id']}").json()


class TestPublicPersonalData:
    def test_card_number_in_public_is_masked_flagged_and_a_hop_suggested(
            self, runtime, workspace_id, client, worker):
        acc = api_account(runtime, workspace_id)
        text = f"@acme charged twice on my card {CARD}, fix it now!"
        assert post_events(client, acc, [message_event("pii-1", text=text)]).status_code == 200
        worker.drain()
        conv = only_conversation(client)
        msg = conv["messages"][0]
        assert CARD not in msg["text"] and "[CREDIT_CARD]" in msg["text"]
        assert msg["masked"] is True
        assert msg["triage"]["suggest_hop"] == "privacy"
        assert any(p["type"] == "CREDIT_CARD" for p in msg["triage"]["pii"])
        assert conv["category"] and conv["sentiment"] == "negative"
        revealed = client.post(
            f"/api/v1/conversations/{conv['id']}/messages/{msg['id']}/reveal")
        # the card number itself is never stored: a reveal shows its last four digits only
        assert revealed.status_code == 200 and CARD not in revealed.json()["text"]
        assert "[card •••• 1111]" in revealed.json()["text"]
        with runtime.db.session(write=False) as s:
            actions = set(s.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id)))
        assert {"message.pii_flagged", "message.revealed"} <= actions

    def test_private_message_with_pii_is_not_masked(self, runtime, workspace_id, client,
                                                    worker):
        acc = api_account(runtime, workspace_id)
        text = f"here is my card {CARD}"
        post_events(client, acc, [message_event("pii-2", text=text, visibility="private",
                                                thread_key="dm:1")])
        worker.drain()
        msg = only_conversation(client)["messages"][0]
        assert msg["text"] == "here is my card [card •••• 1111]" and msg["masked"] is False

    def test_facebook_comment_with_pii_is_hidden_when_policy_says_so(
            self, runtime, workspace_id, client, worker, sandbox):
        config = {"app_secret": secrets.token_hex(8), "verify_token": "v",
                  "access_token": "page-token", "page_id": "3300001",
                  "api_base_url": f"{sandbox.url}/meta", "hide_public_pii": True}
        with runtime.db.session() as s:
            acc = create_channel_account(s, workspace_id, kind="facebook", name="Page",
                                         config=config)
        hook = meta.page_comment_webhook(str(acc.id), config,
                                         text=f"my card is {CARD} please refund",
                                         comment_id="777_888")
        resp = client.post(hook.path, content=hook.body, headers=hook.headers)
        assert resp.status_code == 200, resp.text
        worker.drain()
        calls = httpx.get(f"{sandbox.url}/_sandbox/calls",
                          params={"provider": "meta"}).json()["calls"]
        hides = [c for c in calls if "777_888" in c["path"] and c["method"] == "POST"
                 and ("is_hidden" in (c["json"] or {}) or "is_hidden" in c["form"]
                      or "is_hidden" in c["query"])]
        assert hides, calls
        msg = only_conversation(client)["messages"][0]
        assert msg["meta"]["hidden"] is True and msg["masked"] is True
