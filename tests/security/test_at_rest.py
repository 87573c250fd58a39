"""Secrets at rest (issue 10, finding 5): channel credentials encrypted, card data never stored
in clear, raw payloads purged after their retention (docs/decisions/0104-secrets-at-rest.md)."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import select, text, update

from tests.conftest import scan_database
from tests.core.test_durability import own_database
from tests.desktop.conftest import desk_for
from tests.e2e.conftest import E2E, wait_for
from tests.factories import api_account, message_event, post_events
from tests.secrets_scan import holders
from threadline.config import Settings
from threadline.conversations.models import Message
from threadline.db.base import utcnow
from threadline.db.crypto import EncryptionKeyError, Keyring, bind_keyring
from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.events.models import AuditEvent, InboundEvent, OutboxJob, StreamEvent
from threadline.events.service import audit, enqueue, publish
from threadline.jobs.retention import PURGE_JOB, purge_raw_payloads, schedule_purge
from threadline.sandbox.providers import telegram as stg
from threadline.workspace.models import ChannelAccount, Template

BOT_TOKEN = "123456:ABC-sandbox_token"
CARD = "5555 5555 5555 4444"
CARD_MASK = "[card •••• 4444]"


def raw_config(runtime: Any, account_id: str) -> str:
    with runtime.db.engine.connect() as conn:
        value: str = conn.execute(text("SELECT config FROM channel_accounts WHERE id = :i"),
                                  {"i": _db_id(runtime, account_id)}).scalar_one()
    return value


def _db_id(runtime: Any, account_id: str) -> Any:
    ident = uuid.UUID(account_id)
    return ident.hex if runtime.db.dialect == "sqlite" else ident


class TestCardDataOverHttp:
    def test_card_and_cvc_posted_over_a_signed_webhook_leave_no_trace(
            self, e2e: E2E, runtime, app, workspace_id) -> None:
        config = {"bot_token": BOT_TOKEN, "secret_token": "sandbox_secret-9",
                  "api_base_url": e2e.sandbox_url("/telegram")}
        account = e2e.account("telegram", config)
        chat = random.randrange(10**8, 10**9)
        words = f"{e2e.tag} charged twice, card {CARD} exp 11/29 cvc 737"
        e2e.post(stg.telegram_message_webhook(account, config, chat_id=chat, user_id=chat,
                                              text=words, message_id=4242))
        conv, message = e2e.wait_message(f"{chat}:4242")
        assert message["text"] == f"{e2e.tag} charged twice, card {CARD_MASK} exp [removed] " \
                                  "cvc [removed]"
        desk = desk_for(app, runtime, workspace_id, "agent")
        page = desk.get(f"/conversations/{conv['id']}").text
        assert CARD_MASK in page and CARD not in page and "cvc 737" not in page
        with runtime.db.engine.connect() as conn:
            assert holders(conn, [CARD, CARD.replace(" ", ""), "cvc 737", "11/29"]) == {}
            payload = conn.execute(select(InboundEvent.payload).where(
                InboundEvent.channel_account_id == uuid.UUID(account))).scalar_one()
        assert CARD_MASK in json.dumps(payload, ensure_ascii=False)

        # credentials: ciphertext in the column, and the adapter still sends with them
        stored = raw_config(runtime, account)
        assert stored.startswith("gAAAAA") and BOT_TOKEN not in stored
        reply = e2e.sent(conv["id"], f"Refunded {e2e.tag}, your card {CARD} is safe",
                         visibility="private")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("telegram", method="POST", path_contains=f"/bot{BOT_TOKEN}/",
                           text=e2e.tag)
        assert CARD not in call["body"] and CARD_MASK in call["json"]["text"]
        assert sent["text"] == f"Refunded {e2e.tag}, your card {CARD_MASK} is safe"


class TestCardDataInStorage:
    def test_public_card_is_masked_flagged_and_reveal_keeps_the_mask(
            self, runtime, app, workspace_id, client, worker) -> None:
        acc = api_account(runtime, workspace_id)
        text_in = f"@acme my card {CARD}, CVV: 123, ssn 123-45-6789, password: Hunter2x"
        assert post_events(client, acc, [message_event("atrest-1", text=text_in)]
                           ).status_code == 200
        with runtime.db.session(write=False) as s:
            raw = s.scalar(select(InboundEvent.payload).where(
                InboundEvent.channel_account_id == acc.id))
        assert CARD in json.dumps(raw)  # kept raw until processed (store, then acknowledge)
        worker.drain()
        conv = client.get("/api/v1/conversations").json()["items"][0]
        msg = client.get(f"/api/v1/conversations/{conv['id']}").json()["messages"][0]
        assert msg["masked"] is True and "[CREDIT_CARD]" in msg["text"]
        assert {p["type"] for p in msg["triage"]["pii"]} >= {"CREDIT_CARD", "CARD_SECURITY",
                                                            "US_SSN", "PASSWORD"}
        shown = client.post(f"/api/v1/conversations/{conv['id']}/messages/{msg['id']}/reveal")
        assert shown.json()["text"] == (f"@acme my card {CARD_MASK}, CVV: [removed], "
                                        "ssn [SSN •••• 6789], password: [password removed]")
        page = desk_for(app, runtime, workspace_id, "agent").get(
            f"/conversations/{conv['id']}").text
        assert "[CREDIT_CARD]" in page and CARD not in page
        assert "SSNs and passwords are never stored: they stay masked" in page
        with runtime.db.session(write=False) as s:
            raw = s.scalar(select(InboundEvent.payload).where(
                InboundEvent.channel_account_id == acc.id))
            flagged = s.scalar(select(AuditEvent.data).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "message.pii_flagged"))
        assert CARD not in json.dumps(raw) and "Hunter2x" not in json.dumps(raw)
        assert raw["id"] == "evt-atrest-1"  # identifiers are left alone
        assert flagged["types"] == ["CARD_SECURITY", "CREDIT_CARD", "PASSWORD", "US_SSN"]

    def test_agents_private_message_is_stored_masked(self, runtime, workspace_id, client,
                                                     worker) -> None:
        acc = api_account(runtime, workspace_id)
        post_events(client, acc, [message_event("atrest-2", text="hi", visibility="private",
                                                thread_key="dm:2")])
        worker.drain()
        conv = client.get("/api/v1/conversations").json()["items"][0]
        public = client.post(f"/api/v1/conversations/{conv['id']}/messages",
                             json={"text": f"card {CARD}", "visibility": "public"})
        assert public.status_code == 422  # refused in public, as before
        private = client.post(f"/api/v1/conversations/{conv['id']}/messages",
                              json={"text": f"is it {CARD}?", "visibility": "private"})
        assert private.status_code == 201
        with runtime.db.session(write=False) as s:
            texts = list(s.scalars(select(Message.text).where(
                Message.conversation_id == uuid.UUID(conv["id"]))))
        assert f"is it {CARD_MASK}?" in texts and not any(CARD in t for t in texts)

    def test_every_writer_of_text_and_json_masks(self, runtime, workspace_id) -> None:
        words = f"card {CARD} cvc 321"
        with runtime.db.session() as s:
            audit(s, workspace_id, "test.note", "workspace", workspace_id, data={"n": words})
            publish(s, workspace_id, "test.event", {"nested": [{"t": words}]})
            job = enqueue(s, "test.noop", {"t": words, "conversation_id": "4000056655665556"},
                          workspace_id=workspace_id)
            s.add(Template(workspace_id=workspace_id, name="t", body=words))
            s.flush()
            job_id = job.id
        with runtime.db.session(write=False) as s:
            stored = [
                s.scalar(select(AuditEvent.data).where(AuditEvent.action == "test.note",
                                                       AuditEvent.workspace_id == workspace_id)),
                s.scalar(select(StreamEvent.payload).where(
                    StreamEvent.name == "test.event", StreamEvent.workspace_id == workspace_id)),
                s.scalar(select(OutboxJob.payload).where(OutboxJob.id == job_id)),
                s.scalar(select(Template.body).where(Template.workspace_id == workspace_id))]
            s.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(status="done"))
        dumped = json.dumps(stored, ensure_ascii=False)
        assert CARD not in dumped and "321" not in dumped and dumped.count(CARD_MASK) == 4
        assert stored[2]["conversation_id"] == "4000056655665556"  # an id, not a card


class TestCredentials:
    def test_configuration_is_one_token_and_reads_back(self, runtime, workspace_id) -> None:
        acc = api_account(runtime, workspace_id)
        stored = raw_config(runtime, str(acc.id))
        assert stored.startswith("gAAAAA") and acc.config["secret"] not in stored
        with runtime.db.session(write=False) as s:
            assert s.get(ChannelAccount, acc.id).config == acc.config

    def test_a_bad_key_is_a_typed_error(self) -> None:
        with pytest.raises(EncryptionKeyError):
            Keyring.from_settings(Settings(encryption_keys="not-a-key"))
        other = Keyring([Fernet.generate_key()])
        token = Keyring([Fernet.generate_key()]).encrypt(b"{}")
        with pytest.raises(EncryptionKeyError) as exc:
            other.decrypt(token)
        assert exc.value.code == "encryption_key"

    def test_keys_rotate_reencrypts_with_the_first_key(self, tmp_path: Path) -> None:
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        url = f"sqlite:///{tmp_path / 'rotate.db'}"

        def cli(keys: str, *args: str) -> dict[str, Any]:
            env = dict(os.environ, THREADLINE_DATABASE_URL=url, THREADLINE_DATA_DIR=str(tmp_path),
                       THREADLINE_ENCRYPTION_KEYS=keys)
            env.pop("THREADLINE_REDIS_URL", None)
            out = subprocess.run([sys.executable, "-m", "threadline.cli", *args], env=env,
                                 capture_output=True, text=True, timeout=120, check=False)
            assert out.returncode == 0, out.stderr
            answer: dict[str, Any] = json.loads(out.stdout)
            return answer

        cli(old, "accounts", "create", "--kind", "api", "--name", "crm",
            "--config", '{"secret": "rotation-credential-1"}')
        before = sqlite3.connect(tmp_path / "rotate.db").execute(
            "SELECT config FROM channel_accounts").fetchone()[0]
        assert cli(f"{new},{old}", "keys", "rotate") == {"rotated": 1}
        after = sqlite3.connect(tmp_path / "rotate.db").execute(
            "SELECT config FROM channel_accounts").fetchone()[0]
        assert after != before and "rotation-credential-1" not in after
        for keys, readable in ((new, True), (old, False)):
            db = Database(url)
            bind_keyring(db.engine, Keyring([keys.encode()]))
            try:
                with db.session(write=False) as s:
                    if readable:
                        [acc] = s.scalars(select(ChannelAccount))
                        assert acc.config == {"secret": "rotation-credential-1"}
                    else:
                        with pytest.raises(EncryptionKeyError):
                            list(s.scalars(select(ChannelAccount)))
            finally:
                db.dispose()

    def test_migration_encrypts_existing_rows_and_downgrade_decrypts(self, tmp_path) -> None:
        url = own_database(tmp_path)
        db = Database(url)
        bind_keyring(db.engine, Keyring([Fernet.generate_key()]))
        ws, acc = uuid.uuid4(), uuid.uuid4()
        config = {"bot_token": "555:migration-credential", "api_base_url": "https://x.test"}
        try:
            upgrade(db, "0008")
            workspaces = sa.table("workspaces", sa.column("id", sa.Uuid()),
                                  sa.column("name"), sa.column("slug"),
                                  sa.column("settings", sa.JSON()),
                                  sa.column("created_at", sa.DateTime(timezone=True)))
            accounts = sa.table("channel_accounts", sa.column("id", sa.Uuid()),
                                sa.column("workspace_id", sa.Uuid()), sa.column("kind"),
                                sa.column("name"), sa.column("config", sa.JSON()),
                                sa.column("active", sa.Boolean()),
                                sa.column("created_at", sa.DateTime(timezone=True)))
            now = utcnow()
            words = f"card {CARD} or mail ann@example.org"
            with db.engine.begin() as conn:
                conn.execute(workspaces.insert().values(id=ws, name="m", slug="m", settings={},
                                                        created_at=now))
                conn.execute(accounts.insert().values(id=acc, workspace_id=ws, kind="telegram",
                                                      name="bot", config=config, active=True,
                                                      created_at=now))
                conv, msg = uuid.uuid4(), uuid.uuid4()
                conn.execute(_table("conversations", id=conv, workspace_id=ws, status="open",
                                    priority=0, labels=[], reopen_count=0, message_count=1,
                                    last_message_at=now, created_at=now, updated_at=now))
                conn.execute(_table(
                    "messages", id=msg, workspace_id=ws, conversation_id=conv,
                    channel="telegram", direction="inbound", visibility="public",
                    kind="message", text=words, attachments=[], created_at=now,
                    delivery="received", author_type="customer", meta={},
                    triage={"pii": [{"type": "CREDIT_CARD", "start": 5, "end": 24},
                                    {"type": "EMAIL_ADDRESS", "start": 33, "end": 48}]}))
                conn.execute(_table("inbound_events", id=1, workspace_id=ws,
                                    channel_account_id=acc, provider_event_id="e1",
                                    payload={"message": {"text": words}}, received_at=now,
                                    status="done", attempts=1, next_attempt_at=now))
            upgrade(db)
            with db.session(write=False) as s:
                stored = s.get(Message, msg)
                assert stored.text == f"card {CARD_MASK} or mail ann@example.org"
                spans = {p["type"]: stored.text[p["start"]:p["end"]]
                         for p in stored.triage["pii"]}
                assert spans == {"CREDIT_CARD": CARD_MASK, "EMAIL_ADDRESS": "ann@example.org"}
                assert s.get(InboundEvent, 1).payload == {"message": {"text": stored.text}}
            with db.engine.connect() as conn:
                token = conn.execute(text("SELECT config FROM channel_accounts")).scalar_one()
            assert token.startswith("gAAAAA") and "migration-credential" not in token
            with db.session(write=False) as s:
                assert s.get(ChannelAccount, acc).config == config
            with db.engine.begin() as conn:
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0008")
            with db.engine.connect() as conn:
                assert conn.execute(select(accounts.c.config)).scalar_one() == config
        finally:
            db.dispose()


def _table(table_name: str, /, **values: Any) -> Any:
    """An INSERT of `values` into `name`, typed by value (for rows written at 0008)."""
    def kind(v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return sa.Uuid()
        if isinstance(v, dict | list):
            return sa.JSON()
        if hasattr(v, "tzinfo"):
            return sa.DateTime(timezone=True)
        return None
    columns = (sa.column(k, kind(v)) for k, v in values.items())
    return sa.table(table_name, *columns).insert().values(**values)


class TestRetention:
    def _age(self, runtime, account_id: uuid.UUID, days: float) -> None:
        with runtime.db.session() as s:
            s.execute(update(InboundEvent).where(InboundEvent.channel_account_id == account_id)
                      .values(received_at=utcnow() - timedelta(days=days)))

    def _events(self, runtime, account_id: uuid.UUID) -> list[InboundEvent]:
        with runtime.db.session(write=False) as s:
            return list(s.scalars(select(InboundEvent).where(
                InboundEvent.channel_account_id == account_id).order_by(InboundEvent.id)))

    def test_old_processed_payloads_are_emptied_and_a_late_duplicate_is_still_refused(
            self, runtime, workspace_id, client, worker) -> None:
        acc = api_account(runtime, workspace_id)
        first = message_event("ret-1", text="where is my parcel?")
        post_events(client, acc, [first])
        worker.drain()
        self._age(runtime, acc.id, 29)
        with runtime.db.session() as s:
            purge_raw_payloads(s, runtime.settings)
        assert self._events(runtime, acc.id)[0].purged_at is None  # inside the retention
        self._age(runtime, acc.id, 31)
        post_events(client, acc, [message_event("ret-2", text="still pending")])
        self._age(runtime, acc.id, 31)  # an old event not processed yet keeps its payload
        with runtime.db.session() as s:
            purge_raw_payloads(s, runtime.settings)
        done, pending = self._events(runtime, acc.id)
        assert done.payload == {} and done.purged_at is not None
        assert pending.status == "pending" and pending.payload and pending.purged_at is None

        late = post_events(client, acc, [first])
        assert late.status_code == 200
        worker.drain()
        with runtime.db.session(write=False) as s:
            count = s.scalar(select(sa.func.count()).select_from(Message).where(
                Message.workspace_id == workspace_id, Message.provider_id == "ret-1"))
        assert count == 1 and len(self._events(runtime, acc.id)) == 2

    def test_the_purge_job_runs_and_reschedules_itself(self, runtime, worker) -> None:
        with runtime.db.session() as s:
            s.execute(update(OutboxJob).where(OutboxJob.name == PURGE_JOB)
                      .values(status="done"))
            first = schedule_purge(s)
            assert first is not None and schedule_purge(s) is None  # one chain only
            first_id = first.id
        worker.drain()

        def successor() -> OutboxJob | None:
            with runtime.db.session(write=False) as s:
                return s.scalars(select(OutboxJob).where(
                    OutboxJob.name == PURGE_JOB, OutboxJob.status == "pending")).first()
        job = wait_for(successor, what="the next purge")
        with runtime.db.session(write=False) as s:
            assert s.get(OutboxJob, first_id).status == "done"
        assert timedelta(minutes=59) < job.due_at - utcnow() <= timedelta(hours=1)


class TestScanner:
    def test_scanner_names_the_table_and_reads_the_file_bytes(self, tmp_path, settings) -> None:
        url = f"sqlite:///{tmp_path / 'scan.db'}"
        db = Database(url)
        bind_keyring(db.engine, settings)
        upgrade(db)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO workspaces (id, name, slug, settings, created_at) "
                              "VALUES ('00000000000000000000000000000001', 'w', 'w', "
                              "'{\"note\": \"4111 1111 1111 1111\"}', '2026-01-01')"))
        db.dispose()
        assert scan_database(url, settings) == ["'4111 1111 1111 1111' in workspaces.settings"]
        raw = sqlite3.connect(tmp_path / "scan.db")
        raw.execute("UPDATE workspaces SET settings = '{}'")
        raw.execute("CREATE TABLE leftovers (b BLOB)")
        raw.execute("INSERT INTO leftovers VALUES (?)", (b"token sandbox_app_secret",))
        raw.commit()
        raw.close()
        assert scan_database(url, settings) == [
            "'sandbox_app_secret' in the file only (free space, WAL or a non-text column)"]
        assert scan_database(url, settings, extra=("never-stored",)) == [
            "'sandbox_app_secret' in the file only (free space, WAL or a non-text column)"]


    def test_sql_scan_names_every_column_holding_a_secret(self, runtime) -> None:
        """The PostgreSQL path (text and JSON columns through SQL), on a rolled-back row."""
        from tests.secrets_scan import scan

        with runtime.db.engine.connect() as conn:
            tx = conn.begin()
            try:
                conn.execute(_table("workspaces", id=uuid.uuid4(), name="EAAG-page-token",
                                    slug=f"s-{uuid.uuid4().hex[:8]}",
                                    settings={"k": "sandbox_app_secret"}, created_at=utcnow()))
                found = scan(conn, None)
            finally:
                tx.rollback()
        assert "'EAAG-page-token' in workspaces.name" in found
        assert "'sandbox_app_secret' in workspaces.settings" in found


class TestRedact:
    def test_spans_move_onto_the_stored_text_and_masks_are_stable(self) -> None:
        from threadline.triage import detect_pii
        from threadline.triage.redact import redact, redact_findings

        words = f"card {CARD} cvc 123, mail ann@example.org or call +44 7911 123456"
        stored, spans = redact_findings(words, detect_pii(words))
        assert stored == f"card {CARD_MASK} cvc [removed], mail ann@example.org or call " \
                         "+44 7911 123456"
        pieces = {s["type"]: stored[s["start"]:s["end"]] for s in spans}
        assert pieces == {"CREDIT_CARD": CARD_MASK, "CARD_SECURITY": "[removed]",
                          "EMAIL_ADDRESS": "ann@example.org", "PHONE_NUMBER": "+44 7911 123456"}
        assert redact(stored) == stored and redact(words) == stored
        assert redact("password: [password removed]") == "password: [password removed]"

    def test_long_and_crowded_texts_are_fully_masked(self) -> None:
        from threadline.triage.redact import WINDOW, redact

        crowded = f"{CARD} cvc 123 " * 600  # cards right after codes, across many windows
        stored = redact(crowded)
        assert len(crowded) > 5 * WINDOW and "5555" not in stored.replace(CARD_MASK, "")
        assert stored.count(CARD_MASK) == 600 and "123" not in stored
        assert redact(stored) == stored
