"""The `whatsapp_templates` table: the message templates of a WhatsApp account's business
account, as the provider last listed them (decision 0324)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow


class WhatsAppTemplate(IdMixin, TimestampMixin, Base):
    """One template in one language. A sync replaces the account's rows with what the
    provider lists; a status webhook updates `status` at once and asks for a sync."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "name", "language",
                         name="uq_whatsapp_templates_account_name_language"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    channel_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channel_accounts.id"),
                                                          index=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))  # APPROVED, PENDING ... or UNKNOWN
    category: Mapped[str] = mapped_column(String(32))  # MARKETING, UTILITY ... or UNKNOWN
    components: Mapped[list[Any]] = mapped_column(default=list)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
