"""The customer data connector of a workspace (`lookup_endpoints`: one per workspace, its
signing secret encrypted like channel credentials, decision 0104) and the short cache of
its answers per customer (`lookup_cache`, a table so that every web process of a scaled
deployment shares it). See docs/decisions/0320-customer-data-lookup.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow
from threadline.db.crypto import EncryptedJSON
from threadline.db.redacted import RedactedJSON


class Outcome:
    """What the latest call to the endpoint gave (`lookup_cache.outcome`)."""

    OK = "ok"  # 200 and a body that follows the contract
    NOT_FOUND = "not_found"  # 404: the brand's system does not know the customer
    TIMEOUT = "timeout"  # no complete answer within the configured seconds
    FAILED = "failed"  # any other answer: a status, a redirect, too large, not JSON...
    ALL = ("ok", "not_found", "timeout", "failed")


class LookupEndpoint(IdMixin, TimestampMixin, Base):
    """Where the workspace's own system answers "what do you know about this customer"."""

    __tablename__ = "lookup_endpoints"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    enabled: Mapped[bool] = mapped_column(default=True)
    timeout_seconds: Mapped[int] = mapped_column(SmallInteger, default=3)
    cache_seconds: Mapped[int] = mapped_column(Integer, default=60)
    # {"secret": "whsec_..."}: the whole object is one Fernet token (db/crypto.py)
    secret: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    secret_set_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LookupCacheEntry(IdMixin, Base):
    """The latest answer for one customer, until `expires_at`; `data` keeps the last good
    answer (shown as stale beside a later failure)."""

    __tablename__ = "lookup_cache"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    lookup_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error_code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    data: Mapped[dict[str, Any] | None] = mapped_column(RedactedJSON)
    data_at: Mapped[datetime | None]
