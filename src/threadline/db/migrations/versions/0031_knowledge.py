"""knowledge: articles, their revisions and the help centre's votes

`kb_articles`: one Markdown article per (workspace, language, slug) with its category, tags,
example questions, status (draft | published | archived), views and helpful counters;
`kb_article_revisions`: every save's title and body with its author; `kb_article_votes`: one
"was this helpful?" answer per browser (a hash of a random cookie) and article
(decision 0328).

Revision ID: 0031
Revises: 0030
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0031"
down_revision: str | tuple[str, ...] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("questions", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("helpful_yes", sa.Integer(), nullable=False),
        sa.Column("helpful_no", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("published_at", WHEN, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_kb_articles_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("workspace_id", "language", "slug",
                            name=op.f("uq_kb_articles_workspace_id_language_slug")),
    )
    op.create_index("ix_kb_articles_workspace_status_language", "kb_articles",
                    ["workspace_id", "status", "language"])
    op.create_table(
        "kb_article_revisions",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_type", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.String(length=64), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE",
                                name=op.f("fk_kb_article_revisions_article_id_kb_articles")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_kb_article_revisions_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_revisions")),
        sa.UniqueConstraint("article_id", "number",
                            name=op.f("uq_kb_article_revisions_article_id_number")),
    )
    op.create_index(op.f("ix_kb_article_revisions_workspace_id"), "kb_article_revisions",
                    ["workspace_id"])
    op.create_table(
        "kb_article_votes",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE",
                                name=op.f("fk_kb_article_votes_article_id_kb_articles")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_kb_article_votes_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_votes")),
        sa.UniqueConstraint("article_id", "voter",
                            name=op.f("uq_kb_article_votes_article_id_voter")),
    )
    op.create_index(op.f("ix_kb_article_votes_workspace_id"), "kb_article_votes",
                    ["workspace_id"])


def downgrade() -> None:
    op.drop_table("kb_article_votes")
    op.drop_table("kb_article_revisions")
    op.drop_index("ix_kb_articles_workspace_status_language", table_name="kb_articles")
    op.drop_table("kb_articles")
