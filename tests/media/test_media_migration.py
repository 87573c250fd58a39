"""Migration 0028 matches the models (Alembic's comparison finds nothing for the
`attachments` table), and downgrades and upgrades again."""

from __future__ import annotations

from pathlib import Path

from tests.migrations import check_round_trip, has_table


def _about_attachments(diff: object) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            name = getattr(part, "name", None)
            table = getattr(getattr(part, "table", None), "name", None)
            if "attachments" in (name, table) and table != "messages":
                return True
    return False


def test_0028_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    check_round_trip(tmp_path, before="0027", present=has_table("attachments"),
                     about=_about_attachments).dispose()
