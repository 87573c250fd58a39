"""Migration 0035 matches the models (Alembic's comparison finds nothing for the incident
tables), and downgrades and upgrades again."""

from __future__ import annotations

from pathlib import Path

from tests.migrations import check_round_trip, has_table

TABLES = ("incidents", "incident_posts", "incident_events")


def _about_incidents(diff: object) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            name = getattr(part, "name", None)
            table = getattr(getattr(part, "table", None), "name", None)
            if name in TABLES or table in TABLES:
                return True
    return False


def test_0035_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    check_round_trip(tmp_path, before="0033", present=has_table("incident_posts"),
                     about=_about_incidents).dispose()
