"""Migration 0029 matches the models (Alembic's comparison finds nothing for
`whatsapp_templates`), and downgrades and upgrades again."""

from __future__ import annotations

from tests.migrations import check_round_trip, has_table, mentions


def test_0029_matches_the_models_and_downgrades(tmp_path):
    check_round_trip(tmp_path, before="0028", present=has_table("whatsapp_templates"),
                     about=mentions("whatsapp_templates")).dispose()
