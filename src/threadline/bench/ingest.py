"""Ingest speed: the full path (verify, store, process: identity, threading, persist) in one
process on SQLite, next to a bare sqlite3 executemany of the same rows."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from threadline.bench.common import drain, fresh_runtime, new_workspace, peak_rss_mb
from threadline.ingest.replay import (
    Tweet,
    chunks,
    read_twcs,
    replay_account,
    store_events,
    twcs_files,
    tweet_event,
)
from threadline.jobs.runtime import Runtime

EVENTS_PER_BODY = 100


def load_tweets(data_dir: Path) -> list[Tweet]:
    twcs = data_dir / "twcs" if (data_dir / "twcs").exists() else data_dir
    seen: dict[str, Tweet] = {}
    for f in twcs_files(twcs):
        for t in read_twcs(f):
            seen.setdefault(t.tweet_id, t)
    return list(seen.values())


def _round(tweets: list[Tweet], prefix: str) -> list[dict[str, Any]]:
    return [tweet_event(t, prefix) for t in tweets]


def timed_run(runtime: Runtime, account: Any, events: list[dict[str, Any]]) -> dict[str, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    for batch in chunks(events, EVENTS_PER_BODY):
        with runtime.db.session() as session:
            store_events(session, account, batch)
    t1 = time.perf_counter()
    drain(runtime)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"store_s": t1 - t0, "process_s": t2 - t1, "total_s": t2 - t0, "cpu_s": c2 - c0}


def bare_sqlite(events: list[dict[str, Any]]) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="threadline-bare-"))
    try:
        conn = sqlite3.connect(tmp / "bare.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE m (id TEXT PRIMARY KEY, conv TEXT, author TEXT, "
                     "reply_to TEXT, text TEXT, created_at TEXT)")
        rows = [(e["message"]["id"], e["message"].get("in_reply_to"),
                 e["message"]["author"]["id"], e["message"].get("in_reply_to"),
                 e["message"]["text"], e["message"]["created_at"]) for e in events]
        t0 = time.perf_counter()
        with conn:
            conn.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?, ?)", rows)
        elapsed = time.perf_counter() - t0
        conn.close()
        return len(rows) / elapsed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(data_dir: Path, *, grow_to: int = 100_000, sample: int = 10_000) -> dict[str, Any]:
    tweets = load_tweets(data_dir)
    runtime, tmp = fresh_runtime()
    try:
        ws = new_workspace(runtime, "bench-ingest")
        with runtime.db.session() as session:
            account = replay_account(session, ws)
        # Cost per event on a near-empty database (0 -> 10k messages) ...
        sample_tweets = tweets[:sample]
        at_small = timed_run(runtime, account, _round(sample_tweets, "s0-"))
        full = _round(tweets, "r0-")
        first = timed_run(runtime, account, full)
        events_per_s = len(full) / first["total_s"]
        count = len(full) + len(sample_tweets)
        rnd = 1
        while count < grow_to:
            batch = _round(tweets, f"g{rnd}-")[: grow_to - count]
            timed_run(runtime, account, batch)
            count += len(batch)
            rnd += 1
        # ... and the same sample once the database holds 100k messages.
        at_large = timed_run(runtime, account, _round(sample_tweets, "s1-"))
        bare = bare_sqlite(full)
        # Cost per event as CPU time of this process: not skewed by other load on the machine.
        per_event_small = at_small["cpu_s"] / len(sample_tweets)
        per_event_large = at_large["cpu_s"] / len(sample_tweets)
        return {
            "bench": "ingest",
            "events": len(full),
            "events_per_body": EVENTS_PER_BODY,
            "events_per_s": round(events_per_s, 1),
            "store_events_per_s": round(len(full) / first["store_s"], 1),
            "process_events_per_s": round(len(full) / first["process_s"], 1),
            "sqlite_insert_per_s": round(bare, 1),
            "ratio": round(bare / events_per_s, 2),
            "events_per_s_at_10k": round(len(sample_tweets) / at_small["total_s"], 1),
            "events_per_s_at_100k": round(len(sample_tweets) / at_large["total_s"], 1),
            "messages_at_end": count + len(sample_tweets),
            "cpu_ms_per_event_at_10k": round(per_event_small * 1000, 3),
            "cpu_ms_per_event_at_100k": round(per_event_large * 1000, 3),
            "cost_ratio_100k_vs_10k": round(per_event_large / per_event_small, 3),
            "wall_ratio_100k_vs_10k": round(at_large["total_s"] / at_small["total_s"], 3),
            "peak_rss_mb": peak_rss_mb(),
            "database": "sqlite",
        }
    finally:
        runtime.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
