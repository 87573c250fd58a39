"""CRM sync: CRM connections, links and the sync log

Revision ID: 0025
Revises: 0024
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0025"
down_revision: str | tuple[str, ...] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
