"""Channel hops, short links and callbacks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin
from threadline.db.crypto import EncryptedJSON
from threadline.db.redacted import RedactedJSON, RedactedText


class Hop(IdMixin, TimestampMixin, Base):
    """A move of a conversation from one channel to another, and its way back."""

    __tablename__ = "hops"
    __table_args__ = (Index("ix_hops_open_closeout", "workspace_id", "returned_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"),
                                                       index=True)
    from_channel: Mapped[str] = mapped_column(String(32))
    from_visibility: Mapped[str] = mapped_column(String(16))
    to_channel: Mapped[str | None] = mapped_column(String(32))
    to_visibility: Mapped[str] = mapped_column(String(16), default="private")
    to_account_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(String(32))  # privacy | practicality | customer_choice
    method: Mapped[str] = mapped_column(String(32))  # dm_invite|chat_link|callback_form|...
    origin_message_id: Mapped[uuid.UUID | None]
    short_link_id: Mapped[uuid.UUID | None]
    consent_id: Mapped[uuid.UUID | None]
    offered_at: Mapped[datetime | None]
    taken_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    # offer_message_id, private_reply_to, recipient_id, follow_up_text, follow_up_message_id
    meta: Mapped[dict[str, Any]] = mapped_column(RedactedJSON, default=dict)


class ShortLink(IdMixin, TimestampMixin, Base):
    """A signed, expiring, single-purpose code bound to a conversation and customer."""

    __tablename__ = "short_links"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))  # chat | callback | email
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # e.g. identity_id (verify)
    meta: Mapped[dict[str, Any]] = mapped_column(RedactedJSON, default=dict)


class Callback(IdMixin, TimestampMixin, Base):
    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_conversation", "conversation_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    phone: Mapped[str] = mapped_column(String(32))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="requested")
    outcome: Mapped[str | None] = mapped_column(RedactedText)
    call_provider_id: Mapped[str | None] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(RedactedJSON, default=dict)


class HopTaker(IdMixin, TimestampMixin, Base):
    """Whoever submitted a public link's form: his own customer until he proves he is the
    public author (a code posted or sent from that account) or an agent confirms it."""

    __tablename__ = "hop_takers"
    __table_args__ = (Index("ix_hop_takers_proof", "workspace_id", "proof_hash"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"),
                                                       index=True)
    short_link_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("short_links.id"))
    hop_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hops.id"))
    # The taker's own customer (his session, the email or number he typed, his consents).
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    # The public author he says he is, and the handle that wrote the public post.
    claimed_customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"),
                                                           index=True)
    claimed_identity_id: Mapped[uuid.UUID | None]
    channel: Mapped[str] = mapped_column(String(32))  # webchat | voice | email
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|proven|confirmed
    proof_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the proof code
    proof_expires_at: Mapped[datetime | None]
    proven_by: Mapped[str | None] = mapped_column(String(16))  # public_post | dm | agent
    proven_at: Mapped[datetime | None]
    # proof_message_id, agent_id, merge_id
    meta: Mapped[dict[str, Any]] = mapped_column(RedactedJSON, default=dict)


class DetailRequest(IdMixin, TimestampMixin, Base):
    """Details an agent asked the customer for through a secure form (a delivery address, an
    order number, a date of birth): the fields asked, and the values given, encrypted at rest,
    shown to agents in the conversation and refused in public replies by the guard."""

    __tablename__ = "detail_requests"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"),
                                                       index=True)
    short_link_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("short_links.id"))
    fields: Mapped[list[Any]] = mapped_column(default=list)  # names from records.details.FIELDS
    note: Mapped[str | None] = mapped_column(String(300))  # why, written by the agent
    requested_by: Mapped[str | None] = mapped_column(String(64))  # the agent's or token's id
    values: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    submitted_at: Mapped[datetime | None]
