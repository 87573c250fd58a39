"""Conversations, messages and customers reach the index through the real paths (a
customer's webhook, an agent's reply and note), masked as agents see them."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select, text

from tests.factories import api_account, message_event, post_events
from threadline.conversations.models import Conversation, Message
from threadline.jobs.runtime import Runtime
from threadline.search.indexer import reindex_workspace, sweep
from threadline.search.models import SearchDocument
from threadline.search.query import search
from threadline.search.schemas import SearchFilters


def _hits(runtime: Runtime, ws: uuid.UUID, q: str, **kw: Any) -> list[Any]:
    with runtime.db.session(write=False) as session:
        return search(session, ws, q, **kw).hits


def _customer_writes(runtime: Runtime, ws: uuid.UUID, client: Any, worker: Any, text: str,
                     *, visibility: str = "public", author: str = "cust-1",
                     email: str | None = None) -> Any:
    account = api_account(runtime, ws, name=f"api-{uuid.uuid4().hex[:6]}")
    pid = f"m-{uuid.uuid4().hex[:8]}"
    assert post_events(client, account, [message_event(
        pid, text=text, visibility=visibility, author=author, email=email)]).status_code == 200
    worker.drain()
    return account


class TestMessagesAreIndexedOnTheirEvents:
    def test_a_customers_message_is_found_with_its_conversation(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker,
                         "My espresso machine arrived with a cracked boiler")
        [hit] = _hits(runtime, workspace_id, "cracked boiler", kinds=["message"])
        with runtime.db.session(write=False) as session:
            conv_id = session.scalar(select(Conversation.id).where(
                Conversation.workspace_id == workspace_id))
        assert hit.conversation_id == conv_id
        assert hit.author_type == "customer"
        assert "<mark>cracked</mark>" in hit.snippet_html

    def test_stemming_finds_other_forms_of_a_word(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker,
                         "I was refunded twice for the cancelled orders")
        assert len(_hits(runtime, workspace_id, "refund order cancel")) == 1
        assert len(_hits(runtime, workspace_id, "refunding")) == 1

    def test_an_agents_reply_and_note_are_found(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker, "Where is my parcel?",
                         visibility="private")
        conv = client.get("/api/v1/conversations").json()["items"][0]
        r = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={
            "text": "Your parcel left our warehouse in Rotterdam", "visibility": "private"})
        assert r.status_code == 201, r.text
        r = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={
            "text": "Courier confirmed a Gdansk detour", "kind": "note",
            "visibility": "private"})
        assert r.status_code == 201, r.text
        worker.drain()
        [reply] = _hits(runtime, workspace_id, "rotterdam")
        assert (reply.kind, reply.author_type) == ("message", "agent")
        with runtime.db.session() as session:  # the note has no conversation event: the sweep
            sweep(session)
        [note] = _hits(runtime, workspace_id, "gdansk")
        assert note.visibility == "note"
        assert _hits(runtime, workspace_id, "gdansk",
                     filters=SearchFilters(include_notes=False)) == []

    def test_the_sweep_looks_only_from_a_minute_before_its_last_run(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        """After its first run, the sweep job reads the messages from a minute before its
        previous run, not the whole window again (a burst's hundreds of thousands)."""
        from datetime import timedelta

        from threadline.db.base import new_id, utcnow
        from threadline.jobs.registry import Job
        from threadline.search import indexer

        _customer_writes(runtime, workspace_id, client, worker, "Where is my parcel?",
                         visibility="private")
        conv = client.get("/api/v1/conversations").json()["items"][0]

        def unindexed_message(minutes_ago: int, words: str) -> None:
            with runtime.db.session() as session:  # written, its indexing never happened
                session.add(Message(
                    id=new_id(utcnow() - timedelta(minutes=minutes_ago)),
                    workspace_id=workspace_id, conversation_id=uuid.UUID(conv["id"]),
                    channel="api", direction="outbound", visibility="private", kind="note",
                    text=words, author_type="agent", delivery="sent"))

        job = Job(id=0, name=indexer.SWEEP_JOB, payload={}, workspace_id=None, attempts=1)
        indexer._SWEPT.pop(runtime.settings.database_url, None)
        unindexed_message(5, "Parcel held in Utrecht")
        indexer.sweep_job(runtime, job)  # a process's first sweep: the whole window
        assert len(_hits(runtime, workspace_id, "utrecht")) == 1
        unindexed_message(3, "Parcel held in Leiden")  # before the last run's minute
        unindexed_message(0, "Parcel held in Haarlem")
        indexer.sweep_job(runtime, job)
        assert len(_hits(runtime, workspace_id, "haarlem")) == 1
        assert _hits(runtime, workspace_id, "leiden") == []
        indexer._SWEPT.pop(runtime.settings.database_url, None)  # a restart: the window
        indexer.sweep_job(runtime, job)
        assert len(_hits(runtime, workspace_id, "leiden")) == 1

    def test_the_sweep_indexes_many_conversations_in_a_few_queries(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        """After a burst, messages of hundreds of conversations may wait for their jobs: the
        sweep indexes them chunk by chunk, not with a dozen queries per conversation."""
        from sqlalchemy import event

        from threadline.db.base import new_id
        from threadline.search import indexer

        _customer_writes(runtime, workspace_id, client, worker, "Where is my parcel?",
                         visibility="private")
        conv = client.get("/api/v1/conversations").json()["items"][0]
        with runtime.db.session() as session:
            template = session.get(Conversation, uuid.UUID(conv["id"]))
            assert template is not None
            for n in range(40):
                other = Conversation(workspace_id=workspace_id,
                                     customer_id=template.customer_id, status="open",
                                     origin_channel="api", origin_visibility="private")
                session.add(other)
                session.flush()
                session.add(Message(
                    id=new_id(), workspace_id=workspace_id, conversation_id=other.id,
                    channel="api", direction="outbound", visibility="private", kind="note",
                    text=f"Burst note number {n} about Zwolle", author_type="agent",
                    delivery="sent"))
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        engine = runtime.db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            with runtime.db.session() as session:
                assert indexer.sweep(session) >= 40
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(_hits(runtime, workspace_id, "zwolle", limit=100)) == 40
        assert len(statements) <= 25, len(statements)

    def test_the_customer_is_found_by_handle_and_email(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker, "hello there",
                         author="zoe_quartermain", visibility="private",
                         email="zoe.q@example.org")
        kinds = {h.kind for h in _hits(runtime, workspace_id, "quartermain")}
        assert "customer" in kinds
        [customer] = _hits(runtime, workspace_id, "zoe.q@example.org", kinds=["customer"])
        assert customer.customer_id == customer.ref_id

    def test_a_new_message_is_findable_within_a_second_of_its_commit(
            self, runtime: Runtime, workspace_id: uuid.UUID, live_server: Any) -> None:
        """Measured on the second message: the first one warms the worker (triage's models
        load on first use)."""
        import httpx

        from tests.factories import body, signed_headers
        account = api_account(runtime, workspace_id)

        def deliver_and_wait(pid: str, text: str, query: str) -> float:
            raw = body([message_event(pid, text=text, author=f"lag-{pid}")])
            r = httpx.post(f"{live_server.url}/webhooks/api/{account.id}", content=raw,
                           headers=signed_headers(account, raw))
            assert r.status_code == 200  # stored and committed
            started = time.monotonic()
            while time.monotonic() - started < 15.0:
                if _hits(runtime, workspace_id, query):
                    break
                time.sleep(0.02)
            return time.monotonic() - started

        deliver_and_wait("lag-0", "Wombat tracks in the loading bay", "wombat tracks")
        took = deliver_and_wait("lag-1", "Quokka sightings near the depot", "quokka sightings")
        assert took < 1.0, f"findable only after {took:.2f} s"


class TestPersonalDataStaysMasked:
    def test_an_email_posted_in_public_is_neither_shown_nor_findable(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker,
                         "Please call me, write to jane.smithers@example.com or 4155550123")
        hits = _hits(runtime, workspace_id, "please call", kinds=["message"])
        assert len(hits) == 1
        assert "smithers" not in hits[0].snippet_html
        assert "4155550123" not in hits[0].snippet_html
        assert _hits(runtime, workspace_id, "smithers", kinds=["message"]) == []
        assert _hits(runtime, workspace_id, "4155550123", kinds=["message"]) == []
        with runtime.db.session(write=False) as session:
            stored = session.scalars(select(SearchDocument.body).where(
                SearchDocument.workspace_id == workspace_id,
                SearchDocument.kind == "message")).all()
            assert stored and all("smithers" not in b for b in stored)
            if session.get_bind().dialect.name == "postgresql":
                lexemes = session.scalar(text(
                    "SELECT string_agg(tsv::text, ' ') FROM search_documents "
                    "WHERE workspace_id = :w AND kind = 'message'"), {"w": workspace_id})
            else:
                session.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms "
                                     "USING fts5vocab(main, 'search_fts', 'row')"))
                lexemes = " ".join(session.scalars(text(
                    "SELECT term FROM temp.search_terms WHERE term LIKE 'smither%'")).all())
            assert "smither" not in (lexemes or "")

    def test_a_card_number_is_never_indexed(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker,
                         "my card 4111 1111 1111 1111 was charged twice", visibility="private")
        assert _hits(runtime, workspace_id, "4111", kinds=["message"]) == []
        assert len(_hits(runtime, workspace_id, "charged twice")) == 1


class TestReindex:
    def test_reindexing_a_workspace_restores_deleted_documents(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker, "Kayak paddle snapped")
        with runtime.db.session() as session:
            session.execute(SearchDocument.__table__.delete().where(
                SearchDocument.workspace_id == workspace_id))
        assert _hits(runtime, workspace_id, "kayak") == []
        with runtime.db.session() as session:
            assert reindex_workspace(session, workspace_id) >= 3
            again = reindex_workspace(session, workspace_id)
        assert again == 0  # nothing changed: nothing rewritten
        assert len(_hits(runtime, workspace_id, "kayak paddle")) == 1

    def test_a_deleted_message_leaves_the_index(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        _customer_writes(runtime, workspace_id, client, worker, "Trampoline springs rusted")
        from threadline.db.base import utcnow
        from threadline.search.indexer import index_conversations
        with runtime.db.session() as session:
            message = session.scalars(select(Message).where(
                Message.workspace_id == workspace_id)).one()
            message.deleted_at = utcnow()
            session.flush()
            index_conversations(session, workspace_id, [message.conversation_id])
        assert _hits(runtime, workspace_id, "trampoline") == []


class TestErasure:
    def test_erasing_a_customer_removes_his_documents(
            self, runtime: Runtime, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        from threadline.conversations.service import SYSTEM
        from threadline.subjects.service import erase_customer
        _customer_writes(runtime, workspace_id, client, worker, "Marmalade jar shattered",
                         author="pemberton_quill", visibility="private")
        [hit] = _hits(runtime, workspace_id, "pemberton", kinds=["customer"])
        with runtime.db.session() as session:
            report = erase_customer(session, workspace_id, hit.ref_id, SYSTEM)
        assert report.counts["search_documents"] >= 3  # customer, conversation, message
        assert _hits(runtime, workspace_id, "marmalade") == []
        assert _hits(runtime, workspace_id, "pemberton") == []
