"""Migration 0027 matches the models (Alembic's comparison finds nothing for
`detail_requests`), and downgrades and upgrades again."""

from __future__ import annotations

from tests.migrations import check_round_trip, has_table, mentions


def test_0027_matches_the_models_and_downgrades(tmp_path):
    check_round_trip(tmp_path, before="0026", present=has_table("detail_requests"),
                     about=mentions("detail_requests")).dispose()
