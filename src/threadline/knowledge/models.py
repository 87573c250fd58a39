"""Knowledge-base articles, their revisions and the help centre's votes.

An article is Markdown written by the brand (never customer data): one row per workspace,
language and slug. Every save keeps a revision; publishing makes the current text public
in the help centre and searchable; archiving withdraws it. Votes are one per browser per
article: the browser is known only by a keyed hash of a random cookie (`voter`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow


class ArticleStatus:
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"
    ALL = (DRAFT, PUBLISHED, ARCHIVED)


class Article(IdMixin, TimestampMixin, Base):
    __tablename__ = "kb_articles"
    __table_args__ = (
        UniqueConstraint("workspace_id", "language", "slug"),
        Index("ix_kb_articles_workspace_status_language", "workspace_id", "status", "language"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    questions: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=ArticleStatus.DRAFT)
    views: Mapped[int] = mapped_column(default=0)
    helpful_yes: Mapped[int] = mapped_column(default=0)
    helpful_no: Mapped[int] = mapped_column(default=0)
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Article(id={self.id}, slug={self.slug!r}, status={self.status!r})"


class ArticleRevision(IdMixin, TimestampMixin, Base):
    """The text of an article as one save left it (`number` counts from 1 per article)."""

    __tablename__ = "kb_article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # who saved it: "agent", "token" or "system", and that actor's id
    author_type: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(200))


class ArticleVote(IdMixin, TimestampMixin, Base):
    """One browser's answer to "was this helpful?" (it may change its mind, never vote twice)."""

    __tablename__ = "kb_article_votes"
    __table_args__ = (UniqueConstraint("article_id", "voter"),)

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    voter: Mapped[str] = mapped_column(String(64))  # keyed hash of the browser's cookie
    helpful: Mapped[bool]
