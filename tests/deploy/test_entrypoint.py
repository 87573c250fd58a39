"""deploy/entrypoint.sh, run as the container and the systemd units run it (a real process, a
real SQLite file, a closed PostgreSQL port), outside any container."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
BIN = Path(sys.executable).parent / "threadline"
KEY = "k" * 64

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="no threadline executable beside python")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("THREADLINE_", "PGAPP"))}
    base.update(THREADLINE_BIN=str(BIN), THREADLINE_WAIT_SECONDS="1", **env)
    return subprocess.run(["bash", str(ENTRYPOINT), *args], env=base, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_no_role_is_a_usage_error() -> None:
    answer = run()
    assert answer.returncode == 64 and "usage" in answer.stderr


@pytest.mark.parametrize("role", ["web", "worker"])
def test_scaled_mode_refuses_to_start_without_a_secret_key(role: str) -> None:
    answer = run(role, THREADLINE_DATABASE_URL=f"postgresql://u@127.0.0.1:{closed_port()}/x")
    assert answer.returncode == 2
    assert "THREADLINE_SECRET_KEY is not set" in answer.stderr
    answer = run(role, THREADLINE_REDIS_URL="redis://127.0.0.1:6379/0",
                 THREADLINE_SECRET_KEY="short")
    assert answer.returncode == 2 and "at least 32" in answer.stderr


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / "threadline.env"
    env_file.write_text("# comment\n\nTHREADLINE_DATABASE_URL=postgresql://u@127.0.0.1:1/x?a=1&b=2\n"
                        "THREADLINE_SECRET_KEY=from-the-file-but-too-short\n")  # & is literal
    answer = run("worker", THREADLINE_ENV_FILE=str(env_file))
    assert answer.returncode == 2
    assert "27 characters" in answer.stderr  # the file's key, and the URL made it scaled
    answer = run("worker", THREADLINE_ENV_FILE=str(env_file), THREADLINE_SECRET_KEY="x")
    assert answer.returncode == 2 and "has 1 characters" in answer.stderr
    env_file.write_text("not a setting\n")
    answer = run("worker", THREADLINE_ENV_FILE=str(env_file))
    assert answer.returncode == 78 and "line 1" in answer.stderr


def test_waits_for_the_database_and_never_prints_its_password(tmp_path: Path) -> None:
    key_file = tmp_path / "secret"
    key_file.write_text(KEY + "\n")
    url = f"postgresql://threadline:hunter2-very-secret@127.0.0.1:{closed_port()}/threadline"
    answer = run("worker", THREADLINE_DATABASE_URL=url, THREADLINE_SECRET_KEY_FILE=str(key_file))
    assert answer.returncode == 69
    assert "the database does not answer" in answer.stderr
    assert "hunter2" not in answer.stderr + answer.stdout


def test_worker_waits_for_the_schema_and_migrate_brings_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threadline.db'}"
    answer = run("worker", THREADLINE_DATABASE_URL=url, THREADLINE_DATA_DIR=str(tmp_path))
    assert answer.returncode == 69
    assert "the schema is at empty" in answer.stderr and "entrypoint.sh migrate" in answer.stderr
    answer = run("migrate", THREADLINE_DATABASE_URL=url, THREADLINE_DATA_DIR=str(tmp_path))
    assert answer.returncode == 0, answer.stderr
    assert "database at head" in answer.stdout


def test_other_arguments_run_that_threadline_command() -> None:
    answer = run("keys", "generate")
    assert answer.returncode == 0, answer.stderr
    assert len(answer.stdout.strip()) == 44  # a Fernet key
