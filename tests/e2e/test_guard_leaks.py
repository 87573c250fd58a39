"""Finding 11 end to end through real HTTP (Threadline and the provider sandbox under uvicorn):
the public-reply guard knows the conversation's customer. His coordinates (identities, the email
typed on a hop form) are refused in public in any wording, with a typed 422 and nothing sent to
the provider; the same text goes out in private; the brand's own contacts are an explicit admin
setting and pass in public."""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import select

from tests.conftest import make_token
from tests.hops.conftest import Hops, hop, some_id, wait_for
from threadline.events.models import AuditEvent
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import x as sx
from threadline.workspace.service import create_workspace

PAGE_ID = "1234567890"
FINDING = [
    "Thanks Maya, we will call you at +44 7911 123456 shortly",
    "We have your number as (415) 555-0132, is that right?",
    "we've emailed you at maria.lopez88@example.org",
    "We need the last 4 digits of your card",
]


def refused(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == "pii_public"
    return error


def outbound_texts(hop: Hops, conversation_id: str) -> list[str]:
    return [m["text"] for m in hop.conversation(conversation_id)["messages"]
            if m["direction"] == "outbound"]


def x_customer_with_coordinates(hop: Hops) -> tuple[dict[str, Any], str]:
    """An X mention whose customer has the finding's phones and email on his profile."""
    config = hop.x_config()
    account = hop.account("x", config)
    tweet = str(1_850_000_000_000_000_000 + random.randrange(10**15))
    user = some_id(9)
    assert hop.post(sx.mention_webhook(account, config, tweet, user, "maya",
                                       f"@acme where is my refund {hop.tag}")).status_code == 200
    conv, _ = hop.wait_message(tweet)
    customer = conv["customer"]["id"]
    for kind, address in (("phone", "+447911123456"), ("phone", "+14155550132"),
                          ("email", "maria.lopez88@example.org")):
        added = hop.api.post(f"/customers/{customer}/identities",
                             json={"kind": kind, "address": address})
        assert added.status_code == 201, added.text
    wait_for(lambda: len(hop.api.get(f"/customers/{customer}").json()["identities"]) >= 4,
             what="identities committed")
    return conv, tweet


class TestXReplies:
    def test_the_findings_sentences_are_refused_in_public_and_sent_in_private(
            self, hop: Hops) -> None:
        conv, _ = x_customer_with_coordinates(hop)
        for text in FINDING:
            error = refused(hop.reply(conv["id"], f"{text} {hop.tag}", visibility="public"))
            assert error["details"]["reasons"]
            assert "7911" not in error["message"] and "maria" not in error["message"]
        # The customer's coordinates, reformatted, are refused too.
        for text in ("Ringing 07911-123-456 now", "Wrote to MARIA.LOPEZ88 at example dot org",
                     "Is 555 0132 the best line?"):
            error = refused(hop.reply(conv["id"], f"{text} {hop.tag}", visibility="public"))
            assert {r["code"] for r in error["details"]["reasons"]} == {"customer_coordinate"}
        assert outbound_texts(hop, conv["id"]) == []
        assert hop.calls("x", method="POST", path_contains="/2/tweets", text=hop.tag) == []

        # The same words in private (a DM to him) are his business: sent.
        for text in FINDING:
            private = hop.sent(conv["id"], f"{text} {hop.tag}", visibility="private")
            hop.wait_delivery(conv["id"], private["id"])
        dms = hop.calls("x", method="POST", path_contains="/messages", text=hop.tag)
        assert sorted(dm["json"]["text"] for dm in dms) == sorted(f"{t} {hop.tag}"
                                                                  for t in FINDING)
        assert hop.calls("x", method="POST", path_contains="/2/tweets", text=hop.tag) == []
        # His public handle is no secret on X: a public reply may name it.
        assert hop.reply(conv["id"], f"Thanks @maya, sorting it now {hop.tag}").status_code == 201

    def test_brand_contacts_are_an_explicit_setting_and_pass_in_public(self, hop: Hops) -> None:
        conv, tweet = x_customer_with_coordinates(hop)
        text = f"Call us on 1-800-555-0199 or write to Help@Acme.example {hop.tag}"
        refused(hop.reply(conv["id"], text, visibility="public"))  # no guess from "us"
        saved = hop.api.put("/settings/brand-contacts",
                            json={"contacts": ["+1 (800) 555-0199", "HELP@acme.example",
                                               "https://Acme.example/"]})
        assert saved.status_code == 200, saved.text
        assert saved.json()["contacts"] == ["+18005550199", "help@acme.example",
                                            "https://acme.example"]
        wait_for(lambda: hop.api.get("/settings/brand-contacts").json()["contacts"],
                 what="brand contacts committed")
        sent = hop.sent(conv["id"], text)
        hop.wait_delivery(conv["id"], sent["id"])
        [call] = hop.calls("x", method="POST", path_contains="/2/tweets", text=hop.tag)
        assert call["json"]["reply"] == {"in_reply_to_tweet_id": tweet}
        # Listing a brand number never lets the customer's own out.
        error = refused(hop.reply(conv["id"], f"Call us on 1-800-555-0199, or we call you on "
                                              f"+44 7911 123456 {hop.tag}", visibility="public"))
        assert [r["code"] for r in error["details"]["reasons"]] == ["customer_coordinate"]
        # Offered channel addresses (set by admins, shown on the link pages) are brand's too.
        offered = hop.api.put("/settings/offered-channels", json={"channels": [
            {"kind": "phone", "label": "Call us", "address": "+1 555 0100"}]})
        assert offered.status_code == 200
        wait_for(lambda: hop.api.get("/settings/offered-channels").json()["channels"][0][
            "address"] == "+1 555 0100", what="offered channels committed")
        assert hop.reply(conv["id"], f"Or ring +1 555 0100 {hop.tag}").status_code == 201


class TestHopFormCoordinates:
    def test_email_typed_on_the_form_never_goes_out_in_the_public_follow_up(
            self, hop: Hops) -> None:
        config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                  "access_token": "EAAG-token", "api_base_url": hop.sandbox_url("/meta"),
                  "page_id": PAGE_ID}
        account = hop.account("facebook", config)
        comment_id = f"{some_id()}_{some_id()}"
        assert hop.post(sm.page_comment_webhook(
            account, config, from_id=some_id(), text=f"Billed twice! {hop.tag}",
            post_id=f"{PAGE_ID}_{some_id()}", comment_id=comment_id)).status_code == 200
        conv, _ = hop.wait_message(comment_id)
        hop.account("email", {"smtp_host": "127.0.0.1", "smtp_port": 1, "imap_host": "127.0.0.1",
                              "imap_port": 1, "username": "u", "password": "p",
                              "address": "support@acme.example", "poll": False})
        offer = hop.offer(conv["id"], "email_form")
        typed = f"Maria.Lopez.{hop.tag}@Example.org"
        answer = hop.customer.post(hop.path(offer["url"]), data={"email": typed,
                                                                "consent": "yes"})
        assert answer.status_code == 200, answer.text
        wait_for(lambda: [h for h in hop.hops(conv["id"]) if h["taken_at"]], what="hop taken")
        resolved = hop.api.post(f"/conversations/{conv['id']}/resolve")
        assert resolved.status_code == 200, resolved.text
        wait_for(lambda: hop.conversation(conv["id"])["status"] == "resolved",
                 what="resolved committed")
        before = outbound_texts(hop, conv["id"])

        for text in (f"Resolved: we have written to you at {typed.lower()}.",
                     f"Resolved by email ({typed.upper().replace('@', ' at ')})."):
            error = refused(hop.api.post(f"/conversations/{conv['id']}/follow-up",
                                         json={"text": text}))
            assert [r["pii_type"] for r in error["details"]["reasons"]] == ["EMAIL_ADDRESS"]
            refused(hop.reply(conv["id"], text, visibility="public"))
        assert outbound_texts(hop, conv["id"]) == before
        assert hop.calls("meta", method="POST", path_contains="/comments",
                         text=hop.tag.upper()) == []
        assert hop.calls("meta", method="POST", path_contains="/comments",
                         text=hop.tag) == []
        # The drafted follow-up holds no personal data and goes out.
        follow = hop.api.post(f"/conversations/{conv['id']}/follow-up", json={})
        assert follow.status_code == 201, follow.text


class TestBrandContactsApi:
    def test_roles_validation_isolation_and_audit(self, hop: Hops, runtime: Runtime,
                                                  workspace_id: uuid.UUID) -> None:
        agent = {"Authorization": f"Bearer {make_token(runtime, workspace_id, role='agent')}"}
        assert hop.api.put("/settings/brand-contacts", json={"contacts": ["+442079460958"]},
                           headers=agent).status_code == 403
        assert hop.api.get("/settings/brand-contacts", headers=agent).status_code == 200
        assert hop.http.put(hop.server.url + "/api/v1/settings/brand-contacts",
                            json={"contacts": []}).status_code == 401
        ok = hop.api.put("/settings/brand-contacts", json={"contacts": ["+44 20 7946 0958"]})
        assert ok.status_code == 200 and ok.json()["contacts"] == ["+442079460958"]
        wait_for(lambda: hop.api.get("/settings/brand-contacts").json()["contacts"],
                 what="committed")
        for bad in (["javascript:alert(1)"], ["<script>@x.example"], ["http://u:p@acme.example"],
                    ["https://acme.example/<x>"], ["0800 048 0408"], ["x" * 321], [""],
                    ["+1"], [5], ["ok@acme.example"] * 51, "help@acme.example",
                    ["help@acme.example", "not a contact"]):
            answer = hop.api.put("/settings/brand-contacts", json={"contacts": bad})
            assert answer.status_code == 422, (bad, answer.text)
            assert answer.json()["error"]["code"] in ("invalid_brand_contact",
                                                      "validation_failed")
        assert hop.api.put("/settings/brand-contacts", json={"contacts": [], "x": 1}
                           ).status_code == 422
        assert hop.api.get("/settings/brand-contacts").json()["contacts"] == ["+442079460958"]
        # Another workspace's admin sees and changes only his own list.
        with runtime.db.session() as s:
            other = create_workspace(s, "Other", f"other-{uuid.uuid4().hex[:8]}").id
        theirs = {"Authorization": f"Bearer {make_token(runtime, other, role='admin')}"}
        assert hop.api.get("/settings/brand-contacts", headers=theirs).json() == {"contacts": []}
        assert hop.api.put("/settings/brand-contacts", json={"contacts": ["help@b.example"]},
                           headers=theirs).status_code == 200
        assert hop.api.get("/settings/brand-contacts").json()["contacts"] == ["+442079460958"]
        with runtime.db.session(write=False) as s:
            rows = list(s.scalars(select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "workspace.brand_contacts_set")))
        assert [r.data["added"] for r in rows] == [["+442079460958"]]
        assert rows[0].actor_type == "token"


__all__ = ["hop"]  # the hop harness fixture, shared with tests/hops
