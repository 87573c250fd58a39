"""Consent and verification managed in the desktop (issue 15): the customer panel records a
consent with its wording, revokes it, and sends a verification link over a coordinate; bad
input is a typed 422 with nothing stored, another workspace's customer is unknown, and every
form needs the desktop's CSRF token."""

from __future__ import annotations

import re
import secrets
import uuid

import httpx
from sqlalchemy import select

from tests.desktop.conftest import desk_for
from tests.factories import only_api_conversation
from threadline.contacts.models import Consent, Evidence, Identity
from threadline.contacts.service import link_identity
from threadline.workspace import service as workspace_service
from threadline.workspace.service import create_channel_account

LINK = re.compile(r"/s/[A-Za-z0-9_-]+")


def _customer(runtime, workspace_id, client, worker) -> tuple[str, str]:
    conv = only_api_conversation(runtime, workspace_id, client, worker, "please text me")
    return conv["customer_id"], conv["id"]


def _consents(runtime, customer_id: str) -> list[Consent]:
    with runtime.db.session(write=False) as s:
        return list(s.scalars(select(Consent).where(
            Consent.customer_id == uuid.UUID(customer_id))))


def test_record_and_revoke_a_consent(runtime, workspace_id, client, worker, app):
    customer, _ = _customer(runtime, workspace_id, client, worker)
    desk = desk_for(app, runtime, workspace_id, "agent")
    assert 'id="add-consent"' in desk.get(f"/customers/{customer}").text
    form = {"kind": "phone", "address": "+1 415 555 0142", "purpose": "callback",
            "method": "verbal", "wording": "You may call me back on this number"}
    assert desk.post(f"/customers/{customer}/consents", form, csrf=False).status_code == 403
    for bad in ({"kind": "fax"}, {"method": "telepathy"}, {"wording": ""},
                {"address": "x" * 400}):
        answer = desk.post(f"/customers/{customer}/consents", {**form, **bad})
        assert answer.status_code == 422, bad
        assert "bad_consent" in answer.text
    assert _consents(runtime, customer) == []

    added = desk.post(f"/customers/{customer}/consents", form)
    assert added.status_code == 303
    [consent] = _consents(runtime, customer)
    assert (consent.kind, consent.purpose, consent.method) == ("phone", "callback", "verbal")
    assert consent.wording == "You may call me back on this number"
    page = desk.get(f"/customers/{customer}?notice=consent-added").text
    assert f"/customers/{customer}/consents/{consent.id}/revoke" in page

    revoke = f"/customers/{customer}/consents/{consent.id}/revoke"
    assert desk.post(revoke, csrf=False).status_code == 403
    assert desk.post(revoke).status_code == 303
    [consent] = _consents(runtime, customer)
    assert consent.revoked_at is not None
    assert desk.post(revoke).status_code == 303  # again: nothing changes
    assert _consents(runtime, customer)[0].revoked_at == consent.revoked_at


def test_another_workspaces_customer_and_consent_are_unknown(runtime, workspace_id, client,
                                                             worker, app):
    customer, _ = _customer(runtime, workspace_id, client, worker)
    desk = desk_for(app, runtime, workspace_id, "agent")
    desk.post(f"/customers/{customer}/consents", {
        "kind": "email", "address": "ana@example.com", "purpose": "contact", "method": "dm",
        "wording": "Email me"})
    [consent] = _consents(runtime, customer)
    with runtime.db.session() as s:
        other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}").id
    stranger = desk_for(app, runtime, other, "agent")
    assert stranger.post(f"/customers/{customer}/consents/{consent.id}/revoke"
                         ).status_code == 404
    assert stranger.post(f"/customers/{customer}/consents", {
        "kind": "email", "address": "x@example.com", "purpose": "contact", "method": "dm",
        "wording": "w"}).status_code == 404
    assert _consents(runtime, customer)[0].revoked_at is None
    assert len(_consents(runtime, customer)) == 1


def test_send_a_verification_link_from_the_panel(runtime, workspace_id, client, worker,
                                                 sandbox, app):
    config = {"account_sid": "AC" + "6" * 32, "auth_token": "sandbox-token",
              "from_number": "+15559870000", "api_base_url": f"{sandbox.url}/twilio"}
    with runtime.db.session() as s:
        create_channel_account(s, workspace_id, kind="sms", name="SMS", config=config)
    customer, conv = _customer(runtime, workspace_id, client, worker)
    number = f"+1415555{secrets.randbelow(10**4):04d}"
    with runtime.db.session() as s:
        identity = link_identity(s, workspace_id, uuid.UUID(customer), kind="phone",
                                 address=number, evidence=Evidence.AGENT, actor_type="agent",
                                 actor_id=None)
        identity_id = identity.id
    desk = desk_for(app, runtime, workspace_id, "agent")
    path = f"/customers/{customer}/identities/{identity_id}/verify"
    assert path in desk.get(f"/customers/{customer}").text
    refused = desk.post(path, {"conversation_id": conv})  # no consent yet: refused
    assert refused.status_code == 422 and "consent_required" in refused.text
    assert desk.post(path, {"conversation_id": str(uuid.uuid4())}).status_code == 404
    desk.post(f"/customers/{customer}/consents", {
        "kind": "phone", "address": number, "purpose": "verification", "method": "dm",
        "wording": "You may text me to confirm my number"})
    assert desk.post(path, {"conversation_id": conv}, csrf=False).status_code == 403
    sent = desk.post(path, {"conversation_id": conv})
    assert sent.status_code == 303, sent.text
    worker.drain()
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "twilio"}).json()
    [sms] = [c for c in calls["calls"] if (c.get("form") or {}).get("To") == number]
    assert LINK.search(sms["form"]["Body"])
    with runtime.db.session(write=False) as s:
        assert s.get(Identity, identity_id).evidence == Evidence.AGENT  # until he opens it
