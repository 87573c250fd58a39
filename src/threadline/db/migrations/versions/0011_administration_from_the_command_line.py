"""account, agent and token administration: no schema change

`threadline accounts|agents disable/enable` and `threadline tokens revoke` use the columns
that exist already (`channel_accounts.active`, `agents.active`, `api_tokens.revoked_at`); see
docs/decisions/0303-command-line-package-and-administration.md.

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | tuple[str, ...] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
