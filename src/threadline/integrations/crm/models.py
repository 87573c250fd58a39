"""CRM sync tables: a workspace's connection to a CRM, the link of a customer to his CRM
contact, the CRM activity that records a conversation, and the per-customer sync log.

Provider ids are stored so that every step repeats safely: a job run twice updates the
activity it created and never creates a second one (docs/decisions/0319-crm-sync.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow
from threadline.db.crypto import EncryptedJSON


class CrmKind:
    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"
    ALL = ("salesforce", "hubspot")


class Outcome:
    OK = "ok"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"
    ALL = ("ok", "skipped", "retry", "failed")


class CrmConnection(IdMixin, Base):
    """A workspace's CRM: where (base URL, checked like provider URLs), how to sign in
    (credentials, encrypted at rest like channel secrets), which contact and account fields
    the customer panel shows, whether an unmatched customer becomes a new contact, and the
    progress of a backfill (`backfill_done` of `backfill_total` conversations)."""

    __tablename__ = "crm_connections"
    __table_args__ = (UniqueConstraint("workspace_id", "kind"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    base_url: Mapped[str] = mapped_column(String(2048))
    credentials: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    # the access token and instance URL of the last sign-in (encrypted; empty: sign in again)
    session_token: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    contact_fields: Mapped[list[Any]] = mapped_column(default=list)
    account_fields: Mapped[list[Any]] = mapped_column(default=list)
    create_contacts: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # api_version...
    backfill_total: Mapped[int] = mapped_column(default=0)
    backfill_done: Mapped[int] = mapped_column(default=0)
    backfill_started_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrmLink(IdMixin, Base):
    """One customer's CRM contact on one connection (one link per surviving customer: a
    merge moves the source's link or drops it for the target's), with the contact and
    account fields last pulled for the customer panel."""

    __tablename__ = "crm_links"
    __table_args__ = (UniqueConstraint("connection_id", "customer_id"),
                      Index("ix_crm_links_connection_external", "connection_id", "external_id"))

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crm_connections.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    matched_by: Mapped[str] = mapped_column(String(16))  # email|phone|external_id|created
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fields_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrmActivity(IdMixin, Base):
    """The CRM record of one conversation (a HubSpot note, a Salesforce task): created once,
    then updated (at resolution). `lease_until` keeps two workers from writing it at once;
    `attempted_at` without an `external_id` means a create may have happened: look it up by
    its marker before creating again."""

    __tablename__ = "crm_activities"
    __table_args__ = (UniqueConstraint("connection_id", "conversation_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crm_connections.id", ondelete="CASCADE"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"),
                                                       index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    contact_external_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str | None] = mapped_column(String(16))  # the conversation status pushed
    attempted_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    synced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrmSyncLog(IdMixin, Base):
    """What the sync did for a customer: matched, created, pushed, pulled, retried, failed
    (a bounded reason, never a credential or a message text)."""

    __tablename__ = "crm_sync_log"
    __table_args__ = (Index("ix_crm_sync_log_customer_at", "customer_id", "created_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crm_connections.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("conversations.id"))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
