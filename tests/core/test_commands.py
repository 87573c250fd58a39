"""The command line of docs/design.md, run as a user would (subprocess, fresh SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, shared_data

pytestmark = pytest.mark.slow  # long: run first (tests/conftest.py)


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, THREADLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               THREADLINE_DATA_DIR=str(tmp_path))
    env.pop("THREADLINE_REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "threadline.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


class TestCommands:
    def test_migrate_accounts_tokens_and_agents(self, tmp_path):
        assert run(tmp_path, "migrate").returncode == 0
        out = run(tmp_path, "accounts", "create", "--kind", "api", "--name", "crm",
                  "--config", '{"secret": "s3cret"}')
        assert out.returncode == 0, out.stderr
        account = json.loads(out.stdout)
        assert account["webhook_path"] == f"/webhooks/api/{account['id']}"
        token = json.loads(run(tmp_path, "tokens", "create", "--role", "admin").stdout)
        assert token["token"].startswith("tl_")
        agent = json.loads(run(tmp_path, "agents", "create", "--email", "a@b.example",
                               "--role", "agent").stdout)
        assert len(agent["password"]) >= 12
        bad = run(tmp_path, "accounts", "create", "--kind", "nope", "--name", "x")
        assert bad.returncode != 0 and "unknown channel kind" in bad.stderr + bad.stdout
        bad_json = run(tmp_path, "accounts", "create", "--kind", "api", "--name", "x",
                       "--config", "{not json")
        assert bad_json.returncode != 0

    def test_replay_then_serve_the_result(self, tmp_path):
        csv = shared_data("twcs", "head5000_all_brands", "twcs_head5000.csv")
        small = tmp_path / "small.csv"
        small.write_text("".join(csv.read_text().splitlines(keepends=True)[:201]))
        out = run(tmp_path, "replay", str(small))
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout[out.stdout.index("{"):])
        assert result["stored"] == result["rows"] > 150
        token = json.loads(run(tmp_path, "tokens", "create", "--role", "agent").stdout)["token"]
        from threadline.config import Settings
        from threadline.jobs.runtime import Runtime
        from threadline.web.app import create_app

        url = f"sqlite:///{tmp_path / 'cli.db'}"
        rt = Runtime.create(Settings(database_url=url), database_url=url, redis_url="")
        server = LiveServer(create_app(rt, workers=0)).start()
        try:
            items = httpx.get(f"{server.url}/api/v1/conversations",
                              headers={"Authorization": f"Bearer {token}"},
                              params={"limit": 200, "relevance": "all"}).json()["items"]
            assert sum(i["message_count"] for i in items) == result["rows"]
        finally:
            server.stop()
            rt.close()

    def test_bench_prints_one_json_object(self, tmp_path):
        out = run(tmp_path, "bench", "nope", "--json")
        assert out.returncode != 0
