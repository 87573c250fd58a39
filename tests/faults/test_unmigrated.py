"""Migrations are an explicit step: a web process started with --no-migrate and a worker
refuse a database whose schema is not this release's, with a message that says what to do,
and start once `threadline migrate` has run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from threadline.config import Settings
from threadline.db.engine import Database
from threadline.db.migrate import schema_revisions, upgrade


def _threadline(url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_")}
    env.update(THREADLINE_DATABASE_URL=url, THREADLINE_DATA_DIR=str(Path(url[10:]).parent))
    return subprocess.run([sys.executable, "-m", "threadline.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_serve_and_worker_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    for args in (("serve", "--web", "--no-migrate", "--port", "1"), ("worker",)):
        done = _threadline(url, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "the database is at no schema at all" in done.stderr
        assert "Run `threadline migrate` once" in done.stderr
        assert "Traceback" not in done.stderr


def test_an_older_schema_is_refused_too(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    try:
        upgrade(db, "0012")
        current, needed = schema_revisions(db)
    finally:
        db.dispose()
    assert current == {"0012"} and current != needed
    done = _threadline(url, "worker")
    assert done.returncode == 2
    assert "the database is at 0012; this release needs" in done.stderr


def test_after_migrate_the_schema_is_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    assert _threadline(url, "migrate").returncode == 0
    db = Database(url)
    try:
        current, needed = schema_revisions(db)
    finally:
        db.dispose()
    assert current == needed
