"""Listening: a workspace's rules and settings, and the public posts kept out of the queues.

`listening_rules`: what the workspace listens for (keywords, hashtags, the brand's names,
competitors' handles and names). `listening_settings`: one row per workspace (the
opportunity view's switch and wait, the defensive view's threshold, the recent-search pace
and cursors). `listened_posts`: one row per public post that matched a rule or that the noise
filter took out of the queues (decision 0333): stored, never lost, and turned into a
conversation in one step ("convert" for a listened post, "restore" for a filtered one).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow
from threadline.db.redacted import RedactedText


class RuleKind:
    KEYWORD = "keyword"
    HASHTAG = "hashtag"
    BRAND_NAME = "brand_name"
    COMPETITOR_HANDLE = "competitor_handle"
    COMPETITOR_NAME = "competitor_name"
    ALL = (KEYWORD, HASHTAG, BRAND_NAME, COMPETITOR_HANDLE, COMPETITOR_NAME)


class PostState:
    LISTENING = "listening"  # in the Listening view only, no conversation
    QUEUED = "queued"  # addressed to the brand: threaded as usual (also listed in Listening)
    FILTERED = "filtered"  # noise: in the Filtered view only, never in a queue
    CONVERTED = "converted"  # an agent turned it into a conversation
    RESTORED = "restored"  # an agent moved it out of the filter into the queue
    ALL = (LISTENING, QUEUED, FILTERED, CONVERTED, RESTORED)


class NoiseReason:
    RETWEET = "retweet"
    PROMOTION = "promotion"
    SPAM = "spam"
    NOT_FOR_BRAND = "not_for_brand"
    ALL = (RETWEET, PROMOTION, SPAM, NOT_FOR_BRAND)


class ListeningRule(IdMixin, TimestampMixin, Base):
    __tablename__ = "listening_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "value"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(80))  # normalised: lower case, no @ or #


class ListeningSettings(Base):
    __tablename__ = "listening_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"),
                                                    primary_key=True)
    opportunities_enabled: Mapped[bool] = mapped_column(default=True)
    opportunity_wait_minutes: Mapped[int] = mapped_column(default=60)
    defensive_wait_minutes: Mapped[int] = mapped_column(default=30)
    noise_filter: Mapped[bool] = mapped_column(default=True)
    search_interval_seconds: Mapped[int] = mapped_column(default=120)
    # per X account (str(account id)) -> the recent search's cursor {"since_id", ...}
    search_cursors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ListenedPost(IdMixin, TimestampMixin, Base):
    __tablename__ = "listened_posts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_account_id", "provider_id"),
        Index("ix_listened_posts_view", "workspace_id", "state", "posted_at"),
        Index("ix_listened_posts_reply", "workspace_id", "in_reply_to"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    channel_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str] = mapped_column(String(128))
    in_reply_to: Mapped[str | None] = mapped_column(String(128))
    author_id: Mapped[str] = mapped_column(String(128))  # the provider's user id
    author_handle: Mapped[str | None] = mapped_column(String(120))
    author_name: Mapped[str | None] = mapped_column(String(200))
    followers: Mapped[int | None]  # reach, where the provider gives it
    text: Mapped[str] = mapped_column(RedactedText)
    posted_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # search | webhook
    matched: Mapped[list[Any]] = mapped_column(default=list)  # ["keyword:outage", ...]
    competitor: Mapped[str | None] = mapped_column(String(80))  # the competitor it is about
    category: Mapped[str | None] = mapped_column(String(32))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=PostState.LISTENING)
    noise_reason: Mapped[str | None] = mapped_column(String(16))
    # the competitor's visible answer (a reply by its handle), when one was seen
    competitor_answered_at: Mapped[datetime | None]
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]  # converted or restored
    # the normalised item, to thread it later exactly as the inbound batch would have
    item: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def __repr__(self) -> str:
        return f"ListenedPost(id={self.id}, state={self.state!r})"
