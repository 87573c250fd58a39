"""The dashboards' own indexes (migration 0022), declared here rather than in kpis/models.py
(the facts' owner); db/models.py imports this module with the models so that the metadata
Alembic compares has them.

`ix_conversation_facts_dashboard` holds, after (workspace_id, opened_at, conversation_id),
every column a dashboard groups, filters or sums: each dashboard query reads one range of
this index and never the table (on SQLite a read of the table's rows in opened_at order is a
random read per row: 3-4 times slower), and the drill-down's pages and the CSV export's
chunks are keyset reads in its order. The price is a second copy of those columns, written
when they change; the message counters, which change with every message, are left out (and
PostgreSQL takes at most 32 columns in an index: this one has 31)."""

from __future__ import annotations

from sqlalchemy import Index

from threadline.kpis.models import ConversationFacts

F = ConversationFacts

DASHBOARD_COLUMNS = (
    "workspace_id", "opened_at", "conversation_id", "origin_channel", "origin_visibility",
    "origin_account_id", "origin_source", "team_id", "assignee_id", "category", "relevance",
    "status", "channels",
    "sla_first_response_met", "sla_resolution_met", "fcr", "reopen_count",
    "first_response_s", "first_response_business_s", "resolution_s", "handle_s",
    "public_to_private", "hop_offered_s", "hop_taken", "returned_to_origin", "return_delay_s",
    "sentiment_start", "sentiment_end", "resolved_channel", "resolved_visibility", "journey")

DASHBOARD = Index("ix_conversation_facts_dashboard",
                  *(getattr(F, name) for name in DASHBOARD_COLUMNS))
