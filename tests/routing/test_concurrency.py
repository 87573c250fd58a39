"""Concurrent arrivals in scaled mode: 240 conversations posted at once through the signed
webhook by eight clients, processed by two worker processes; five agents with room for 100
real-time conversations between them. No conversation is assigned twice, no agent goes over
capacity, and every conversation beyond capacity waits in the team queue. Runs on the test
database (SQLite, or PostgreSQL with THREADLINE_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from tests.factories import api_account, message_event, post_events
from tests.routing.helpers import agent, team
from threadline.conversations.models import Conversation
from threadline.events.models import AuditEvent, InboundEvent, OutboxJob
from threadline.jobs.retention import PURGE_JOB
from threadline.quality.sampling import SAMPLE_JOB
from threadline.routing.presence import TICK_JOB
from threadline.routing.service import ROUTED_ACTION

CONVERSATIONS = 240
AGENTS = 5
CAPACITY = 20


def start_worker(settings, log) -> subprocess.Popen[bytes]:
    env = dict(os.environ, THREADLINE_DATABASE_URL=settings.database_url,
               THREADLINE_SECRET_KEY=settings.secret_key, THREADLINE_WORKER_BATCH_SIZE="20",
               THREADLINE_WORKER_POLL_SECONDS="0.1", THREADLINE_DATA_DIR=str(settings.data_dir))
    env.pop("THREADLINE_REDIS_URL", None)
    if settings.redis_url:
        env["THREADLINE_REDIS_URL"] = settings.redis_url
    return subprocess.Popen([sys.executable, "-m", "threadline.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


def pending(runtime, workspace_id) -> int:
    with runtime.db.session(write=False) as session:
        inbound = session.scalar(select(func.count()).select_from(InboundEvent).where(
            InboundEvent.workspace_id == workspace_id, InboundEvent.status != "done")) or 0
        jobs = session.scalar(select(func.count()).select_from(OutboxJob).where(
            OutboxJob.workspace_id == workspace_id, OutboxJob.status == "pending")) or 0
    return int(inbound) + int(jobs)


def test_no_double_assignment_and_no_agent_over_capacity(runtime, settings, workspace_id,
                                                         client, tmp_path):
    agents = [agent(runtime, workspace_id, f"Agent{n}", realtime=CAPACITY)
              for n in range(AGENTS)]
    team(client, "Care", agents, skills=["en"])
    client.post("/api/v1/routing/rules", json={"name": "everything", "team_id": team(
        client, "Everyone", agents), "conditions": []}).raise_for_status()
    account = api_account(runtime, workspace_id)
    batches = [[message_event(f"routing-load-{n}-{i}", author=f"cust-{n}-{i}",
                              visibility="private",
                              text=f"Hello, I need help with order {n}-{i}, please.")
                for i in range(CONVERSATIONS // 8 // 5)] for n in range(8 * 5)]
    logs = [(tmp_path / f"worker{n}.log").open("wb") for n in range(2)]
    workers = [start_worker(settings, log) for log in logs]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(lambda b: post_events(client, account, b).status_code,
                                  batches))
        assert codes == [200] * len(batches)
        deadline = time.monotonic() + 240
        while pending(runtime, workspace_id) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert pending(runtime, workspace_id) == 0, "the workers did not finish"
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
    for log in logs:
        log.close()
    with runtime.db.session() as session:  # the workers scheduled the routing tick, the
        session.execute(update(OutboxJob).where(  # purge and the sampler: not for other
            OutboxJob.name.in_((TICK_JOB, PURGE_JOB, SAMPLE_JOB)),  # tests' workers
            OutboxJob.status == "pending")
            .values(status="done"))
    errors = [line for n in range(2) for line in (tmp_path / f"worker{n}.log").read_text(
        errors="replace").splitlines() if " ERROR " in line or "Traceback" in line]
    assert errors == [], errors[:5]
    assert all(w.returncode is not None for w in workers)
    with runtime.db.session(write=False) as session:
        convs = list(session.scalars(select(Conversation).where(
            Conversation.workspace_id == workspace_id)))
        decisions = list(session.scalars(select(AuditEvent).where(
            AuditEvent.workspace_id == workspace_id, AuditEvent.action == ROUTED_ACTION)))
    assert len(convs) == CONVERSATIONS
    assigned_by_router = Counter(d.subject_id for d in decisions if d.data.get("assignee_id"))
    assert assigned_by_router and max(assigned_by_router.values()) == 1  # never twice
    load = Counter(c.assignee_id for c in convs if c.assignee_id is not None)
    assert set(load) == set(agents)
    assert max(load.values()) <= CAPACITY  # never over capacity
    assert sum(load.values()) == AGENTS * CAPACITY  # every free place taken
    waiting = [c for c in convs if c.assignee_id is None]
    assert len(waiting) == CONVERSATIONS - AGENTS * CAPACITY
    assert all(c.team_id is not None and c.queued_at is not None for c in waiting)
