"""The `attachments` table: one file of a workspace, its bytes in the blob store."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin


class MediaFile(IdMixin, TimestampMixin, Base):
    """A file that came in with a message or was uploaded to send one. The bytes are stored
    once per content (`sha256`); `mime_type` is sniffed from them, never taken from the name
    or the sender. Inbound files are unique per (account, provider media id): a download
    that runs twice stores one row."""

    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_account_id", "provider_media_id",
                         name="uq_attachments_provider_media"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("conversations.id"),
                                                              index=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    channel_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_accounts.id"))
    provider_media_id: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))  # inbound | upload
    sha256: Mapped[str] = mapped_column(String(64))
    mime_type: Mapped[str] = mapped_column(String(100))  # sniffed
    declared_type: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # image | video | audio | document | sticker
    size: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(100))
    thumbnail_key: Mapped[str | None] = mapped_column(String(100))
    width: Mapped[int | None]
    height: Mapped[int | None]
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. {"pdf_active": [...]}
    created_by: Mapped[str | None] = mapped_column(String(64))
