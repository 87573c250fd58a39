"""data-subject requests: no schema change

Export and erasure need no table of their own: the audit log records that a request happened
(`customer.exported`, `customer.erased`: who, when, which customer; never the data), and an
erased customer keeps his (emptied) row so that his conversations and merges still point at
something. See docs/decisions/0108-data-subject-requests.md.

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | tuple[str, ...] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
