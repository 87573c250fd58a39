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
import os
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from sqlalchemy import text

from threadline.bench.load_deployment import (
    Deployment,
    busy_share,
    cpu_times,
    drop,
    engine,
    prepare,
    wait_ready,
)
from threadline.bench.load_traffic import Sent, drive, hook, listen

# --- one run ----------------------------------------------------------------------------------

def _percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)


def _stored(database_url: str, tweet_ids: Sequence[str]) -> tuple[dict[str, str], int]:
    """provider id -> message id of the stored messages, and how many provider ids are stored
    more than once."""
    db = engine(database_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(text(
                "SELECT provider_id, id::text FROM messages WHERE provider_id = ANY(:ids)"),
                {"ids": list(tweet_ids)}).all()
    finally:
        db.dispose()
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
    hooks = [(Sent(f"{prefix}{i:08d}"), hook(account_id, f"{prefix}{i:08d}", i % 800, i))
             for i in range(count)]
    seen: dict[str, float] = {}
    ready, stop = asyncio.Event(), asyncio.Event()
    listener = asyncio.create_task(listen(ports[-1], token, seen, ready, stop))
    await asyncio.wait_for(ready.wait(), 30)
    marks: dict[str, float] = {}
    faults = [asyncio.create_task(_fault(dep, fault, duration / 3, fault_seconds, marks))] \
        if fault != "none" else []
    cpu0, t0 = cpu_times(), time.perf_counter()
    await drive(ports, hooks, rate)
    sent_s = time.perf_counter() - t0
    cpu1 = cpu_times()
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
        "machine_busy": busy_share(cpu0, cpu1), "cores": os.cpu_count()}
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
    db = engine(database_url)
    try:
        with db.begin() as conn:
            result = conn.execute(text(statement))
            return int(result.scalar_one()) if result.returns_rows else result.rowcount
    finally:
        db.dispose()


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
        hooks = [(Sent(f"{prefix}{i:07d}"), hook(account_id, f"{prefix}{i:07d}",
                                                   i % max(1, events // 10), i))
                 for i in range(events)]
        await drive(ports, hooks, rate=5000)
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
        cpu0, t0 = cpu_times(), time.perf_counter()
        await asyncio.to_thread(_sql, dep.database_url, "UPDATE inbound_events SET "
                                "next_attempt_at = now() WHERE status = 'pending'")
        while await asyncio.to_thread(_sql, dep.database_url, PENDING):
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - t0
        cpu1 = cpu_times()
        out.append({"workers": k, "events": events, "drain_s": round(elapsed, 2),
                    "events_per_s": round(events / elapsed, 1),
                    "machine_busy": busy_share(cpu0, cpu1)})
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
    dep, name, account_id, token = prepare(admin_url, opts.redis_url)
    try:
        for _ in range(opts.web):
            dep.start_web()
        wait_ready(dep)
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
        drop(admin_url, name)
