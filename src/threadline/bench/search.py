"""Search at scale: a workspace with 1,000,000 messages and 100,000 customers (the
Customer Support on Twitter corpus from the data folder, reused to get there: every message
joins the first half of one real tweet to the second half of another, so the word
frequencies stay those of real customer care), indexed through the search package's own
document builders; then the latency of two-word searches (common, middling and rare words,
in a spread of pairs) and the lag from a new message's commit to its being findable.

    threadline bench search --json
    threadline bench search --json -- --messages 100000 --customers 10000
    threadline bench search --json -- --database-url postgresql://postgres@127.0.0.1/bench

The database is a fresh SQLite file, or the one of `--database-url` (default
THREADLINE_BENCH_DATABASE_URL), which must be an empty database.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, Uuid, column, table

from threadline.bench.common import fresh_runtime, new_workspace, peak_rss_mb
from threadline.bench.ingest import load_tweets
from threadline.contacts.models import Customer, Identity
from threadline.db.base import UTCDateTime, new_id, utcnow
from threadline.ingest.replay import replay_account, store_events
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.search import backends
from threadline.search.documents import document_row
from threadline.search.indexer import customer_document
from threadline.search.query import search

CHUNK = 5_000
PER_CONVERSATION = 5
_MENTION = re.compile(r"@\w+")
_WORD = re.compile(r"[a-z]{3,}")
STOP = frozenset((
    "the", "and", "you", "for", "your", "that", "this", "with", "have", "are", "not", "can",
    "was", "but", "please", "just", "get", "what", "out", "all", "our", "will", "has", "how",
    "http", "https", "they", "from", "about", "there", "when", "one", "would", "any", "been",
    "did", "its", "know", "like", "more", "now", "see", "she", "than", "then", "them", "too",
    "very", "had", "him", "his", "her", "who", "why", "new", "may", "yes", "also", "into",
    "some", "only", "over", "could", "should", "their", "which", "where",
))
FIRST = (
    "Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Xavi", "Yara", "Zoe",
)
LAST = (
    "Adeyemi", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
    "Ivanova", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov",
    "Quispe", "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Walsh", "Xu", "Yilmaz", "Zhang",
)

_CUSTOMERS = table("customers", column("id", Uuid()), column("workspace_id", Uuid()),
                   column("name", String()), column("custom_fields", JSON()),
                   column("external_ids", JSON()), column("created_at", UTCDateTime()),
                   column("updated_at", UTCDateTime()))
_IDENTITIES = table("identities", column("id", Uuid()), column("workspace_id", Uuid()),
                    column("customer_id", Uuid()), column("kind", String()),
                    column("address", String()), column("handle", String()),
                    column("display_name", String()), column("evidence", String()),
                    column("created_at", UTCDateTime()), column("linked_at", UTCDateTime()))
_CONVERSATIONS = table(
    "conversations", column("id", Uuid()), column("workspace_id", Uuid()),
    column("customer_id", Uuid()), column("status", String()),
    column("origin_channel", String()), column("origin_visibility", String()),
    column("priority", Integer()), column("labels", JSON()),
    column("required_skills", JSON()), column("message_count", Integer()),
    column("reopen_count", Integer()), column("created_at", UTCDateTime()),
    column("updated_at", UTCDateTime()), column("last_message_at", UTCDateTime()))
# the plain text type: the bench's tweets skip the redaction pass of the real column type
_MESSAGES = table(
    "messages", column("id", Uuid()), column("workspace_id", Uuid()),
    column("conversation_id", Uuid()), column("channel", String()),
    column("direction", String()), column("visibility", String()), column("kind", String()),
    column("text", Text()), column("attachments", JSON()), column("triage", JSON()),
    column("meta", JSON()), column("delivery", String()), column("author_type", String()),
    column("provider_id", String()), column("reply_to_provider_id", String()),
    column("created_at", UTCDateTime()))


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="threadline bench search --")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--lag-samples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--database-url",
                        default=os.environ.get("THREADLINE_BENCH_DATABASE_URL") or None)
    return parser.parse_args(argv or [])


def _texts(data: Path) -> list[str]:
    texts = [" ".join(_MENTION.sub("", t.text).split()) for t in load_tweets(data)]
    texts = [t for t in texts if len(t) > 15]
    if not texts:
        raise SystemExit(f"no twcs tweets under {data} (the --data folder)")
    return texts


def _spliced(rng: random.Random, texts: list[str]) -> str:
    a = rng.choice(texts).split()
    b = rng.choice(texts).split()
    return " ".join(a[: max(1, len(a) // 2)] + b[len(b) // 2:])


def _customers(runtime: Runtime, ws: uuid.UUID, n: int, rng: random.Random) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    now = utcnow()
    for start in range(0, n, CHUNK):
        customers: list[dict[str, Any]] = []
        identities: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        for i in range(start, min(n, start + CHUNK)):
            cid = new_id()
            ids.append(cid)
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            handle = f"{name.split()[0].lower()}_{name.split()[1].lower()}{i}"
            customer = Customer(id=cid, workspace_id=ws, name=name, created_at=now)
            idents = [Identity(id=new_id(), workspace_id=ws, customer_id=cid, kind="x",
                               address=str(10_000_000 + i), handle=handle, display_name=name,
                               evidence="provider")]
            if i % 3 == 0:
                idents.append(Identity(id=new_id(), workspace_id=ws, customer_id=cid,
                                       kind="email", address=f"{handle}@example.com",
                                       evidence="customer_asserted"))
            if i % 4 == 0:
                idents.append(Identity(id=new_id(), workspace_id=ws, customer_id=cid,
                                       kind="phone", address=f"+1555{i:07d}",
                                       evidence="customer_asserted"))
            customers.append({"id": cid, "workspace_id": ws, "name": name,
                              "custom_fields": {}, "external_ids": {}, "created_at": now,
                              "updated_at": now})
            identities += [{"id": d.id, "workspace_id": ws, "customer_id": cid, "kind": d.kind,
                            "address": d.address, "handle": d.handle,
                            "display_name": d.display_name, "evidence": d.evidence,
                            "created_at": now, "linked_at": now} for d in idents]
            docs.append(customer_document(customer, idents, now))
        with runtime.db.session() as session:
            session.execute(_CUSTOMERS.insert(), customers)
            session.execute(_IDENTITIES.insert(), identities)
            backends.write(session, docs)
    return ids


def _messages(runtime: Runtime, ws: uuid.UUID, n: int, customers: list[uuid.UUID],
              texts: list[str], rng: random.Random) -> None:
    now = utcnow()
    conv_id = new_id()
    for start in range(0, n, CHUNK):
        convs: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        for i in range(start, min(n, start + CHUNK)):
            created = now - timedelta(minutes=n - i)
            if i % PER_CONVERSATION == 0:
                conv_id = new_id(created)
                convs.append({
                    "id": conv_id, "workspace_id": ws, "customer_id": rng.choice(customers),
                    "status": rng.choice(("open", "pending", "resolved", "closed")),
                    "origin_channel": "x", "origin_visibility": "public", "priority": 4,
                    "labels": [], "required_skills": [], "message_count": PER_CONVERSATION,
                    "reopen_count": 0, "created_at": created, "updated_at": created,
                    "last_message_at": created})
            inbound = i % PER_CONVERSATION != 1
            text = _spliced(rng, texts)
            mid = new_id(created)  # an id of its moment, as if written then
            messages.append({
                "id": mid, "workspace_id": ws, "conversation_id": conv_id, "channel": "x",
                "direction": "inbound" if inbound else "outbound", "visibility": "public",
                "kind": "comment", "text": text, "attachments": [], "triage": {}, "meta": {},
                "delivery": "received" if inbound else "sent",
                "author_type": "customer" if inbound else "agent",
                # the provider's ids, as real tweets and replies have them (the planner's
                # statistics of the id indexes are those of a real table)
                "provider_id": f"{10**17 + i}",
                "reply_to_provider_id": None if inbound else f"{10**17 + i - 1}",
                "created_at": created})
            # what search.indexer.message_document makes of it (no personal data spans here)
            docs.append(document_row(ws, kind="message", ref_id=mid, title="", body=text,
                                     language="en", conversation_id=conv_id, channel="x",
                                     visibility="public",
                                     author_type="customer" if inbound else "agent",
                                     created_at=created, now=now))
        with runtime.db.session() as session:
            if convs:
                session.execute(_CONVERSATIONS.insert(), convs)
            session.execute(_MESSAGES.insert(), messages)
            backends.write(session, docs)


def _queries(texts: list[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """Two-word queries: (band, query) in five equal shares of common, middling and rare
    words (rare: seen 3 to 10 times in the corpus)."""
    freq = Counter(w for t in texts for w in _WORD.findall(t.lower()) if w not in STOP)
    ranked = [w for w, _ in freq.most_common()]
    common, middle = ranked[:100], ranked[100:2000]
    rare = [w for w, c in freq.items() if 3 <= c <= 10]
    bands = {"common+common": (common, common), "common+middle": (common, middle),
             "middle+middle": (middle, middle), "common+rare": (common, rare),
             "middle+rare": (middle, rare)}
    names = list(bands)
    out = []
    for i in range(count):
        band = names[i % len(names)]
        a, b = bands[band]
        out.append((band, f"{rng.choice(a)} {rng.choice(b)}"))
    return out


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time_queries(runtime: Runtime, ws: uuid.UUID,
                  queries: list[tuple[str, str]]) -> dict[str, Any]:
    for _, q in queries[:20]:  # warm the caches as a running server has them
        with runtime.db.session(write=False) as session:
            search(session, ws, q)
    by_band: dict[str, list[float]] = {}
    found = 0
    for band, q in queries:
        with runtime.db.session(write=False) as session:
            started = time.perf_counter()
            hits = search(session, ws, q).hits
            elapsed = (time.perf_counter() - started) * 1000
        found += bool(hits)
        by_band.setdefault(band, []).append(elapsed)
    every = [v for values in by_band.values() for v in values]
    return {"query_p50_ms": round(_p(every, 0.5), 1), "query_p95_ms": round(_p(every, 0.95), 1),
            "query_max_ms": round(max(every), 1), "queries": len(every),
            "queries_with_hits": found,
            "query_p95_ms_by_band": {b: round(_p(v, 0.95), 1) for b, v in by_band.items()}}


def _lag(runtime: Runtime, ws: uuid.UUID, samples: int, rng: random.Random) -> dict[str, Any]:
    """From the commit of a customer's webhook (the event stored) to the message findable,
    with a worker running as in `threadline worker`."""
    with runtime.db.session() as session:
        account = replay_account(session, ws, name="search bench")
    stop = threading.Event()
    worker = Worker(runtime, name="bench-search")
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    lags: list[float] = []
    try:
        time.sleep(0.5)
        for i in range(samples + 1):  # the first one warms the worker up: not counted
            word = "zq" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))
            event = {"id": f"lag-{i}-{word}", "type": "message", "message": {
                "id": f"lag-{i}-{word}", "text": f"my order {word} never arrived",
                "visibility": "public", "kind": "post", "created_at": utcnow().isoformat(),
                "author": {"id": f"lag-author-{i}", "kind": "x", "handle": f"lag{i}",
                           "is_self": False}}}
            with runtime.db.session() as session:
                store_events(session, account, [event])
            started = time.perf_counter()  # committed
            while time.perf_counter() - started < 30:
                with runtime.db.session(write=False) as session:
                    if search(session, ws, f"order {word}").hits:
                        break
                time.sleep(0.02)  # the poller shares the GIL with the worker
            if i:
                lags.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    return {"index_lag_ms": round(max(lags), 1),
            "index_lag_p50_ms": round(statistics.median(lags), 1),
            "index_lag_samples": len(lags)}


def run(data: Path, argv: list[str] | None = None) -> dict[str, Any]:
    args = _args(argv)
    rng = random.Random(args.seed)
    texts = _texts(data)
    runtime, tmp = fresh_runtime(args.database_url)
    try:
        ws = new_workspace(runtime, "search-bench")
        started = time.perf_counter()
        customers = _customers(runtime, ws, args.customers, rng)
        customers_s = time.perf_counter() - started
        started = time.perf_counter()
        _messages(runtime, ws, args.messages, customers, texts, rng)
        messages_s = time.perf_counter() - started
        if runtime.db.engine.dialect.name == "postgresql":
            with runtime.db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with runtime.db.engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
                conn.exec_driver_sql("ANALYZE")
        build_s = time.perf_counter() - started + customers_s
        timings = _time_queries(runtime, ws, _queries(texts, args.queries, rng))
        lag = _lag(runtime, ws, args.lag_samples, rng)
        return {
            "bench": "search", "database": runtime.db.engine.dialect.name,
            "messages": args.messages, "customers": args.customers,
            **timings, **lag,
            "build_s": round(build_s, 1), "customers_s": round(customers_s, 1),
            "messages_s": round(messages_s, 1),
            "messages_indexed_per_s": round(args.messages / max(messages_s, 1e-9)),
            "corpus_tweets": len(texts),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(), "peak_rss_mb": peak_rss_mb()}
    finally:
        runtime.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
