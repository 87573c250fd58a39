"""Outbound webhook fixtures: a real HTTP receiver on loopback (a threaded stdlib server that
records every request and answers as a test scripts it), a runtime whose webhook retries are
fast, and a subscription pointing at the receiver."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import delete

from threadline.adapters.config import url_policy
from threadline.conversations.service import Actor
from threadline.events.models import OutboxJob
from threadline.integrations.webhooks import service
from threadline.integrations.webhooks.delivery import DISPATCH_JOB
from threadline.integrations.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from threadline.integrations.webhooks.schemas import SubscriptionIn
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker

ADMIN = Actor("token", "test")


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


# answer(request number for this webhook-id (1, 2...), body) -> (status, extra headers)
Answer = Callable[[int, bytes], "tuple[int, dict[str, str]]"]


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    answer: Answer = lambda n, body: (200, {})
    delay: float = 0.0  # seconds before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_id(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        with self.lock:
            for r in self.received:
                out.setdefault(r.id, []).append(r)
        return out

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def wait(self, count: int, timeout: float = 15.0, *, step: Callable[[], Any] | None = None
             ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if step is not None:
                step()
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self.lock:
            return list(self.received)


def serve(receiver: Receiver) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                seen = sum(1 for r in receiver.received
                           if r.headers.get("webhook-id") == headers.get("webhook-id"))
            status, extra = receiver.answer(seen + 1, body)
            with receiver.lock:
                receiver.received.append(Received(time.monotonic(), headers, body, status))
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(autouse=True)
def no_webhooks_left(runtime: Runtime) -> Iterator[None]:
    """After each test its subscriptions, deliveries and dispatch jobs go: the receivers
    they point at are gone, and later tests (of any folder) must not retry them."""
    yield
    with runtime.db.session() as session:
        session.execute(delete(WebhookAttempt))
        session.execute(delete(WebhookDelivery))
        session.execute(delete(WebhookSubscription))
        session.execute(delete(OutboxJob).where(OutboxJob.name == DISPATCH_JOB,
                                                OutboxJob.status == "pending"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    server, thread = serve(rec)
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def fast_runtime(runtime: Runtime, **overrides: Any) -> Runtime:
    """The session's runtime (same database and bus) with fast webhook retries."""
    settings = runtime.settings.model_copy(update={
        "outbound_webhook_timeout_seconds": 2.0, "outbound_webhook_retry_base_seconds": 0.3,
        "outbound_webhook_retry_max_seconds": 5.0, "outbound_webhook_max_attempts": 6,
        "outbound_webhook_disable_after_failures": 4,
        "outbound_webhook_disable_after_seconds": 0.0, **overrides})
    return Runtime(settings=settings, db=runtime.db, bus=runtime.bus, limiter=runtime.limiter)


@pytest.fixture
def hook_runtime(runtime: Runtime) -> Iterator[Runtime]:
    rt = fast_runtime(runtime)
    yield rt
    rt.http.close()


@pytest.fixture
def hook_worker(hook_runtime: Runtime) -> Worker:
    return Worker(hook_runtime, name="webhooks-test")


def subscribe(rt: Runtime, workspace_id: uuid.UUID, url: str,
              types: list[str] | None = None) -> tuple[uuid.UUID, str]:
    with rt.db.session() as session:
        created = service.create_subscription(
            session, workspace_id,
            SubscriptionIn.model_validate({"url": url, "event_types": types or [
                "conversation.created", "message.created", "conversation.resolved",
                "conversation.reopened", "conversation.assigned", "customer.created",
                "hop.offered", "csat.recorded"]}),
            ADMIN, url_policy(rt.settings))
    return created.id, created.secret


def pump(worker: Worker, receiver: Receiver, count: int, timeout: float = 20.0
         ) -> list[Received]:
    """Run the worker until the receiver has `count` requests (or the time is up)."""
    return receiver.wait(count, timeout, step=worker.run_once)
