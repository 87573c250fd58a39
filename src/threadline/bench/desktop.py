"""Desktop speed at scale: a fresh SQLite database with 100k conversations and 1M messages
(bulk Core inserts of generated, realistic texts), then the server time of the inbox page,
a conversation of 200 messages and the customer page, measured around the ASGI app in-process
(no network): p50/p95 over many requests."""

from __future__ import annotations

import random
import shutil
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from threadline.bench.common import fresh_runtime, new_workspace, peak_rss_mb
from threadline.contacts.models import Customer, Identity
from threadline.conversations.models import Conversation, Message
from threadline.jobs.runtime import Runtime
from threadline.web.app import create_app
from threadline.workspace.models import ChannelAccount, Team
from threadline.workspace.service import create_agent

CONVERSATIONS = 100_000
MESSAGES = 1_000_000
BIG = 200  # messages in the measured conversation
REQUESTS = 200
WARMUP = 15
CHUNK = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)
CHANNELS = [("x", "public"), ("x", "private"), ("facebook", "public"), ("messenger", "private"),
            ("instagram", "public"), ("whatsapp", "private"), ("email", "private"),
            ("sms", "private")]
OPENERS = ["my order {n} still hasn't arrived", "the app crashes when I open my basket",
           "why was I charged twice for booking {n}?", "your store on Main St is closed again",
           "love the new update, great job", "how do I change the delivery address?",
           "flight {n} delayed three hours and nobody tells us anything",
           "is the blue jacket back in stock?", "I can't log in since yesterday",
           "refund for order {n} please", "what are your opening hours on Sunday?"]
REPLIES = ["Sorry about that! Could you send us a DM with your order number?",
           "Thanks for telling us, we're looking into it now.",
           "Here is how to change it: Settings > Addresses > Edit.",
           "I've passed this to our billing team, you'll hear back today.",
           "Glad you like it! Thanks for the kind words.",
           "We're open 10:00-16:00 on Sundays.", "Could you try reinstalling the app?"]
FOLLOWUPS = ["still waiting...", "ok thanks", "sent you a DM", "that worked, thank you!",
             "no it still doesn't work", "any news?", "great, appreciate it"]
STATUSES = ["open"] * 18 + ["pending"] * 7 + ["snoozed"] * 3 + ["resolved"] * 62 + \
    ["closed"] * 10
RELEVANCES = ["direct"] * 5 + ["mention"] * 3 + ["competitor", "chatter"]  # public ones
CATEGORIES = [None, "complaint", "feedback", "technical_query", "general_question", "praise"]


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(runtime: Runtime, model: Any, rows: Iterator[dict[str, Any]]) -> int:
    table = model.__table__
    count = 0
    for batch in _chunks(rows):
        with runtime.db.engine.begin() as conn:
            conn.execute(table.insert(), batch)
        count += len(batch)
    return count


def fill(runtime: Runtime, workspace_id: uuid.UUID, *, conversations: int = CONVERSATIONS,
         messages: int = MESSAGES, seed: int = 7) -> dict[str, Any]:
    """Bulk-load the workspace; returns ids of the measured conversation and customer."""
    rnd = random.Random(seed)
    with runtime.db.session() as session:
        accounts = {}
        for kind in sorted({k for k, _ in CHANNELS}):
            account = ChannelAccount(id=uuid.uuid4(), workspace_id=workspace_id, kind=kind,
                                     name=f"Brand {kind}", config={}, active=True)
            session.add(account)
            accounts[kind] = account.id
        teams = [Team(id=uuid.uuid4(), workspace_id=workspace_id, name=n)
                 for n in ("Social", "Billing", "Tech", "VIP")]
        session.add_all(teams)
        session.flush()
        agents = [create_agent(session, workspace_id, email=f"agent{i}@bench.example",
                               role="agent", name=f"Agent {i}", password="bench-password")[0].id
                  for i in range(20)]
    team_ids = [t.id for t in teams]
    customers = max(1, int(conversations * 0.6))
    customer_ids = [uuid.uuid4() for _ in range(customers)]
    identity_ids = [uuid.uuid4() for _ in range(customers)]
    now = START

    def customer_rows() -> Iterator[dict[str, Any]]:
        for i, cid in enumerate(customer_ids):
            yield {"id": cid, "workspace_id": workspace_id, "name": f"Customer {i}",
                   "custom_fields": {}, "external_ids": {}, "created_at": now,
                   "updated_at": now, "language": "en", "notes": None}

    def identity_rows() -> Iterator[dict[str, Any]]:
        for i, (cid, iid) in enumerate(zip(customer_ids, identity_ids, strict=True)):
            yield {"id": iid, "workspace_id": workspace_id, "customer_id": cid, "kind": "x",
                   "address": str(10**9 + i), "handle": f"cust{i}", "display_name": None,
                   "evidence": "provider", "linked_at": now, "created_at": now}

    _insert(runtime, Customer, customer_rows())
    _insert(runtime, Identity, identity_rows())

    # Message counts per conversation: one of BIG, the rest spread to reach `messages`.
    rest = messages - BIG
    per = [max(1, int(rnd.expovariate(1 / (rest / (conversations - 1)))) + 1)
           for _ in range(conversations - 1)]
    scale = rest / sum(per)
    counts = [BIG] + [max(1, round(p * scale)) for p in per]
    diff, i = messages - sum(counts), 1
    while diff and len(counts) > 1:  # exact total: spread the rounding over the others
        if diff > 0 or counts[i] > 1:
            counts[i] += 1 if diff > 0 else -1
            diff += -1 if diff > 0 else 1
        i = i % (len(counts) - 1) + 1
    plan: list[dict[str, Any]] = []
    for n, count in enumerate(counts):
        cust = 0 if n == 0 else rnd.randrange(customers)
        kind, vis = CHANNELS[rnd.randrange(len(CHANNELS))]
        created = START + timedelta(minutes=n * 3 + rnd.random())
        plan.append({"id": uuid.uuid4(), "count": count, "customer": cust, "kind": kind,
                     "vis": vis, "created": created,
                     "last": created + timedelta(minutes=count * 7)})
    plan[0]["last"] = START + timedelta(minutes=len(plan) * 3 + 60)  # newest activity

    def conversation_rows() -> Iterator[dict[str, Any]]:
        for n, p in enumerate(plan):
            status = STATUSES[rnd.randrange(len(STATUSES))] if n else "open"
            due = p["last"] + timedelta(hours=rnd.choice([1, 4, 24])) \
                if status in ("open", "pending") else None
            yield {"id": p["id"], "workspace_id": workspace_id,
                   "customer_id": customer_ids[p["customer"]], "status": status,
                   "origin_channel": p["kind"], "origin_visibility": p["vis"],
                   "origin_account_id": accounts[p["kind"]], "subject": None,
                   "category": rnd.choice(CATEGORIES), "priority": rnd.choice([4, 4, 4, 3, 2, 1]),
                   "relevance": "direct" if p["vis"] == "private" else rnd.choice(RELEVANCES),
                   "sentiment": None, "language": "en",
                   "assignee_id": rnd.choice(agents) if rnd.random() < 0.7 else None,
                   "team_id": rnd.choice(team_ids), "labels": [] if rnd.random() < .8
                   else [rnd.choice(["vip", "billing", "outage", "refund"])],
                   "sla_due_at": due, "snoozed_until": None, "first_response_at": None,
                   "resolved_at": None, "reopen_count": 0, "message_count": p["count"],
                   "last_message_at": p["last"], "last_inbound_at": p["last"],
                   "merged_into_id": None, "created_at": p["created"], "updated_at": p["last"],
                   "origin_message_id": None}

    def message_rows() -> Iterator[dict[str, Any]]:
        for p in plan:
            step = (p["last"] - p["created"]) / max(1, p["count"] - 1)
            kind, vis = p["kind"], p["vis"]
            for i in range(p["count"]):
                inbound = i % 2 == 0
                if p["count"] == BIG and i % 25 == 0:  # the measured one hops channels
                    kind, vis = CHANNELS[(i // 25) % len(CHANNELS)]
                text = (OPENERS[rnd.randrange(len(OPENERS))].format(n=rnd.randrange(10**6))
                        if i == 0 else (FOLLOWUPS[rnd.randrange(len(FOLLOWUPS))] if inbound
                                        else REPLIES[rnd.randrange(len(REPLIES))]))
                yield {"id": uuid.uuid4(), "workspace_id": workspace_id,
                       "conversation_id": p["id"], "channel_account_id": accounts[kind],
                       "channel": kind, "identity_id": identity_ids[p["customer"]]
                       if inbound else None, "direction": "inbound" if inbound else "outbound",
                       "visibility": vis, "kind": "message", "provider_id": None,
                       "reply_to_provider_id": None, "root_provider_id": None,
                       "thread_key": None, "text": text, "html": None, "subject": None,
                       "attachments": [], "provider_created_at": None,
                       "created_at": p["created"] + step * i if i < p["count"] - 1
                       else p["last"], "delivery": "received" if inbound else "sent",
                       "delivery_error": None, "author_type": "customer" if inbound else "agent",
                       "author_agent_id": None if inbound else agents[0],
                       "triage": {"category": "complaint", "sentiment": "negative"}
                       if inbound and i == 0 else {}, "meta": {}, "edited_at": None,
                       "deleted_at": None}

    _insert(runtime, Conversation, conversation_rows())
    total = _insert(runtime, Message, message_rows())
    with runtime.db.engine.begin() as conn:
        if runtime.db.dialect == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    return {"conversation_id": plan[0]["id"], "customer_id": customer_ids[0],
            "messages": total, "conversations": len(plan)}


class Timed:
    """ASGI wrapper: the server time of each request, from the call to the last body byte."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        await self.app(scope, receive, send)
        self.samples.append((time.perf_counter() - t0) * 1000)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
            "max_ms": round(ordered[-1], 1), "requests": len(ordered)}


def measure(runtime: Runtime, ids: dict[str, Any], requests: int = REQUESTS,
            ) -> dict[str, dict[str, float]]:
    timed = Timed(create_app(runtime, workers=0))
    out: dict[str, dict[str, float]] = {}
    with TestClient(timed) as client:
        import re

        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        r = client.post("/login", data={"email": "agent0@bench.example",
                                        "password": "bench-password",
                                        "csrf_token": token.group(1)}, follow_redirects=False)
        assert r.status_code == 303, r.text
        targets = {
            "inbox_page": "/inbox",
            "conversation_200_messages": f"/conversations/{ids['conversation_id']}",
            "customer_page": f"/customers/{ids['customer_id']}",
            "inbox_filtered_whatsapp_mine": "/inbox/list?channel=whatsapp&assignee=me",
            "inbox_recent_order": "/inbox/list?sort=recent",
            "inbox_mentions_view": "/inbox/list?view=mentions",
        }
        deep = client.get("/inbox/list?view=all")
        for _ in range(40):  # walk 2,000 rows down for a deep keyset page
            m = re.search(r'hx-get="(/inbox/list\?[^"]*cursor=[^"]+)"', deep.text)
            if not m:
                break
            deep = client.get(m.group(1).replace("&amp;", "&"))
        if m:
            targets["inbox_page_2000_deep"] = m.group(1).replace("&amp;", "&")
        for name, url in targets.items():
            for _ in range(WARMUP):
                assert client.get(url).status_code == 200, url
            timed.samples.clear()
            for _ in range(requests):
                client.get(url)
            out[name] = _percentiles(timed.samples)
    return out


def run(data_dir: Path, *, conversations: int = CONVERSATIONS, messages: int = MESSAGES,
        requests: int = REQUESTS) -> dict[str, Any]:
    runtime, tmp = fresh_runtime()
    try:
        ws = new_workspace(runtime, "bench-desktop")
        t0 = time.perf_counter()
        ids = fill(runtime, ws, conversations=conversations, messages=messages)
        fill_s = time.perf_counter() - t0
        results = measure(runtime, ids, requests)
        bar = max(results[k]["p95_ms"] for k in ("inbox_page", "conversation_200_messages",
                                                  "customer_page"))
        return {"bench": "desktop", "database": runtime.db.dialect,
                "conversations": ids["conversations"], "messages": ids["messages"],
                "fill_s": round(fill_s, 1), "server_time": results,
                "worst_p95_ms": bar, "p95_bar_150ms": bar <= 150, "p95_aim_100ms": bar <= 100,
                "peak_rss_mb": peak_rss_mb()}
    finally:
        runtime.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
