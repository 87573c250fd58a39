"""What the public-reply guard is told about a conversation (outbound/policy.py), read from a real
database: identities of its customer and of everyone who wrote in it (merged profiles too),
consents given on its hop forms whoever holds them, callback numbers; X handles and API ids are
not coordinates; templates are checked against the brand list only."""

from __future__ import annotations

import uuid

import pytest

from threadline.contacts.brand import set_brand_contacts
from threadline.contacts.models import Consent, Customer, Identity
from threadline.conversations.models import Conversation, Message
from threadline.db.base import new_id, utcnow
from threadline.errors import PolicyViolation
from threadline.hops.records.links import create_short_link
from threadline.hops.records.models import Callback
from threadline.jobs.runtime import Runtime
from threadline.outbound.policy import check_outbound_text, customer_coordinates
from threadline.outbound.templates import save_template


def customer(session, ws: uuid.UUID, *identities: tuple[str, str, str | None],
             merged_into: uuid.UUID | None = None) -> uuid.UUID:
    c = Customer(id=new_id(), workspace_id=ws, custom_fields={}, external_ids={},
                 merged_into_id=merged_into)
    session.add(c)
    session.flush()
    for kind, address, handle in identities:
        session.add(Identity(id=new_id(), workspace_id=ws, customer_id=c.id, kind=kind,
                             address=address, handle=handle))
    session.flush()
    return c.id


def test_every_source_of_coordinates(runtime: Runtime, workspace_id: uuid.UUID) -> None:
    ws = workspace_id
    with runtime.db.session() as s:
        author = customer(s, ws, ("x", "9876543210", "maya_on_x"), ("email", "maya@example.org",
                                                                    None))
        customer(s, ws, ("phone", "+447911123456", None), merged_into=author)
        taker = customer(s, ws, ("webchat", "visitor-7f3a9c", None),
                         ("telegram", "555123", "maya_tg"), ("api", "jane", "jane"))
        conv = Conversation(id=new_id(), workspace_id=ws, customer_id=author)
        s.add(conv)
        s.flush()
        taker_identity = s.query(Identity).filter_by(customer_id=taker, kind="webchat").one()
        s.add(Message(id=new_id(), workspace_id=ws, conversation_id=conv.id, channel="webchat",
                      identity_id=taker_identity.id, direction="inbound", visibility="private",
                      text="hi", author_type="customer", created_at=utcnow(), attachments=[],
                      triage={}, meta={}))
        link, _ = create_short_link(s, ws, purpose="email", conversation_id=conv.id,
                                    customer_id=None)
        stranger = customer(s, ws)
        s.add(Consent(id=new_id(), workspace_id=ws, customer_id=stranger, kind="email",
                      address="typed.on.form@example.net", purpose="email", method="form",
                      wording="w", source=f"short_link:{link.id}"))
        s.add(Callback(id=new_id(), workspace_id=ws, conversation_id=conv.id,
                       phone="+14155550132", meta={}))
        s.flush()
        known = set(customer_coordinates(s, conv))
        assert known == {"maya@example.org", "+447911123456", "visitor-7f3a9c", "555123",
                         "maya_tg", "typed.on.form@example.net", "+14155550132"}
        for text in ("We wrote to typed.on.form@example.net", "We call 415-555-0132 at 5",
                     "Ping @maya_tg on Telegram", "We have 07911 123456 on file"):
            with pytest.raises(PolicyViolation) as caught:
                check_outbound_text(s, ws, text, "public", conversation=conv)
            assert caught.value.code == "pii_public"
            check_outbound_text(s, ws, text, "private", conversation=conv)
        check_outbound_text(s, ws, "Thanks @maya_on_x and jane, on it", "public",
                            conversation=conv)
        s.rollback()


def test_templates_use_the_brand_list(runtime: Runtime, workspace_id: uuid.UUID) -> None:
    with runtime.db.session() as s:
        body = "Call us on +44 20 7946 0958."
        with pytest.raises(PolicyViolation):
            save_template(s, workspace_id, name="t", body=body, visibilities=["public"])
        set_brand_contacts(s, workspace_id, ["+44 20 7946 0958"], actor_type="system",
                           actor_id=None)
        assert save_template(s, workspace_id, name="t", body=body, visibilities=["public"])
        with pytest.raises(PolicyViolation):
            save_template(s, workspace_id, name="u", visibilities=["public"],
                          body="Please reply with the last 4 digits of your card.")
        s.rollback()
