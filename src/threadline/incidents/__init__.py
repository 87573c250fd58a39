"""Incidents: bursts of similar public posts grouped, answered once after review, replied to
one by one, closed with a follow-up (docs/incidents.md)."""
