"""The search index's one table: a document per searchable thing (docs/search.md).

`search_documents` holds what may be found, already masked: an article's text as the
knowledge base published it, a conversation's subject and labels, a message's text as
agents see it (personal data posted in public masked, decision 0329), a customer's names,
handles, emails and phones. The full-text index over it is database-specific and made by
migration 0032, not by these models: on SQLite an FTS5 table kept in step by triggers, on
PostgreSQL a `tsv` tsvector column with a GIN index, written by `search.backends`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, utcnow

# An integer primary key on both databases: SQLite's FTS5 table uses it as its rowid.
SeqId = BigInteger().with_variant(Integer(), "sqlite")


class Kind:
    ARTICLE = "article"
    CONVERSATION = "conversation"
    MESSAGE = "message"
    CUSTOMER = "customer"
    ALL = ("article", "conversation", "message", "customer")
    # indexed by Threadline itself; other kinds come from other packages (put_document)
    OWN = ("conversation", "message", "customer")


class SearchDocument(Base):
    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "ref_id"),
        Index("ix_search_documents_conversation", "conversation_id"),
        Index("ix_search_documents_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[uuid.UUID]
    conversation_id: Mapped[uuid.UUID | None]
    customer_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    # public | private | note (messages); None for the other kinds
    visibility: Mapped[str | None] = mapped_column(String(16))
    author_type: Mapped[str | None] = mapped_column(String(16))
    # the source's own version (a message's edit time, a customer's update time): a hook
    # that finds the same version indexed has nothing to do
    version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime | None]
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
