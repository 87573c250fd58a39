"""A worker process SIGKILLed in the middle of a delivery (the receiver has the request, the
worker never records the answer): the delivery is sent again once its lease runs out, with
the same `webhook-id`, so the receiver can drop the duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import select

from tests.integrations.webhooks.conftest import Receiver, pump, subscribe
from threadline.integrations.webhooks.delivery import Event, record
from threadline.integrations.webhooks.models import WebhookDelivery
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker

pytestmark = pytest.mark.slow  # long: run first (tests/conftest.py)


def start_worker(runtime: Runtime) -> subprocess.Popen[bytes]:
    settings = runtime.settings
    env = dict(os.environ, THREADLINE_DATABASE_URL=settings.database_url,
               THREADLINE_SECRET_KEY=settings.resolved_secret_key(),
               THREADLINE_ALLOW_CUSTOM_PROVIDER_URLS="true",
               THREADLINE_OUTBOUND_WEBHOOK_TIMEOUT_SECONDS="3",
               THREADLINE_WORKER_LEASE_SECONDS="2", THREADLINE_WORKER_POLL_SECONDS="0.1",
               THREADLINE_DATA_DIR=str(settings.data_dir))
    env.pop("THREADLINE_REDIS_URL", None)
    if settings.redis_url:
        env["THREADLINE_REDIS_URL"] = settings.redis_url
    return subprocess.Popen([sys.executable, "-m", "threadline.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_killed_mid_delivery_redelivers_with_the_same_id(
        hook_runtime: Runtime, hook_worker: Worker, workspace_id: uuid.UUID,
        receiver: Receiver) -> None:
    sub_id, _ = subscribe(hook_runtime, workspace_id, receiver.url)
    receiver.delay = 2.5  # the first answer is slow: the worker is killed while it waits
    victim = start_worker(hook_runtime)
    try:
        with hook_runtime.db.session() as session:
            record(session, workspace_id, [Event("customer.created", {"customer_id": "c"})])
        [first] = receiver.wait(1, timeout=60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait(timeout=10)
    receiver.delay = 0.0
    started = time.monotonic()
    got = pump(hook_worker, receiver, 2, timeout=40)
    assert len(got) == 2, "delivered again after the crash"
    assert got[0].id == got[1].id == first.id and got[0].body == got[1].body
    assert len({r.id for r in got}) == 1, "the receiver dedupes on webhook-id"
    assert time.monotonic() - started < 40
    hook_worker.drain()
    with hook_runtime.db.session(write=False) as session:
        row = session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == sub_id)).one()
        assert row.status == "delivered" and row.attempts == 2
