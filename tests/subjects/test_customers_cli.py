"""`threadline customers export|erase`, run as an operator would (subprocess, own SQLite)."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

from tests.core.test_commands import run
from threadline.config import Settings
from threadline.contacts.models import Evidence
from threadline.contacts.service import create_customer, link_identity
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import get_or_create_default_workspace

NAME = "Cli Customer"


def seed(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runtime = Runtime.create(Settings(database_url=url), database_url=url, redis_url="")
    email = f"cli.{uuid.uuid4().hex[:10]}@example.org"
    with runtime.db.session() as session:
        ws = get_or_create_default_workspace(session)
        customer = create_customer(session, ws.id, name=NAME)
        link_identity(session, ws.id, customer.id, kind="email", address=email,
                      evidence=Evidence.AGENT)
        customer_id = str(customer.id)
    runtime.close()
    return customer_id, email


def database_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("cli.db*") if p.is_file())


class TestCustomersCommands:
    def test_export_then_erase_with_confirmation(self, tmp_path: Path) -> None:
        assert run(tmp_path, "migrate").returncode == 0
        customer_id, email = seed(tmp_path)
        target = tmp_path / "archive.json"
        out = run(tmp_path, "customers", "export", customer_id, "--out", str(target))
        assert out.returncode == 0, out.stderr
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        archive = json.loads(target.read_text())
        assert archive["customer"]["name"] == NAME
        assert [i["address"] for i in archive["identities"]] == [email]

        refused = run(tmp_path, "customers", "erase", customer_id, "--confirm", "Cli")
        assert refused.returncode != 0 and "confirmation_mismatch" in refused.stderr
        assert email.encode() in database_bytes(tmp_path)

        done = run(tmp_path, "customers", "erase", customer_id, "--confirm", NAME)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["counts"]["identities"] == 1
        raw = database_bytes(tmp_path)
        assert email.encode() not in raw and NAME.encode() not in raw

    def test_unknown_customer_fails_cleanly(self, tmp_path: Path) -> None:
        assert run(tmp_path, "migrate").returncode == 0
        out = run(tmp_path, "customers", "erase", str(uuid.uuid4()), "--confirm", "ERASE")
        assert out.returncode != 0 and "customer not found" in out.stderr
