"""The offered channels (admin API, shown on the link pages), the email form, verification of a
coordinate by a link sent over it, and typed refusals that store nothing."""

from __future__ import annotations

import random
import re
from typing import Any

from tests.conftest import make_token
from tests.hops.conftest import Hops, wait_for

LINK_RE = re.compile(r"(/s/[A-Za-z0-9_-]+)")


def sms_config(hop: Hops) -> dict[str, Any]:
    return {"account_sid": "AC" + "4" * 32, "auth_token": "sandbox-token",
            "from_number": "+15559870000", "api_base_url": hop.sandbox_url("/twilio")}


class TestOfferedChannels:
    def test_admin_sets_them_and_the_link_pages_show_them(self, hop: Hops) -> None:
        assert hop.api.get("/settings/offered-channels").json()["channels"]
        channels = [{"kind": "email", "label": "Email us", "address": "help@acme.example"},
                    {"kind": "phone", "label": "Call us", "address": "+1 555 0100"}]
        answer = hop.api.put("/settings/offered-channels", json={"channels": channels})
        assert answer.status_code == 200, answer.text
        assert answer.json()["text"] == ("You can also reach us by: Email us "
                                         "(help@acme.example); Call us (+1 555 0100).")
        agent_token = make_token(hop.runtime, hop.workspace_id, role="agent")
        refused = hop.api.put("/settings/offered-channels", json={"channels": []},
                              headers={"Authorization": f"Bearer {agent_token}"})
        assert refused.status_code == 403
        bad = hop.api.put("/settings/offered-channels",
                          json={"channels": [{"kind": "pigeon", "label": "x"}]})
        assert bad.status_code == 422
        _, conv, _ = hop.x_complaint(f"@acme help {hop.tag}")
        hop.account("webchat", {})
        page = hop.customer.get(hop.path(hop.offer(conv["id"], "chat_link")["url"]))
        assert "help@acme.example" in page.text and "Call us" in page.text


class TestEmailForm:
    def test_email_form_records_identity_consent_and_preference(self, hop: Hops) -> None:
        _, conv, _ = hop.x_complaint(f"@acme invoice wrong {hop.tag}")
        refused = hop.api.post(f"/conversations/{conv['id']}/hops",
                               json={"method": "email_form", "reason": "privacy"})
        assert refused.status_code == 422  # no email account: typed, nothing stored
        assert refused.json()["error"]["code"] == "no_email_account"
        assert hop.hops(conv["id"]) == []

        email_account = hop.account("email", {
            "smtp_host": "127.0.0.1", "smtp_port": 1, "imap_host": "127.0.0.1",
            "imap_port": 1, "username": "u", "password": "p",
            "address": "support@acme.example", "poll": False})
        offer = hop.offer(conv["id"], "email_form")
        answer = hop.customer.post(hop.path(offer["url"]), data={
            "email": "Jane@Example.com", "consent": "yes"})
        assert answer.status_code == 200 and "We will write to you" in answer.text
        detail = hop.conversation(conv["id"])
        [first] = [m for m in detail["messages"] if m["channel"] == "email"]
        assert first["direction"] == "outbound" and first["visibility"] == "private"
        assert first["channel_account_id"] == email_account
        assert first["meta"]["recipient"] == "jane@example.com"
        # The coordinate, the consent and the preference are the taker's own (decision 0103).
        [taker] = detail["takers"]
        assert taker["state"] == "pending" and taker["channel"] == "email"
        assert first["unverified"] == taker["warning"]  # the agent sees who it went to
        customer = hop.api.get(f"/customers/{taker['customer_id']}").json()
        author = hop.api.get(f"/customers/{detail['customer']['id']}").json()
        assert "jane@example.com" not in {i["address"] for i in author["identities"]}
        assert customer["preferred_channel"] == "email"
        assert [(c["kind"], c["address"], c["purpose"]) for c in customer["consents"]] == [
            ("email", "jane@example.com", "email")]
        assert "jane@example.com" in {i["address"] for i in customer["identities"]}
        [record] = hop.hops(conv["id"])
        assert record["taken_at"] and record["consent_id"]


class TestVerification:
    def test_agent_given_phone_needs_consent_then_a_link_verifies_it(self, hop: Hops) -> None:
        _, conv, _ = hop.x_complaint(f"@acme text me {hop.tag}")
        hop.account("sms", sms_config(hop))
        customer_id = hop.conversation(conv["id"])["customer"]["id"]
        number = f"+1415{random.randrange(10**7):07d}"
        identity = hop.api.post(f"/customers/{customer_id}/identities",
                                json={"kind": "phone", "address": number})
        assert identity.status_code == 201, identity.text
        identity_id = identity.json()["id"]
        path = f"/customers/{customer_id}/identities/{identity_id}/verification"
        before = hop.snapshot()
        refused = hop.api.post(path, json={"conversation_id": conv["id"]})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "consent_required"
        assert hop.snapshot() == before

        consent = hop.api.post(f"/customers/{customer_id}/consents", json={
            "kind": "phone", "address": number, "purpose": "verification", "method": "dm",
            "wording": "Customer agreed in a DM to get a text to confirm his number."})
        assert consent.status_code == 201
        wait_for(lambda: hop.api.get(f"/customers/{customer_id}").json()["consents"],
                 what="consent committed")
        sent = hop.api.post(path, json={"conversation_id": conv["id"]})
        assert sent.status_code == 201, sent.text
        hop.wait_delivery(conv["id"], sent.json()["message_id"])
        [sms] = [c for c in hop.calls("twilio", method="POST", path_contains="/Messages.json")
                 if c["form"].get("To") == number]
        match = LINK_RE.search(sms["form"]["Body"])
        assert match
        page = hop.customer.get(match.group(1))
        assert page.status_code == 200 and "Confirm" in page.text
        identities = hop.api.get(f"/customers/{customer_id}").json()["identities"]
        assert [i["evidence"] for i in identities if i["address"] == number] == [
            "agent_asserted"]  # opening the page (a link scanner) verifies nothing
        assert hop.customer.post(match.group(1), data={}).status_code == 200
        identities = hop.api.get(f"/customers/{customer_id}").json()["identities"]
        [verified] = [i for i in identities if i["address"] == number]
        assert verified["evidence"] == "verified" and verified["verified_at"]
        assert hop.customer.post(match.group(1), data={}).status_code == 410  # once
