"""Outbound webhooks: `n` events (5,000 by default, THREADLINE_BENCH_WEBHOOKS_N) of 500
conversations recorded for one subscription, then delivered by one worker to a local
receiver (a threaded HTTP server on loopback, in a process of its own, that checks every
signature and counts what it gets by `webhook-id`). Prints deliveries per second, and how
many were lost (never received) or received more than once, and the CPU time the worker's
process used (the machine may be busy with other work: `deliveries_per_cpu_s` is what one
free core gives). On THREADLINE_BENCH_DATABASE_URL when set, else a fresh SQLite file."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from threadline.adapters.config import url_policy
from threadline.bench.common import fresh_runtime, new_workspace, peak_rss_mb
from threadline.conversations.service import Actor
from threadline.integrations.webhooks import rules, service
from threadline.integrations.webhooks.delivery import Event, record
from threadline.integrations.webhooks.models import WebhookDelivery
from threadline.integrations.webhooks.schemas import SubscriptionIn
from threadline.jobs.worker import Worker

CONVERSATIONS = 500
CHUNK = 500


class _Counts:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.ids: Counter[str] = Counter()
        self.bad_signatures = 0
        self.lock = threading.Lock()


def _receiver(counts: _Counts) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = rules.verify(counts.secret, headers, body)
            with counts.lock:
                counts.ids[headers.get("webhook-id", "")] += 1
                counts.bad_signatures += 0 if ok else 1
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _serve(conn: Connection) -> None:
    """The receiver's own process (it must not take the worker's CPU time): sends its port,
    takes the secret, answers "stats" with (unique ids, requests, bad signatures)."""
    counts = _Counts("")
    server = _receiver(counts)
    conn.send(server.server_address[1])
    counts.secret = conn.recv()
    while (command := conn.recv()) != "stop":
        if command == "stats":
            with counts.lock:
                conn.send((len([i for i in counts.ids if i]), sum(counts.ids.values()),
                           counts.bad_signatures))
    server.shutdown()


def webhooks_bench(n: int, *, database_url: str | None = None) -> dict[str, Any]:
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    receiver = multiprocessing.get_context("spawn").Process(target=_serve, args=(theirs,),
                                                            daemon=True)
    receiver.start()
    runtime, tmp = fresh_runtime(database_url)
    # the receiver is on loopback: allowed as for the provider sandbox
    runtime.settings = runtime.settings.model_copy(update={"allow_custom_provider_urls": True})
    try:
        workspace_id = new_workspace(runtime, "webhooks")
        url = f"http://127.0.0.1:{ours.recv()}/hooks"
        with runtime.db.session() as session:
            created = service.create_subscription(
                session, workspace_id, SubscriptionIn(url=url, event_types=["message.created"]),
                Actor("system"), url_policy(runtime.settings))
        ours.send(created.secret)
        conversations = [uuid.uuid4() for _ in range(CONVERSATIONS)]
        started = time.perf_counter()
        for start in range(0, n, CHUNK):
            with runtime.db.session() as session:
                record(session, workspace_id, [
                    Event("message.created", {"conversation_id": str(c), "seq": i},
                          c) for i in range(start, min(n, start + CHUNK))
                    for c in [conversations[i % CONVERSATIONS]]])
        recorded_s = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        Worker(runtime, name="bench").drain()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        with runtime.db.session(write=False) as session:
            delivered = int(session.scalar(select(func.count()).select_from(WebhookDelivery)
                                           .where(WebhookDelivery.status == "delivered")) or 0)
        ours.send("stats")
        unique, total, bad = ours.recv()
        return {"events": n, "conversations": CONVERSATIONS, "workers": 1,
                "deliveries_per_s": round(delivered / elapsed, 1) if elapsed else None,
                "drain_s": round(elapsed, 3), "cpu_s": round(cpu, 3),
                "deliveries_per_cpu_s": round(delivered / cpu, 1) if cpu else None,
                "record_s": round(recorded_s, 3),
                "delivered": delivered, "received": total, "lost": n - unique,
                "duplicates": total - unique, "bad_signatures": bad,
                "database": runtime.db.dialect, "peak_rss_mb": peak_rss_mb()}
    finally:
        ours.send("stop")
        receiver.join(timeout=10)
        if receiver.is_alive():
            receiver.kill()
        runtime.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run(data: Path) -> dict[str, Any]:
    n = int(os.environ.get("THREADLINE_BENCH_WEBHOOKS_N", "5000"))
    return webhooks_bench(n, database_url=os.environ.get("THREADLINE_BENCH_DATABASE_URL")
                          or None)
