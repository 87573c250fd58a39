"""The erasure registry accounts for every table and every text column of the migrated
database: a table or column added without deciding what erasure does with it fails here."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, Column, MetaData, String, Table, Text, Uuid, create_engine

from threadline.jobs.runtime import Runtime
from threadline.subjects.erasers import ERASERS, registry, uncovered


class TestRegistryCoversTheSchema:
    def test_every_table_and_text_column_of_the_migrated_database_is_decided(
            self, runtime: Runtime) -> None:
        assert uncovered(runtime.db.engine) == []

    def test_every_kept_column_has_a_reason(self) -> None:
        for eraser in ERASERS:
            assert all(reason.strip() for reason in eraser.kept.values()), eraser.table
            assert not set(eraser.kept) & set(eraser.scrubbed), eraser.table

    def test_a_new_table_or_column_without_a_decision_is_reported(self, tmp_path: Path,
                                                                   runtime: Runtime) -> None:
        engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
        metadata = MetaData()
        Table("pending_takers", metadata, Column("id", Uuid, primary_key=True),
              Column("email", String(320)))
        Table("messages", metadata, Column("id", Uuid, primary_key=True),
              Column("text", Text), Column("reactions", JSON))
        metadata.create_all(engine)
        assert uncovered(engine) == [
            "messages.reactions: neither scrubbed nor kept with a reason",
            "pending_takers: no eraser"]
        assert "messages" in registry()
