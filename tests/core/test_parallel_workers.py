"""Several workers on one workspace (decision 0334): the same events, interleaved across
customers and channels (private threads, public posts answering each other, customers known on
two channels), threaded by one worker and by four at once give the same conversations, each
event exactly once. On PostgreSQL the four really run at once (leases by keys); on SQLite they
take turns at the writer lock."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tests.factories import api_account, message_event
from tests.migrations import check_round_trip, has_column, mentions
from threadline.contacts.models import Evidence
from threadline.contacts.service import create_customer, link_identity
from threadline.conversations.models import Message
from threadline.events.models import InboundEvent, WorkStatus
from threadline.ingest.replay import store_events
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.workspace.service import create_workspace

CUSTOMERS = 30
LINKED = 12  # customers known on both channels before they write


def _events(seed: int = 34) -> list[tuple[str, dict[str, Any]]]:
    """(channel, event) in arrival order: each customer's own events in his order, the
    customers interleaved; public posts answer earlier posts, some of other customers."""
    rng = random.Random(seed)
    per_customer: list[list[tuple[str, dict[str, Any]]]] = []
    public: list[str] = []
    minute = 0.0
    for c in range(CUSTOMERS):
        own: list[tuple[str, dict[str, Any]]] = []
        for n in range(6):
            minute += 0.5
            pid = f"m{c}-{n}"
            linked = c < LINKED
            channel = rng.choice(("x", "wa")) if linked else ("x" if c % 2 else "wa")
            if channel == "wa":
                own.append(("wa", message_event(pid, author=f"+3460000{c:04d}",
                                                visibility="private", minutes=minute,
                                                thread_key=f"+3460000{c:04d}",
                                                text=f"whatsapp {n}")))
            elif rng.random() < 0.5:
                own.append(("x", message_event(pid, author=f"c{c}", visibility="private",
                                               thread_key=f"dm-{c}", minutes=minute,
                                               text=f"dm {n}")))
            else:
                parent = rng.choice(public) if public and rng.random() < 0.6 else None
                own.append(("x", message_event(pid, author=f"c{c}", visibility="public",
                                               in_reply_to=parent, minutes=minute,
                                               text=f"post {n}")))
                public.append(pid)
        per_customer.append(own)
    order: list[tuple[str, dict[str, Any]]] = []
    cursors = [0] * CUSTOMERS
    while any(cursors[c] < len(per_customer[c]) for c in range(CUSTOMERS)):
        c = rng.choice([c for c in range(CUSTOMERS) if cursors[c] < len(per_customer[c])])
        order.append(per_customer[c][cursors[c]])
        cursors[c] += 1
    return order


def _workspace(runtime: Runtime, events: list[tuple[str, dict[str, Any]]]) -> uuid.UUID:
    with runtime.db.session() as session:
        ws = create_workspace(session, "Parallel", f"p-{uuid.uuid4().hex[:10]}").id
        for c in range(LINKED):
            customer = create_customer(session, ws, name=f"Customer {c}")
            link_identity(session, ws, customer.id, kind="x", address=f"c{c}",
                          evidence=Evidence.PROVIDER)
            link_identity(session, ws, customer.id, kind="whatsapp",
                          address=f"+3460000{c:04d}", evidence=Evidence.PROVIDER)
    accounts = {"x": api_account(runtime, ws, name="x", identity_kind="x"),
                "wa": api_account(runtime, ws, name="wa", identity_kind="whatsapp")}
    for channel, event in events:  # one delivery each, in arrival order
        with runtime.db.session() as session:
            store_events(session, accounts[channel], [event])
    return ws


def _conversations(runtime: Runtime, ws: uuid.UUID) -> set[frozenset[str]]:
    groups: dict[uuid.UUID, set[str]] = defaultdict(set)
    with runtime.db.session(write=False) as session:
        for pid, conv in session.execute(select(Message.provider_id, Message.conversation_id)
                                         .where(Message.workspace_id == ws)):
            groups[conv].add(pid)
    return {frozenset(g) for g in groups.values()}


def _stored_once(runtime: Runtime, ws: uuid.UUID, expected: int) -> None:
    with runtime.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.workspace_id == ws)) == expected
        assert session.scalar(select(func.count(func.distinct(Message.provider_id))).where(
            Message.workspace_id == ws)) == expected
        assert session.scalar(select(func.count()).select_from(InboundEvent).where(
            InboundEvent.workspace_id == ws,
            InboundEvent.status != WorkStatus.DONE)) == 0


def _run_together(runtime: Runtime, workers: int, batch: int) -> None:
    errors: list[BaseException] = []

    def work(name: str) -> None:
        worker = Worker(runtime, name=name)
        idle = 0
        try:
            while idle < 3:
                done = worker.process_inbound_batch(limit=batch) + worker.process_jobs(20)
                idle = 0 if done else idle + 1
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    Worker(runtime, name="last").drain()  # anything a lease held back at the very end


def test_four_workers_thread_one_workspace_as_one_worker_does(runtime: Runtime) -> None:
    events = _events()
    alone = _workspace(runtime, events)
    Worker(runtime, name="alone").drain()
    expected = _conversations(runtime, alone)
    _stored_once(runtime, alone, len(events))

    together = _workspace(runtime, events)
    _run_together(runtime, workers=4, batch=5)
    _stored_once(runtime, together, len(events))
    assert _conversations(runtime, together) == expected
    assert len(expected) < len(events)  # the scenario threads: messages share conversations


def test_a_lease_leaves_a_customers_later_events_to_wait(runtime: Runtime) -> None:
    """Worker A leases the two oldest events; worker B, claiming meanwhile, gets the other
    customer's event but not the answer to A's first (it shares its keys); once A's batch
    committed, the answer is leased."""
    with runtime.db.session() as session:
        ws = create_workspace(session, "Leases", f"l-{uuid.uuid4().hex[:10]}").id
    account = api_account(runtime, ws, identity_kind="x")
    events = [message_event("a1", author="ann", minutes=1),
              message_event("b1", author="bob", minutes=2),
              message_event("a2", author="ann", in_reply_to="a1", minutes=3),
              message_event("c1", author="cid", minutes=4)]
    for event in events:
        with runtime.db.session() as session:
            store_events(session, account, [event])
    with runtime.db.session(write=False) as session:
        ids = dict(session.execute(select(InboundEvent.provider_event_id, InboundEvent.id)
                                   .where(InboundEvent.workspace_id == ws)).all())
    a, b = Worker(runtime, name="a"), Worker(runtime, name="b")
    assert a._lease_inbound(2) == [ids["evt-a1"], ids["evt-b1"]]
    assert b._lease_inbound(10) == [ids["evt-c1"]]  # a2 answers a1, which A holds
    assert b._lease_inbound(10) == []
    if runtime.db.dialect == "postgresql":  # SQLite's workers claim inside the batch
        assert a.process_inbound_batch() == 0  # A's own leases are not claimed twice
    with runtime.db.session() as session:  # A runs what it leased
        done = a._process_claimed(_processor(), session,
                                  a._leased(session, [ids["evt-a1"], ids["evt-b1"]]))
    assert len(done) == 2
    assert b._lease_inbound(10) == [ids["evt-a2"]]


def _processor() -> Any:
    from threadline.jobs.registry import get_inbound_processor

    processor = get_inbound_processor()
    assert processor is not None
    return processor


def test_0037_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    check_round_trip(tmp_path, before="0036", present=has_column("inbound_events", "claim_keys"),
                     about=mentions("inbound_events", "claim")).dispose()
