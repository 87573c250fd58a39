"""hops: a public link's taker stays unverified until proven (placeholder until filled)

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | tuple[str, ...] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
