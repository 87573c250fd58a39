"""Outbound webhooks: a workspace's subscriptions (URL, event types, signing secret), one
delivery per event and subscription (the receiver's idempotency key is its `event_id`, the
`webhook-id` header), and every attempt of a delivery with its response code (the log)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow
from threadline.db.crypto import EncryptedJSON

SeqId = BigInteger().with_variant(Integer(), "sqlite")


class SubscriptionStatus:
    ACTIVE = "active"
    DISABLED = "disabled"
    ALL = ("active", "disabled")


class DeliveryStatus:
    PENDING = "pending"  # waiting for its first attempt or its next retry
    DELIVERED = "delivered"  # a 2xx came back
    FAILED = "failed"  # attempts used up, 410 Gone, or the subscription was disabled
    ALL = ("pending", "delivered", "failed")


class WebhookSubscription(IdMixin, Base):
    """Where a workspace's events go. The secret (`whsec_…`) is stored encrypted (decision
    0104) and shown once, when the subscription is created or its secret rotated."""

    __tablename__ = "webhook_subscriptions"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[Any]] = mapped_column(default=list)
    secret: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.ACTIVE)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one subscription. Deliveries of a subscription that share an
    `ordering_key` (the conversation) go out one after the other in id order."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "subscription_id", "ordering_key", "status", "id"),
        Index("ix_webhook_deliveries_workspace", "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    ordering_key: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One try of a delivery: when, the response code (none: no response) and how long."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        SeqId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(default=0)
