"""priority as P1..P4 and the conversation's relevance (queue order)

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0017"
down_revision: str | tuple[str, ...] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
