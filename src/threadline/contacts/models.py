"""Customers, their identities (with the evidence of each link), consent, and merges."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow
from threadline.db.redacted import RedactedJSON, RedactedText


class Evidence:
    VERIFIED = "verified"  # code or signed link
    CUSTOMER = "customer_asserted"  # typed by the customer in a form
    AGENT = "agent_asserted"
    PROVIDER = "provider"  # the provider says this handle wrote the message
    ALL = ("verified", "customer_asserted", "agent_asserted", "provider")


class Customer(IdMixin, TimestampMixin, Base):
    __tablename__ = "customers"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str | None]
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    preferred_channel: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(RedactedText)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(RedactedJSON, default=dict)
    external_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(IdMixin, TimestampMixin, Base):
    """One handle or coordinate: (kind, address) is unique in a workspace."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "address"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(320))
    handle: Mapped[str | None]
    display_name: Mapped[str | None]
    evidence: Mapped[str] = mapped_column(String(32), default=Evidence.PROVIDER)
    verified_at: Mapped[datetime | None]
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(IdMixin, TimestampMixin, Base):
    __tablename__ = "consents"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(320))
    purpose: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))  # form | verbal | dm
    wording: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class CustomerMerge(IdMixin, TimestampMixin, Base):
    """A merge of `source` into `target`, with what moved, so it can be undone."""

    __tablename__ = "customer_merges"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    moved: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None]


class MergeSuggestion(IdMixin, TimestampMixin, Base):
    """Two customers that probably are one person; an agent decides."""

    __tablename__ = "merge_suggestions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "customer_a_id", "customer_b_id"),
        Index("ix_merge_suggestions_b", "customer_b_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    customer_a_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_b_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|merged|dismissed
