"""agents: password lifecycle and second factor (placeholder until filled)

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | tuple[str, ...] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
