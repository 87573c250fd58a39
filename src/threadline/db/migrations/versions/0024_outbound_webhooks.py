"""outbound webhooks: webhook_subscriptions and webhook_deliveries

Revision ID: 0024
Revises: 0023
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0024"
down_revision: str | tuple[str, ...] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
