"""`threadline bench load --json [-- OPTIONS]`: scaled mode under load, from the outside.

Starts a scaled deployment on a fresh PostgreSQL database (web processes `threadline serve
--web --no-migrate` on their own ports, `threadline worker` processes, Redis as the bus),
connects one client to the REST event stream, and drives signed single-event X webhooks at a
fixed rate, round robin over the web processes. It reports what a provider and an agent
would see: webhooks accepted per second, webhook answer times, webhook -> stream latency
percentiles, events the stream missed, events lost (accepted, never stored as a message) and
duplicated (one provider id stored twice), and how busy the machine was (/proc/stat).

The drain figure (`--drain N`): N events of one workspace (N / 10 customers) are stored with
no worker running, then 1, 2, 4 ... workers (`--drain-workers 1,2,4`) each drain a fresh set;
the speed-up is judged against what the cores allow: 1 / the share of the machine one worker
keeps busy.

Faults (`--fault`): `kill-worker` and `kill-web` SIGKILL one process a third of the way in
and start it again; `stop-redis` and `stop-postgres` stop the service for `--fault-seconds`
(10). A webhook refused or cut off is sent again after its Retry-After (at least 1 s), as
providers do, so "lost" counts only what was accepted and then never stored.

The load generator writes pre-built HTTP/1.1 requests on kept-alive connections with asyncio
streams: an HTTP library would spend more of the two cores than the server it measures.

Options after `--`: --rate 200 --duration 60 --web 2 --workers 2 --drain 0
--drain-workers 1,2,4 --fault none --fault-seconds 10 --database-url URL --redis-url URL
(defaults: THREADLINE_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres;
THREADLINE_BENCH_REDIS_URL, else redis://127.0.0.1:6379/0)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import create_engine, text

from threadline.config import Settings
from threadline.db.migrate import upgrade
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import x as sx
from threadline.workspace.service import create_channel_account, create_token, create_workspace

OWN_ID = "9000000001"
X_CONFIG = {"consumer_key": "ck", "consumer_secret": "load-bench-secret",
            "access_token": f"{OWN_ID}-token", "access_token_secret": "ats", "user_id": OWN_ID}


# --- the deployment ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@dataclass
class Deployment:
    database_url: str
    redis_url: str
    env: dict[str, str]
    logs: Path
    webs: list[tuple[int, subprocess.Popen[bytes]]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_web(self, port: int | None = None) -> int:
        port = port or _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "threadline.cli", "serve", "--web", "--no-migrate",
             "--port", str(port)], env=self.env, stdout=subprocess.DEVNULL,
            stderr=self._log(f"web-{port}"))
        self.webs.append((port, proc))
        return port

    def _log(self, name: str) -> Any:
        """The process's standard error, kept for the run (printed paths on failure)."""
        return (self.logs / f"{name}.log").open("ab")

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "threadline.cli", "worker"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=self._log("worker"))
        self.workers.append(proc)
        return proc

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            with suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
        self.workers.clear()

    def kill_web(self, index: int) -> None:
        port, proc = self.webs.pop(index)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.start_web(port)

    def kill_worker(self, index: int) -> None:
        proc = self.workers.pop(index)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.start_worker()

    def close(self) -> None:
        self.stop_workers()
        for _, proc in self.webs:
            proc.terminate()
        for _, proc in self.webs:
            with suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
        if os.environ.get("THREADLINE_BENCH_KEEP_LOGS"):
            sys.stderr.write(f"process logs: {self.logs}\n")
        else:
            shutil.rmtree(self.logs, ignore_errors=True)


def _wait_ready(dep: Deployment, seconds: float = 300) -> None:
    """Every web process answers /healthz (a process that exits fails the run at once, with
    the end of its log)."""
    deadline = time.monotonic() + seconds
    for port, proc in dep.webs:
        while True:
            if proc.poll() is not None:
                tail = (dep.logs / f"web-{port}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the web process on port {port} exited:\n{tail}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web process on port {port} did not start")
            time.sleep(0.2)


def _prepare(admin_url: str, redis_url: str) -> tuple[Deployment, str, str, str]:
    """A fresh database at head, a workspace with an X account and an API token."""
    name = f"threadline_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = _with_database(admin_url, name)
    secret = secrets.token_urlsafe(48)
    settings = Settings(database_url=url, redis_url=redis_url, secret_key=secret)
    runtime = Runtime.create(settings, database_url=url, redis_url="")
    try:
        upgrade(runtime.db)
        with runtime.db.session() as session:
            ws = create_workspace(session, "load", f"load-{uuid.uuid4().hex[:6]}")
            account = create_channel_account(session, ws.id, kind="x", name="load",
                                             config=dict(X_CONFIG))
            _, token = create_token(session, ws.id, role="admin", name="load-bench")
            account_id = str(account.id)
    finally:
        runtime.close()
    # processes restarted by a fault start from compiled bytecode, as an installed package does
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**env, "THREADLINE_DATABASE_URL": url, "THREADLINE_REDIS_URL": redis_url,
           "THREADLINE_SECRET_KEY": secret, "THREADLINE_LOG_LEVEL": "WARNING"}
    logs = Path(tempfile.mkdtemp(prefix="threadline-load-"))
    return Deployment(url, redis_url, env, logs), name, account_id, token


def _drop(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- the machine ------------------------------------------------------------------------------

def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 3) if total else 0.0


# --- webhooks ---------------------------------------------------------------------------------

def _request(port: int, hook: Any) -> bytes:
    head = (f"POST {hook.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Length: {len(hook.body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in hook.headers.items()) + "\r\n")
    return head.encode() + bytes(hook.body)


def _hook(account_id: str, tweet_id: str, customer: int, n: int) -> Any:
    return sx.mention_webhook(account_id, X_CONFIG, tweet_id, f"77{customer:08d}",
                              f"load{customer}", f"@brand order {n} has not arrived, "
                              f"customer {customer} asking again")


@dataclass
class Sent:
    tweet_id: str
    first_at: float = 0.0  # when the first attempt left
    accepted_at: float | None = None
    answer_ms: float | None = None
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)
    retry_after_seen: bool = False


class Connection:
    """One kept-alive HTTP/1.1 connection to a web process; requests in turn."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = asyncio.Lock()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, payload: bytes) -> tuple[int, dict[str, str]]:
        async with self.lock:
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1",
                                                                             self.port)
                assert self.reader is not None
                self.writer.write(payload)
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionError("closed")
                status = int(status_line.split()[1])
                headers: dict[str, str] = {}
                while True:
                    line = await self.reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    key, _, value = line.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length:
                    await self.reader.readexactly(length)
                if headers.get("connection", "").lower() == "close":
                    self._drop()
                return status, headers
            except (OSError, ConnectionError, ValueError, IndexError,
                    asyncio.IncompleteReadError):
                self._drop()
                return 0, {}

    def _drop(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _drive(ports: Sequence[int], hooks: list[tuple[Sent, Any]], rate: float,
                 per_port: int = 8) -> None:
    """Each webhook leaves at its slot (i / rate); a refused one is sent again after its
    Retry-After (at least 1 s) to the next web process, up to 60 s after its slot."""
    pools = [[Connection(p) for _ in range(per_port)] for p in ports]
    start = time.perf_counter()
    tasks = []

    async def one(i: int, sent: Sent, hook: Any) -> None:
        slot = start + i / rate
        await asyncio.sleep(max(0.0, slot - time.perf_counter()))
        sent.first_at = time.perf_counter()
        attempt = 0
        while True:
            pool = pools[(i + attempt) % len(pools)]
            conn = pool[(i // len(pools)) % len(pool)]
            t0 = time.perf_counter()
            status, headers = await conn.send(_request(conn.port, hook))
            sent.attempts += 1
            sent.statuses.append(status)
            if 200 <= status < 300:
                sent.accepted_at = time.perf_counter()
                sent.answer_ms = (sent.accepted_at - t0) * 1000
                return
            sent.retry_after_seen |= "retry-after" in headers
            if time.perf_counter() - slot > 60:
                return
            wait = 1.0
            with suppress(ValueError):
                wait = max(wait, float(headers.get("retry-after", "1")))
            attempt += 1
            await asyncio.sleep(wait)

    for i, (sent, hook) in enumerate(hooks):
        tasks.append(asyncio.create_task(one(i, sent, hook)))
    await asyncio.gather(*tasks)
    for pool in pools:
        for conn in pool:
            conn._drop()


# --- the stream -------------------------------------------------------------------------------

async def _listen(port: int, token: str, seen: dict[str, float], ready: asyncio.Event,
                  stop: asyncio.Event) -> None:
    """`message.created` events of the REST stream: message id -> when it arrived. Reconnects
    with Last-Event-ID when cut (a web process killed)."""
    last: str | None = None
    while not stop.is_set():
        headers = {"authorization": f"Bearer {token}"}
        if last:
            headers["last-event-id"] = last
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, \
                    client.stream("GET", f"http://127.0.0.1:{port}/api/v1/stream",
                                  headers=headers) as response:
                if response.status_code == 200:
                    ready.set()  # the stream starts after the newest event at this moment
                name = data = None
                async for line in response.aiter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data = line[5:].strip()
                    elif line.startswith("id:"):
                        last = line[3:].strip()
                    elif not line:
                        if name == "message.created" and data:
                            with suppress(ValueError, KeyError, TypeError):
                                seen.setdefault(json.loads(data)["message_id"],
                                                time.perf_counter())
                        name = data = None
        except (httpx.HTTPError, OSError):
            await asyncio.sleep(0.5)


# --- one run ----------------------------------------------------------------------------------

def _percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)


def _stored(database_url: str, tweet_ids: Sequence[str]) -> tuple[dict[str, str], int]:
    """provider id -> message id of the stored messages, and how many provider ids are stored
    more than once."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT provider_id, id::text FROM messages WHERE provider_id = ANY(:ids)"),
                {"ids": list(tweet_ids)}).all()
    finally:
        engine.dispose()
    found: dict[str, str] = {}
    duplicated = 0
    for provider_id, message_id in rows:
        if provider_id in found:
            duplicated += 1
        found[provider_id] = message_id
    return found, duplicated


def _service(action: str, name: str) -> None:
    if name == "postgres":
        cmd = ["pg_ctlcluster", "--mode", "fast", _pg_version(), "main", action] \
            if action == "stop" else ["pg_ctlcluster", _pg_version(), "main", action]
    else:
        cmd = ["service", "redis-server", action]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _pg_version() -> str:
    out = subprocess.run(["pg_lsclusters", "-h"], check=True, capture_output=True,
                         text=True).stdout.split()
    return out[0]


async def _fault(dep: Deployment, kind: str, at: float, seconds: float,
                 marks: dict[str, float]) -> None:
    await asyncio.sleep(at)
    marks["fault_at"] = time.perf_counter()
    if kind == "kill-worker":
        await asyncio.to_thread(dep.kill_worker, 0)
    elif kind == "kill-web":
        await asyncio.to_thread(dep.kill_web, 0)
    elif kind in ("stop-redis", "stop-postgres"):
        service = "redis" if kind == "stop-redis" else "postgres"
        await asyncio.to_thread(_service, "stop", service)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(_service, "start", service)
    marks["recovered_at"] = time.perf_counter()


async def _intake(dep: Deployment, account_id: str, token: str, rate: float, duration: float,
                  fault: str, fault_seconds: float) -> dict[str, Any]:
    ports = [p for p, _ in dep.webs]
    count = int(rate * duration)
    prefix = f"{int(time.time()) % 10**6:06d}"
    hooks = [(Sent(f"{prefix}{i:08d}"), _hook(account_id, f"{prefix}{i:08d}", i % 800, i))
             for i in range(count)]
    seen: dict[str, float] = {}
    ready, stop = asyncio.Event(), asyncio.Event()
    listener = asyncio.create_task(_listen(ports[-1], token, seen, ready, stop))
    await asyncio.wait_for(ready.wait(), 30)
    marks: dict[str, float] = {}
    faults = [asyncio.create_task(_fault(dep, fault, duration / 3, fault_seconds, marks))] \
        if fault != "none" else []
    cpu0, t0 = _cpu_times(), time.perf_counter()
    await _drive(ports, hooks, rate)
    sent_s = time.perf_counter() - t0
    cpu1 = _cpu_times()
    for task in faults:
        await task
    accepted = [s for s, _ in hooks if s.accepted_at is not None]
    # wait for the workers and the stream to catch up (at most 120 s)
    deadline = time.perf_counter() + 120
    stored: dict[str, str] = {}
    duplicated = 0
    while time.perf_counter() < deadline:
        stored, duplicated = await asyncio.to_thread(
            _stored, dep.database_url, [s.tweet_id for s in accepted])
        if len(stored) >= len(accepted) and all(m in seen for m in stored.values()):
            break
        await asyncio.sleep(1)
    await asyncio.sleep(2)
    stop.set()
    listener.cancel()
    with suppress(asyncio.CancelledError):
        await listener
    latencies = [(seen[stored[s.tweet_id]] - s.first_at) * 1000 for s in accepted
                 if s.tweet_id in stored and stored[s.tweet_id] in seen]
    answers = [s.answer_ms for s in accepted if s.answer_ms is not None]
    first_try = [s for s, _ in hooks if s.attempts == 1 and s.accepted_at is not None]
    window = [s for s, _ in hooks if s.accepted_at is not None
              and s.accepted_at - hooks[0][0].first_at <= duration + 1]
    result: dict[str, Any] = {
        "offered_per_s": rate, "duration_s": duration, "webhooks": count,
        "accepted": len(accepted), "accepted_first_try": len(first_try),
        "accepted_per_s": round(len(window) / duration, 1),
        "send_s": round(sent_s, 1),
        "answer_p50_ms": _percentile(answers, 50), "answer_p99_ms": _percentile(answers, 99),
        "webhook_to_stream_p50_ms": _percentile(latencies, 50),
        "webhook_to_stream_p99_ms": _percentile(latencies, 99),
        "stream_missed": sum(1 for m in stored.values() if m not in seen),
        "lost": len(accepted) - len(stored), "duplicated": duplicated,
        "never_accepted": count - len(accepted),
        "machine_busy": _busy_share(cpu0, cpu1), "cores": os.cpu_count()}
    if fault != "none":
        refused = [st for s, _ in hooks for st in s.statuses if not 200 <= st < 300]
        result["fault"] = {
            "kind": fault, "seconds": fault_seconds if fault.startswith("stop") else 0,
            "refused": len(refused),
            "refused_503": sum(1 for st in refused if st == 503),
            "refused_500": sum(1 for st in refused if st == 500),
            "cut_off": sum(1 for st in refused if st == 0),
            "retry_after_on_refusals": all(s.retry_after_seen for s, _ in hooks
                                           if any(st == 503 for st in s.statuses))}
        if "recovered_at" in marks:
            after = [(seen[stored[s.tweet_id]] - s.first_at) * 1000 for s in accepted
                     if s.first_at > marks["recovered_at"] and s.tweet_id in stored
                     and stored[s.tweet_id] in seen]
            result["fault"]["after_recovery_p50_ms"] = _percentile(after, 50)
            result["fault"]["after_recovery_p99_ms"] = _percentile(after, 99)
            result["fault"]["push_back_within_s"] = _push_back(accepted, stored, seen,
                                                               marks["recovered_at"])
    return result


def _push_back(accepted: Sequence[Sent], stored: dict[str, str], seen: dict[str, float],
               recovered_at: float) -> float | None:
    """Seconds after the service returned until events reach the stream in push time again
    (the first of ten webhooks in a row under 500 ms)."""
    after = sorted((s for s in accepted if s.first_at > recovered_at
                    and stored.get(s.tweet_id) in seen), key=lambda s: s.first_at)
    run = 0
    for s in after:
        latency = seen[stored[s.tweet_id]] - s.first_at
        run = run + 1 if latency < 0.5 else 0
        if run == 10:
            return round(s.first_at - recovered_at, 1)
    return None


def _sql(database_url: str, statement: str) -> int:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return int(result.scalar_one()) if result.returns_rows else result.rowcount
    finally:
        engine.dispose()


PENDING = "SELECT count(*) FROM inbound_events WHERE status = 'pending'"
CONNECTIONS = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND pid <> pg_backend_pid()")


async def _drain(dep: Deployment, account_id: str, events: int, counts: Sequence[int],
                 ) -> list[dict[str, Any]]:
    """For each worker count: store `events` webhooks held back (due in a day) with no worker
    running, start the workers and wait until each holds its database connection, release
    every event at once, and time the drain (process start-up is not counted)."""
    out = []
    ports = [p for p, _ in dep.webs]
    for k in counts:
        dep.stop_workers()
        prefix = f"9{k}{int(time.time()) % 10**5:05d}"
        hooks = [(Sent(f"{prefix}{i:07d}"), _hook(account_id, f"{prefix}{i:07d}",
                                                   i % max(1, events // 10), i))
                 for i in range(events)]
        await _drive(ports, hooks, rate=5000)
        await asyncio.to_thread(_sql, dep.database_url, "UPDATE inbound_events SET "
                                "next_attempt_at = now() + interval '1 day' "
                                "WHERE status = 'pending'")
        base = await asyncio.to_thread(_sql, dep.database_url, CONNECTIONS)
        for _ in range(k):
            dep.start_worker()
        deadline = time.monotonic() + 300
        while await asyncio.to_thread(_sql, dep.database_url, CONNECTIONS) < base + k:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not connect")
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # their first idle polls
        cpu0, t0 = _cpu_times(), time.perf_counter()
        await asyncio.to_thread(_sql, dep.database_url, "UPDATE inbound_events SET "
                                "next_attempt_at = now() WHERE status = 'pending'")
        while await asyncio.to_thread(_sql, dep.database_url, PENDING):
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - t0
        cpu1 = _cpu_times()
        out.append({"workers": k, "events": events, "drain_s": round(elapsed, 2),
                    "events_per_s": round(events / elapsed, 1),
                    "machine_busy": _busy_share(cpu0, cpu1)})
    if out:
        first = out[0]
        cap = 1 / first["machine_busy"] if first["machine_busy"] else None
        for row in out:
            row["speedup"] = round(row["events_per_s"] / first["events_per_s"], 2)
            if cap:
                row["cores_allow"] = round(min(row["workers"], cap), 2)
                row["of_what_cores_allow"] = round(row["speedup"] / min(row["workers"], cap),
                                                   2)
    return out


def _options(args: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="threadline bench load")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain", type=int, default=0)
    parser.add_argument("--drain-workers", default="1,2,4")
    parser.add_argument("--fault", default="none", choices=[
        "none", "kill-worker", "kill-web", "stop-redis", "stop-postgres"])
    parser.add_argument("--fault-seconds", type=float, default=10)
    parser.add_argument("--database-url", default=os.environ.get(
        "THREADLINE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get(
        "THREADLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    return parser.parse_args(list(args))


def run(data: Path, args: Sequence[str] = ()) -> dict[str, Any]:
    del data
    opts = _options(args)
    admin_url = opts.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    dep, name, account_id, token = _prepare(admin_url, opts.redis_url)
    try:
        for _ in range(opts.web):
            dep.start_web()
        _wait_ready(dep)
        result: dict[str, Any] = {"web_processes": opts.web, "cores": os.cpu_count(),
                                  "load_average_before": [round(x, 2)
                                                          for x in os.getloadavg()]}
        if opts.drain:
            counts = [int(c) for c in opts.drain_workers.split(",") if c.strip()]
            result["drain"] = asyncio.run(_drain(dep, account_id, opts.drain, counts))
        if opts.duration > 0 and opts.rate > 0:
            dep.stop_workers()
            for _ in range(opts.workers):
                dep.start_worker()
            result["workers"] = opts.workers
            result["intake"] = asyncio.run(_intake(dep, account_id, token, opts.rate,
                                                   opts.duration, opts.fault,
                                                   opts.fault_seconds))
        return result
    finally:
        dep.close()
        _drop(admin_url, name)
