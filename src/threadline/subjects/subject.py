"""What belongs to one customer: the rows an export shows and an erasure anonymises.

A customer's data is his own row and every customer merged into him (the same person), the
coordinates linked to them, the consents they gave, their conversations (and conversations
merged into those), every message in them or written from his identities elsewhere, and the
hops, short links and callbacks of those conversations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Consent, Customer, CustomerMerge, Identity, MergeSuggestion
from threadline.contacts.service import access_customer
from threadline.conversations.models import Conversation, Message
from threadline.hops.records.models import Callback, Hop, ShortLink

SINCE_MARGIN = timedelta(hours=1)
MIN_NEEDLE = 6  # shorter provider ids (a Telegram message number) would match anything


@dataclass
class Subject:
    workspace_id: uuid.UUID
    customer_id: uuid.UUID
    customer_ids: list[uuid.UUID]
    identity_ids: list[uuid.UUID] = field(default_factory=list)
    consent_ids: list[uuid.UUID] = field(default_factory=list)
    conversation_ids: list[uuid.UUID] = field(default_factory=list)
    message_ids: list[uuid.UUID] = field(default_factory=list)
    hop_ids: list[uuid.UUID] = field(default_factory=list)
    link_ids: list[uuid.UUID] = field(default_factory=list)
    callback_ids: list[uuid.UUID] = field(default_factory=list)
    merge_ids: list[uuid.UUID] = field(default_factory=list)
    suggestion_ids: list[uuid.UUID] = field(default_factory=list)
    account_ids: set[uuid.UUID] = field(default_factory=set)
    coordinates: set[str] = field(default_factory=set)  # addresses, handles, phone numbers
    provider_ids: set[str] = field(default_factory=set)  # provider ids of his messages
    since: datetime | None = None  # his first record: no job or live event about him is older

    def ids(self) -> list[uuid.UUID]:
        return [*self.customer_ids, *self.identity_ids, *self.consent_ids,
                *self.conversation_ids, *self.message_ids, *self.hop_ids, *self.link_ids,
                *self.callback_ids, *self.merge_ids, *self.suggestion_ids]

    def needles(self) -> list[str]:
        """Strings whose presence in a JSON document or log line ties it to this customer:
        our ids, his coordinates and his messages' provider ids."""
        found = {str(i) for i in self.ids()} | self.coordinates | self.provider_ids
        return sorted(n for n in found if len(n) >= MIN_NEEDLE)


def _root(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID) -> uuid.UUID:
    """The customer a merged customer ended up in (the person's surviving record)."""
    seen = {customer_id}
    current = customer_id
    while True:
        target = session.scalar(select(Customer.merged_into_id).where(
            Customer.workspace_id == workspace_id, Customer.id == current))
        if target is None or target in seen:
            return current
        seen.add(target)
        current = target


def _family(session: Session, workspace_id: uuid.UUID, root: uuid.UUID) -> list[uuid.UUID]:
    """The customer and every customer merged into him, directly or through another."""
    family = [root]
    frontier = [root]
    while frontier:
        frontier = [cid for cid in session.scalars(select(Customer.id).where(
            Customer.workspace_id == workspace_id, Customer.merged_into_id.in_(frontier)))
            if cid not in family]
        family.extend(frontier)
    return family


def _conversations(session: Session, workspace_id: uuid.UUID,
                   customer_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    found = list(session.scalars(select(Conversation.id).where(
        Conversation.workspace_id == workspace_id, Conversation.customer_id.in_(customer_ids))))
    frontier = list(found)
    while frontier:  # conversations merged into his keep no customer of their own
        frontier = [cid for cid in session.scalars(select(Conversation.id).where(
            Conversation.workspace_id == workspace_id,
            Conversation.merged_into_id.in_(frontier))) if cid not in found]
        found.extend(frontier)
    return found


def collect(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID) -> Subject:
    """Everything that belongs to the customer (NotFound for another workspace's id). A
    customer merged into another is the same person: the request covers the surviving
    customer and everything merged into it."""
    access_customer(session, workspace_id, customer_id)
    root = _root(session, workspace_id, customer_id)
    family = _family(session, workspace_id, root)
    subject = Subject(workspace_id=workspace_id, customer_id=root, customer_ids=family)
    for ident in session.scalars(select(Identity).where(Identity.customer_id.in_(family))):
        subject.identity_ids.append(ident.id)
        subject.coordinates.update(v for v in (ident.address, ident.handle) if v)
    for consent in session.scalars(select(Consent).where(Consent.customer_id.in_(family))):
        subject.consent_ids.append(consent.id)
        subject.coordinates.add(consent.address)
    convs = _conversations(session, workspace_id, family)
    subject.conversation_ids = convs
    rows = session.execute(select(
        Message.id, Message.channel_account_id, Message.provider_id,
        Message.reply_to_provider_id, Message.root_provider_id).where(
        Message.workspace_id == workspace_id,
        or_(Message.conversation_id.in_(convs),
            Message.identity_id.in_(subject.identity_ids)))).all()
    for message_id, account_id, *provider_ids in rows:
        subject.message_ids.append(message_id)
        if account_id is not None:
            subject.account_ids.add(account_id)
        subject.provider_ids.update(p for p in provider_ids if p)
    subject.hop_ids = list(session.scalars(select(Hop.id).where(
        Hop.workspace_id == workspace_id, Hop.conversation_id.in_(convs))))
    subject.link_ids = list(session.scalars(select(ShortLink.id).where(
        ShortLink.workspace_id == workspace_id,
        or_(ShortLink.conversation_id.in_(convs), ShortLink.customer_id.in_(family)))))
    for callback in session.scalars(select(Callback).where(
            Callback.workspace_id == workspace_id,
            or_(Callback.conversation_id.in_(convs), Callback.customer_id.in_(family)))):
        subject.callback_ids.append(callback.id)
        subject.coordinates.add(callback.phone)
        if callback.call_provider_id:
            subject.provider_ids.add(callback.call_provider_id)
    subject.merge_ids = list(session.scalars(select(CustomerMerge.id).where(
        CustomerMerge.workspace_id == workspace_id,
        or_(CustomerMerge.source_id.in_(family), CustomerMerge.target_id.in_(family)))))
    subject.suggestion_ids = list(session.scalars(select(MergeSuggestion.id).where(
        MergeSuggestion.workspace_id == workspace_id,
        or_(MergeSuggestion.customer_a_id.in_(family),
            MergeSuggestion.customer_b_id.in_(family)))))
    subject.coordinates.discard("")
    firsts = [session.scalar(select(func.min(Customer.created_at)).where(
        Customer.id.in_(family)))]
    firsts += [session.scalar(select(func.min(Conversation.created_at)).where(
        Conversation.id.in_(convs[i:i + 500]))) for i in range(0, len(convs), 500)]
    known = [f for f in firsts if f is not None]
    subject.since = min(known) - SINCE_MARGIN if known else None
    return subject
