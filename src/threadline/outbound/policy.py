"""Policy checks on outgoing text (docs/design.md): personal data never goes public.

The guard (triage/outbound.py) is pure; this loads what it must know from the database: the
brand's own contacts (the `brand_contacts` setting and the addresses of the offered channels,
both set by admins) and, for a conversation, every coordinate of its customer(s): the
identities of the conversation's customer and of everyone who wrote in it (merged-in profiles
included), the consents given on the conversation's hop forms or by those customers, and the
callback numbers typed on its callback forms, and the details given on its secure forms.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from threadline.contacts.brand import brand_contacts
from threadline.contacts.models import Consent, Customer, Identity
from threadline.conversations.models import Conversation, Message
from threadline.errors import PolicyViolation
from threadline.hops.records.details import known_details
from threadline.hops.records.models import Callback, ShortLink
from threadline.hops.records.options import offered_channels
from threadline.triage import Known, check_outbound

# Coordinates refused in public: private channels' addresses. Handles on X, Facebook and
# Instagram are public by nature (a public reply addresses them there), and an API channel's
# ids and handles are whatever the integrator sends (often a first name): neither is listed.
PRIVATE_KINDS = frozenset({"email", "phone", "whatsapp", "sms", "telegram", "messenger",
                           "webchat"})
HANDLE_KINDS = frozenset({"telegram"})  # a username the customer chose, not a display name
MAX_KNOWN = 1000


def brand_list(session: Session, workspace_id: uuid.UUID) -> tuple[str, ...]:
    offered = [c["address"] for c in offered_channels(session, workspace_id) if c["address"]]
    return tuple(dict.fromkeys(brand_contacts(session, workspace_id) + offered))


def customer_coordinates(session: Session, conversation: Conversation) -> tuple[str, ...]:
    """Every email, phone and private-channel handle of the conversation's customer(s)."""
    customers = {conversation.customer_id} - {None}
    customers |= set(session.scalars(
        select(Identity.customer_id).join(Message, Message.identity_id == Identity.id)
        .where(Message.conversation_id == conversation.id).distinct()))
    links = list(session.execute(select(ShortLink.id, ShortLink.customer_id).where(
        ShortLink.conversation_id == conversation.id)))
    customers |= {customer for _, customer in links if customer is not None}
    if customers:
        customers |= set(session.scalars(select(Customer.id).where(
            Customer.merged_into_id.in_(customers))))
    values: list[str] = []
    for kind, address, handle in session.execute(
            select(Identity.kind, Identity.address, Identity.handle)
            .where(Identity.customer_id.in_(customers)).limit(MAX_KNOWN)):
        if kind in PRIVATE_KINDS:
            values += [address, handle] if handle and kind in HANDLE_KINDS else [address]
    sources = [f"short_link:{link_id}" for link_id, _ in links]
    values += session.scalars(select(Consent.address).where(
        Consent.workspace_id == conversation.workspace_id,
        or_(Consent.customer_id.in_(customers), Consent.source.in_(sources)))
        .limit(MAX_KNOWN))
    values += session.scalars(select(Callback.phone).where(
        Callback.conversation_id == conversation.id).limit(MAX_KNOWN))
    return tuple(dict.fromkeys(v for v in values if v))


def check_outbound_text(session: Session, workspace_id: uuid.UUID, text: str, visibility: str,
                        *, conversation: Conversation | None = None) -> None:
    """Raise a typed 422 when a public message contains or asks for personal data: the
    conversation's customer coordinates never, the brand's own contacts only."""
    if visibility != "public":
        return
    given = known_details(session, conversation.id) if conversation else []
    known = Known(customer=(*(customer_coordinates(session, conversation) if conversation
                              else ()), *(v for k, v in given if k in ("EMAIL", "PHONE"))),
                  brand=brand_list(session, workspace_id),
                  details=tuple((k, v) for k, v in given if k not in ("EMAIL", "PHONE")))
    verdict = check_outbound(text, visibility=visibility, known=known)
    if verdict.blocked:
        reasons = verdict.to_dict()["reasons"]
        summary = "; ".join(str(r.get("message")) for r in reasons) or "personal data"
        raise PolicyViolation(f"blocked for a public channel: {summary}", code="pii_public",
                              details={"reasons": reasons})
