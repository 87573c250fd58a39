"""customer data lookup: the customer data connector's settings and cache

Revision ID: 0026
Revises: 0025
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0026"
down_revision: str | tuple[str, ...] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
