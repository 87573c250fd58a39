"""Acceptance: an exported archive holds everything about the customer; after the erasure no
table of the database (every column of every table the inspector finds, JSON and base64
decoded) holds any of his coordinates or texts, nor do the SQLite files on disk once the
compaction job has run. The bystander keeps everything. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from tests.e2e.conftest import wait_for
from tests.subjects.conftest import History
from threadline.events.models import OutboxJob, WorkStatus
from threadline.jobs.runtime import Runtime
from threadline.subjects.service import COMPACT_JOB

B64 = re.compile(rb"[A-Za-z0-9+/=]{40,}")


def _forms(value: Any) -> list[str]:
    """A stored value as text, plus whatever base64 inside it decodes to."""
    if value is None:
        return []
    raw = value if isinstance(value, bytes | bytearray | memoryview) else str(value).encode()
    raw = bytes(raw)
    out = [raw.decode("utf-8", "replace")]
    for blob in B64.findall(raw.replace(b"\\n", b"").replace(b"\\r", b"")):
        try:
            out.append(base64.b64decode(blob + b"=" * (-len(blob) % 4)).decode(
                "utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    return out


def scan_database(runtime: Runtime, needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a needle is found, over every table."""
    found = []
    lowered = [n.lower() for n in needles]
    engine = runtime.db.engine
    inspector = inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in conn.execute(text(f'SELECT {quoted} FROM "{table}"')):
                for column, value in zip(columns, row, strict=True):
                    for form in _forms(value):
                        low = form.lower()
                        found.extend((table, column, n) for n in lowered if n in low)
    return sorted(set(found))


def sqlite_files(runtime: Runtime) -> list[Path]:
    url = make_url(str(runtime.db.engine.url))
    base = Path(str(url.database))
    return [p for p in (base, Path(f"{base}-wal"), Path(f"{base}-journal")) if p.exists()]


def needles_of(history: History, archive: dict[str, Any]) -> list[str]:
    out = [history.tag, history.name, *history.coordinates]
    for ident in archive["identities"]:
        out.extend(v for v in (ident["address"], ident["handle"]) if v and len(v) >= 6)
    out.extend(c["address"] for c in archive["consents"])
    return sorted(set(out))


class TestExportAndErase:
    archive: dict[str, Any] = {}

    def test_export_holds_his_whole_history(self, history: History) -> None:
        h = history.harness
        answer = h.api.get(f"/customers/{history.customer_id}/export")
        assert answer.status_code == 200, answer.text
        assert "attachment" in answer.headers["content-disposition"]
        archive = answer.json()
        TestExportAndErase.archive = archive
        assert archive["customer"]["id"] == history.customer_id
        assert archive["customer"]["name"] == history.name
        assert len(archive["merged_customers"]) >= 1  # WhatsApp (and email) merged in
        kinds = {(i["kind"], i["evidence"]) for i in archive["identities"]}
        assert {k for k, _ in kinds} >= {"x", "phone", "email", "webchat"}
        assert ("email", "customer_asserted") in kinds
        assert {c["purpose"] for c in archive["consents"]} >= {"callback"}
        texts = " ".join(m["text"] for m in archive["messages"])
        for said in history.texts:
            assert said in texts
        assert any(m["kind"] == "note" for m in archive["messages"])
        assert any((a.get("name") or "").startswith("receipt-") for m in archive["messages"]
                   for a in m["attachments"])
        assert {hp["method"] for hp in archive["hops"]} == {"chat_link", "callback_form"}
        assert archive["callbacks"] and archive["callbacks"][0]["phone"].startswith("+1415")
        assert archive["short_links"] and "code_hash" not in archive["short_links"][0]
        assert archive["merges"]
        assert set(history.conversations) <= {c["id"] for c in archive["conversations"]}
        actions = {a["action"] for a in archive["audit_events"]}
        assert {"customer.created", "identity.linked", "hop.taken"} <= actions

        # The export is audited: who and when, not the data.
        audit = [a for a in h.api.get(f"/customers/{history.customer_id}/export").json()[
            "audit_events"] if a["action"] == "customer.exported"]
        assert audit and audit[0]["actor_type"] == "token"
        assert history.tag not in str(audit[0]["data"])

    def test_erase_leaves_no_trace_in_any_table(self, history: History,
                                                runtime: Runtime) -> None:
        h = history.harness
        needles = needles_of(history, self.archive)
        before = scan_database(runtime, needles)
        assert {t for t, _, _ in before} >= {"messages", "identities", "inbound_events",
                                             "customers", "consents", "callbacks"}
        if runtime.db.dialect == "sqlite":  # the file check below can see him
            assert history.tag.encode() in b"".join(p.read_bytes()
                                                    for p in sqlite_files(runtime))

        answer = h.api.post(f"/customers/{history.customer_id}/erase")
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert history.customer_id in report["customers"] and len(report["customers"]) >= 2
        assert report["counts"]["messages"] >= len(history.texts)
        assert report["counts"]["inbound_events"] >= 4  # X x2, WhatsApp, email (+ chat)

        def compacted() -> bool:
            with runtime.db.session(write=False) as s:
                return s.scalar(select(OutboxJob.status).where(
                    OutboxJob.workspace_id == h.workspace_id,
                    OutboxJob.name == COMPACT_JOB)) == WorkStatus.DONE
        wait_for(compacted, timeout=60, what="the compaction job")

        leaks = scan_database(runtime, needles)
        print(f"\nscanned {len(inspect(runtime.db.engine).get_table_names())} tables for "
              f"{len(needles)} needles: before erasure {len(before)} (table, column, needle) "
              f"hits, after {len(leaks)}")
        assert leaks == []

        if runtime.db.dialect == "sqlite":
            files = sqlite_files(runtime)
            raw = b"".join(p.read_bytes() for p in files)
            in_file = [n for n in needles if n.lower().encode() in raw.lower()]
            print(f"SQLite files {[p.name for p in files]}: {len(raw)} bytes, "
                  f"needles found: {in_file}")
            assert in_file == []

        # The bystander keeps everything; the erasure itself is audited without data.
        with runtime.db.engine.connect() as conn:
            kept = conn.execute(text("SELECT count(*) FROM messages WHERE text = :t"),
                                {"t": history.bystander_text}).scalar()
            erased = conn.execute(text(
                "SELECT actor_type, data FROM audit_events WHERE action = 'customer.erased' "
                "AND subject_id = :c"), {"c": history.customer_id}).all()
        assert kept == 1
        assert len(erased) == 1 and erased[0][0] == "token"
        page = h.api.get(f"/customers/{history.customer_id}")
        assert page.status_code == 200 and page.json()["name"] is None
        assert page.json()["identities"] == [] and page.json()["consents"] == []


@pytest.fixture(autouse=True)
def _no_parallel(request: pytest.FixtureRequest) -> None:
    """The file scan reads the whole shared database: it cannot share it with xdist."""
    if request.config.getoption("numprocesses", default=None):
        pytest.fail("run tests/subjects without -n (it scans the whole database file)")
