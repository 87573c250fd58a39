"""KPIs with the conversation as the base unit: episodes, channel segments, facts per
conversation and the agents' active handle time (docs/kpis.md)."""
