"""secrets at rest: encrypted channel credentials, payload retention (placeholder until filled)

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
