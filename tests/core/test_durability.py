"""Crash safety: worker processes are SIGKILLed in the middle of a replay of 5,000 real
tweets, restarted, and every event is processed exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import _drop_postgres, shared_data
from threadline.config import Settings
from threadline.conversations.models import Message
from threadline.db.engine import normalize_url
from threadline.db.migrate import upgrade
from threadline.events.models import AuditEvent, InboundEvent
from threadline.ingest.replay import (
    chunks,
    read_twcs,
    replay_account,
    store_events,
    tweet_event,
)
from threadline.jobs.runtime import Runtime
from threadline.listening.models import ListenedPost
from threadline.workspace.service import create_workspace

# Every process of a deployment shares the secret key (it also keys the credentials' encryption).
SECRET_KEY = "test-secret-key-not-for-production"


def own_database(tmp_path: Path) -> str:
    base = os.environ.get("THREADLINE_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'durability.db'}"
    url = make_url(normalize_url(base))
    name = f"threadline_dur_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def start_worker(url: str, redis_url: str | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, THREADLINE_DATABASE_URL=url, THREADLINE_WORKER_BATCH_SIZE="50",
               THREADLINE_SECRET_KEY=SECRET_KEY,
               THREADLINE_WORKER_POLL_SECONDS="0.2",
               # what a killed worker had leased is taken over after 10 s, not a minute
               THREADLINE_WORKER_LEASE_SECONDS="10")
    env.pop("THREADLINE_REDIS_URL", None)
    if redis_url:
        env["THREADLINE_REDIS_URL"] = redis_url
    return subprocess.Popen([sys.executable, "-m", "threadline.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def filtered(rt: Runtime, ws) -> set[str]:
    """The provider ids of posts the noise filter kept out of the queues (stored, never
    messages: retweets, contests and the like; docs/listening.md)."""
    with rt.db.session(write=False) as s:
        return set(s.scalars(select(ListenedPost.provider_id).where(
            ListenedPost.workspace_id == ws, ListenedPost.state == "filtered")))


def counts(rt: Runtime, ws) -> tuple[int, int, int, int]:
    with rt.db.session(write=False) as s:
        messages = s.scalar(select(func.count()).select_from(Message)
                            .where(Message.workspace_id == ws)) or 0
        distinct = s.scalar(select(func.count(func.distinct(Message.provider_id)))
                            .where(Message.workspace_id == ws)) or 0
        pending = s.scalar(select(func.count()).select_from(InboundEvent).where(
            InboundEvent.workspace_id == ws, InboundEvent.status != "done")) or 0
        received = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.workspace_id == ws,
            AuditEvent.action.in_(["message.received", "message.echoed"]))) or 0
    return messages, distinct, pending, received


@pytest.mark.slow
def test_sigkill_mid_replay_loses_and_duplicates_nothing(tmp_path, redis_url):
    tweets = list(read_twcs(shared_data("twcs", "head5000_all_brands", "twcs_head5000.csv")))
    assert len(tweets) == 5000
    url = own_database(tmp_path)
    rt = Runtime.create(Settings(database_url=url, secret_key=SECRET_KEY), database_url=url,
                        redis_url="")
    upgrade(rt.db)
    with rt.db.session() as s:
        ws = create_workspace(s, "durability", "durability").id
        account = replay_account(s, ws)
    for batch in chunks((tweet_event(t) for t in tweets), 250):
        with rt.db.session() as s:
            store_events(s, account, batch)

    workers = [start_worker(url, redis_url) for _ in range(2)]
    kills = 0
    try:
        # a cap, not a speed target: a quiet machine drains the 5,000 in well under a minute;
        # a loaded CI machine (both passes' other tests beside it) has taken over two
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            done = counts(rt, ws)[0]
            if done >= 1000 * (kills + 1) and kills < 2:
                victim = workers[kills % 2]
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=10)
                kills += 1
                workers[(kills - 1) % 2] = start_worker(url, redis_url)
            if counts(rt, ws)[2] == 0:
                break
            time.sleep(0.05)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=15)
            except subprocess.TimeoutExpired:
                w.kill()
    messages, distinct, pending, received = counts(rt, ws)
    noise = filtered(rt, ws)
    rt.close()
    if url.startswith("postgresql"):
        _drop_postgres(url)
    assert kills == 2, "workers were killed in the middle of the replay"
    assert pending == 0
    # every tweet is a message once, or a post the noise filter kept apart (a handful of
    # contests and promotions in this sample)
    assert messages == distinct and messages + len(noise) == 5000
    assert len(noise) < 50
    assert received == messages, "each event's effects were committed exactly once"
