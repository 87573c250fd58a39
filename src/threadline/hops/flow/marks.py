"""The unverified marks agents see (decision 0103): who took a public link and is not proven to
be the public author, and which messages in the case are his or go to him. One reading serves
the REST payloads (conversation, customer, the agent's reply) and the desktop."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.contacts.models import Identity
from threadline.conversations.models import Message
from threadline.conversations.schemas import ConversationDetail, MessageOut
from threadline.hops.flow.schemas import ConversationWithTakers, TakerOut
from threadline.hops.records import takers
from threadline.hops.records.models import HopTaker


def taker_out(session: Session, taker: HopTaker) -> TakerOut:
    handle = takers.claimed_handle(session, taker)
    pending = taker.state == takers.PENDING
    return TakerOut(id=taker.id, conversation_id=taker.conversation_id, hop_id=taker.hop_id,
                    customer_id=taker.customer_id,
                    claimed_customer_id=taker.claimed_customer_id, claimed_handle=handle,
                    channel=taker.channel, state=taker.state, verified=not pending,
                    proven_by=taker.proven_by, proven_at=taker.proven_at,
                    created_at=taker.created_at,
                    warning=f"unverified — not proven to be {handle}" if pending else None)


@dataclass
class Marks:
    takers: list[TakerOut] = field(default_factory=list)
    by_identity: dict[uuid.UUID, str] = field(default_factory=dict)  # his inbound messages
    by_address: dict[str, str] = field(default_factory=dict)  # replies sent to him

    @property
    def pending(self) -> list[TakerOut]:
        return [t for t in self.takers if not t.verified]

    def of(self, message: Message | MessageOut) -> str | None:
        if message.direction == "inbound":
            return self.by_identity.get(message.identity_id) if message.identity_id else None
        recipient = (message.meta or {}).get("recipient")
        return self.by_address.get(recipient) if isinstance(recipient, str) else None


def conversation_marks(session: Session, conversation_id: uuid.UUID) -> Marks:
    rows = takers.takers_of_conversation(session, conversation_id)
    marks = Marks(takers=[taker_out(session, t) for t in rows])
    warnings = {t.id: t.warning for t in marks.takers if t.warning}
    for identity_id, taker in takers.taker_identities(session, rows).items():
        marks.by_identity[identity_id] = warnings[taker.id]
    if marks.by_identity:
        for identity in session.scalars(select(Identity).where(
                Identity.id.in_(list(marks.by_identity)))):
            marks.by_address[identity.address] = marks.by_identity[identity.id]
    return marks


def mark_messages(session: Session, conversation_id: uuid.UUID,
                  messages: list[MessageOut]) -> Marks:
    marks = conversation_marks(session, conversation_id)
    for message in messages:
        message.unverified = marks.of(message)
    return marks


def with_takers(session: Session, detail: ConversationDetail) -> ConversationWithTakers:
    marks = mark_messages(session, detail.id, detail.messages)
    return ConversationWithTakers(**dict(detail), takers=marks.takers)


def customer_takers(session: Session, customer_id: uuid.UUID) -> list[TakerOut]:
    return [taker_out(session, t) for t in takers.takers_of_customer(session, customer_id)]
