"""one line of migrations again: the desktop (0003) and hop (0005) branches join

Revision ID: 0006
Revises: 0003, 0005
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | tuple[str, ...] | None = ("0003", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
