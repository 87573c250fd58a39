"""Migration 0030 matches the models (Alembic's comparison finds nothing for `agents.phone`),
and downgrades and upgrades again."""

from __future__ import annotations

from pathlib import Path

from tests.migrations import check_round_trip, has_column, mentions


def test_0030_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    check_round_trip(tmp_path, before="0029", present=has_column("agents", "phone"),
                     about=mentions("agents", "phone")).dispose()
