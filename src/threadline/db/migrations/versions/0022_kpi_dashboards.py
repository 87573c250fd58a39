"""KPI dashboards: covering indexes (kpis/dashboards/indexes.py)

`ix_conversation_facts_dashboard`: (workspace_id, opened_at, conversation_id) then every
column a dashboard reads, so that each dashboard query is one range of the index (no read of
the table) and the drill-down and CSV export page through it by keyset.

Revision ID: 0022
Revises: 0018
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | tuple[str, ...] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DASHBOARD_COLUMNS = [
    "workspace_id", "opened_at", "conversation_id", "origin_channel", "origin_visibility",
    "origin_account_id", "origin_source", "team_id", "assignee_id", "category", "relevance",
    "status", "channels",
    "sla_first_response_met", "sla_resolution_met", "fcr", "reopen_count",
    "first_response_s", "first_response_business_s", "resolution_s", "handle_s",
    "public_to_private", "hop_offered_s", "hop_taken", "returned_to_origin", "return_delay_s",
    "sentiment_start", "sentiment_end", "resolved_channel", "resolved_visibility", "journey"]


def upgrade() -> None:
    op.create_index("ix_conversation_facts_dashboard", "conversation_facts", DASHBOARD_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_conversation_facts_dashboard", table_name="conversation_facts")
