"""The KPI dashboards: read-only queries over `conversation_facts` (with `sla_outcomes`,
`agent_activity`, and the CSAT and quality tables through `feedback`), the same filters for
every group, drill-down to the conversations behind a number, streamed CSV and the journeys
(docs/dashboards.md). Services never commit; the one write is an agent-recorded origin
(`origins.py`) and the hourly cost setting (`costs.py`)."""
