"""KPI dashboards at scale: a workspace with 100,000 conversations and 1,000,000 messages over
90 days, then the server time of every dashboard (p95 over repeated calls with varied
filters), of the drill-down's first page, and the streamed CSV export of every conversation's
facts with the growth of the process's memory while it runs.

The data are bulk Core inserts: customers, conversations, messages (counts, channels and
times as each conversation's plan says), then `conversation_facts` rows written directly from
the same plan (not through the fold: folding a million messages one conversation at a time
is the rebuild's job, `threadline kpis rebuild`), with the handle-time intervals
(`agent_activity`), next-response outcomes (`sla_outcomes`), satisfaction surveys
(`csat_surveys`) and done quality reviews (`quality_reviews`) the boards join. SQLite gets
ANALYZE after the load, as the desktop benchmark does. The exports run in a spawned process
of their own, so that their memory figures are the export's, not the load's freed memory
being reused."""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import shutil
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from threadline.bench.common import fresh_runtime, new_workspace, peak_rss_mb
from threadline.config import Settings
from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import SYSTEM
from threadline.csat.models import CsatSurvey
from threadline.jobs.runtime import Runtime
from threadline.kpis.dashboards.build import names
from threadline.kpis.dashboards.costs import Costs, set_costs
from threadline.kpis.dashboards.drill import facts_page
from threadline.kpis.dashboards.export import facts_csv
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.schemas import Group
from threadline.kpis.dashboards.service import dashboard
from threadline.kpis.models import AgentActivity, ConversationFacts, ConversationSegment
from threadline.quality.models import QualityReview
from threadline.quality.scorecards import default_scorecard
from threadline.sla.models import SlaOutcome
from threadline.workspace.models import ChannelAccount, Team
from threadline.workspace.service import create_agent

DAYS = 90
END = date(2026, 3, 31)
CHUNK = 20_000
ROUTES = [  # (weight, origin, journey steps, where it ends)
    (22, ("x", "public"), ["x:public"], "x:public"),
    (9, ("x", "public"), ["x:public", "x:private"], "x:private"),
    (5, ("x", "public"), ["x:public", "x:private", "x:public"], "x:public"),
    (4, ("x", "public"), ["x:public", "whatsapp:private"], "whatsapp:private"),
    (8, ("facebook", "public"), ["facebook:public"], "facebook:public"),
    (4, ("facebook", "public"), ["facebook:public", "messenger:private"], "messenger:private"),
    (7, ("instagram", "public"), ["instagram:public"], "instagram:public"),
    (2, ("instagram", "public"), ["instagram:public", "instagram:private"],
     "instagram:private"),
    (10, ("messenger", "private"), ["messenger:private"], "messenger:private"),
    (12, ("whatsapp", "private"), ["whatsapp:private"], "whatsapp:private"),
    (9, ("email", "private"), ["email:private"], "email:private"),
    (2, ("email", "private"), ["email:private", "voice:private"], "voice:private"),
    (6, ("webchat", "private"), ["webchat:private"], "webchat:private"),
]
CATEGORIES = [None, "complaint", "technical", "feedback", "question", "praise"]
SOURCES = [None] * 94 + ["store"] * 3 + ["order_page"] * 2 + ["campaign:spring_sale"]
SENTIMENT = ["negative", "neutral", "positive"]
SPEED = {"x": 0.4, "facebook": 0.8, "instagram": 0.7, "messenger": 0.6, "whatsapp": 0.5,
         "email": 3.0, "webchat": 0.2, "voice": 0.1}  # first response, hours, median-ish


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(runtime: Runtime, model: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for batch in _chunks(rows):
        with runtime.db.engine.begin() as conn:
            conn.execute(model.__table__.insert(), batch)
        count += len(batch)
    return count


def _setup(runtime: Runtime, workspace_id: uuid.UUID) -> dict[str, Any]:
    with runtime.db.session() as session:
        accounts = {}
        for kind in sorted({s.split(":")[0] for _w, _o, steps, _e in ROUTES for s in steps}):
            account = ChannelAccount(id=uuid.uuid4(), workspace_id=workspace_id, kind=kind,
                                     name=f"Brand {kind}", config={}, active=True)
            session.add(account)
            accounts[kind] = account.id
        teams = [Team(id=uuid.uuid4(), workspace_id=workspace_id, name=n)
                 for n in ("Social", "Care", "Billing")]
        session.add_all(teams)
        session.flush()
        agents = [create_agent(session, workspace_id, email=f"kpi{i}@bench.example",
                               role="agent", name=f"Agent {i}", password="bench-password",
                               )[0].id for i in range(24)]
        set_costs(session, workspace_id, Costs(hourly_cost=32.0, currency="EUR"), SYSTEM)
        scorecard = default_scorecard(session, workspace_id).id
    return {"accounts": accounts, "teams": [t.id for t in teams], "agents": agents,
            "scorecard": scorecard}


def fill(runtime: Runtime, workspace_id: uuid.UUID, *, conversations: int,
         messages: int, seed: int = 13, end: date = END, days: int = DAYS) -> dict[str, Any]:
    """Bulk-load `conversations` conversations holding exactly `messages` messages, opened
    over the `days` days to `end` (scripts/screenshots.py uses it for the dashboards too)."""
    rng = random.Random(seed)
    ids = _setup(runtime, workspace_id)
    accounts, teams, agents = ids["accounts"], ids["teams"], ids["agents"]
    customers = [uuid.uuid4() for _ in range(max(1, conversations * 2 // 5))]
    start = datetime.combine(end - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC)
    _insert(runtime, Customer, ({"id": c, "workspace_id": workspace_id, "name": f"Customer {i}",
                                 "custom_fields": {}, "external_ids": {}, "created_at": start,
                                 "updated_at": start} for i, c in enumerate(customers)))
    base, extra = divmod(messages, conversations)
    weights = [w for w, *_ in ROUTES]
    plan: list[dict[str, Any]] = []
    for n in range(conversations):
        swing = (n // 2 % 7) * (1 if n % 2 else -1) if base > 8 else 0  # pairs cancel out
        count = max(2, base + (1 if n < extra else 0) + swing)
        _w, (channel, visibility), steps, resolved_on = rng.choices(ROUTES, weights)[0]
        day = rng.randrange(days)
        hour = min(23, max(0, int(rng.gauss(13, 4))))
        opened = start + timedelta(days=day, hours=hour, minutes=rng.random() * 60)
        plan.append({"id": uuid.uuid4(), "count": count, "channel": channel,
                     "visibility": visibility, "steps": steps, "end": resolved_on,
                     "opened": opened,
                     "customer": customers[rng.randrange(len(customers))]})
    total = sum(p["count"] for p in plan)
    if total != messages:  # the max(2, ...) floor: take the difference off the longest
        longest = max(plan, key=lambda p: p["count"])
        longest["count"] -= total - messages

    def conversation_rows() -> Iterator[dict[str, Any]]:
        for p in plan:
            resolved = rng.random() < 0.82
            p["status"] = rng.choice(("resolved", "closed")) if resolved else \
                rng.choice(("open", "open", "pending", "snoozed"))
            p["team"] = rng.choice(teams)
            p["agent"] = rng.choice(agents) if rng.random() < 0.9 else None
            p["category"] = rng.choice(CATEGORIES)
            p["relevance"] = "direct" if p["visibility"] == "private" or rng.random() < 0.55 \
                else rng.choice(("mention", "competitor", "chatter"))
            p["last"] = p["opened"] + timedelta(minutes=7 * p["count"])
            yield {"id": p["id"], "workspace_id": workspace_id, "customer_id": p["customer"],
                   "status": p["status"], "origin_channel": p["channel"],
                   "origin_visibility": p["visibility"],
                   "origin_account_id": accounts[p["channel"]], "category": p["category"],
                   "priority": rng.choice((4, 4, 3, 2, 1)), "relevance": p["relevance"],
                   "assignee_id": p["agent"], "team_id": p["team"], "labels": [],
                   "required_skills": [], "reopen_count": 0, "message_count": p["count"],
                   "last_message_at": p["last"], "last_inbound_at": p["last"],
                   "created_at": p["opened"], "updated_at": p["last"]}

    def message_rows() -> Iterator[dict[str, Any]]:
        for p in plan:
            steps = p["steps"]
            for i in range(p["count"]):
                channel, visibility = steps[min(len(steps) - 1, i * len(steps) // p["count"])
                                            ].split(":")
                inbound = i % 2 == 0
                yield {"id": uuid.uuid4(), "workspace_id": workspace_id,
                       "conversation_id": p["id"], "channel_account_id": accounts[channel],
                       "channel": channel, "direction": "inbound" if inbound else "outbound",
                       "visibility": visibility, "kind": "message",
                       "text": "where is my order?" if inbound else "Let me check that.",
                       "attachments": [], "created_at": p["opened"] + timedelta(minutes=7 * i),
                       "delivery": "received" if inbound else "sent",
                       "author_type": "customer" if inbound else "agent",
                       "author_agent_id": None if inbound else p["agent"], "triage": {},
                       "meta": {}}

    def fact_rows() -> Iterator[dict[str, Any]]:
        for p in plan:
            resolved = p["status"] in ("resolved", "closed")
            first = rng.lognormvariate(math.log(SPEED[p["channel"]] * 3600), 0.9)
            resolution = first + rng.lognormvariate(math.log(6 * 3600), 1.1) if resolved \
                else None
            handle = rng.uniform(120, 1800) if p["agent"] else 0.0
            hopped = len(p["steps"]) > 1
            start_s, end_s = rng.choice(SENTIMENT), rng.choice(SENTIMENT)
            p["handle"] = handle
            yield {"conversation_id": p["id"], "workspace_id": workspace_id,
                   "customer_id": p["customer"], "team_id": p["team"],
                   "assignee_id": p["agent"], "resolved_by_id": p["agent"] if resolved else None,
                   "category": p["category"], "priority": 4, "relevance": p["relevance"],
                   "origin_channel": p["channel"], "origin_visibility": p["visibility"],
                   "origin_account_id": accounts[p["channel"]],
                   "origin_source": rng.choice(SOURCES),
                   "last_channel": p["end"].split(":")[0],
                   "last_visibility": p["end"].split(":")[1],
                   "resolved_channel": p["end"].split(":")[0] if resolved else None,
                   "resolved_visibility": p["end"].split(":")[1] if resolved else None,
                   "journey": ">".join(p["steps"]), "status": p["status"],
                   "opened_at": p["opened"],
                   "first_response_at": p["opened"] + timedelta(seconds=first),
                   "resolved_at": p["opened"] + timedelta(seconds=resolution)
                   if resolution is not None else None,
                   "first_response_s": first, "first_response_business_s": first * 0.7,
                   "next_responses": p["count"] // 2 - 1,
                   "next_response_total_s": 1800.0 * (p["count"] // 2 - 1),
                   "next_response_max_s": 3600.0 if p["count"] > 3 else None,
                   "resolution_s": resolution,
                   "resolution_business_s": resolution * 0.6 if resolution else None,
                   "reopen_count": 1 if rng.random() < 0.08 else 0,
                   "customer_messages": (p["count"] + 1) // 2,
                   "agent_messages": p["count"] // 2, "episodes": 1, "segments": len(p["steps"]),
                   "channels": len({s.split(":")[0] for s in p["steps"]}),
                   "handle_s": handle, "public_to_private": hopped and p["visibility"] == "public",
                   "hop_offered_s": rng.uniform(300, 3600) if hopped else None,
                   "hop_taken": True if hopped else None,
                   "returned_to_origin": (len(p["steps"]) == 3) if hopped else None,
                   "return_delay_s": rng.uniform(3600, 86400) if len(p["steps"]) == 3 else None,
                   "fcr": (rng.random() < 0.78) if resolved else None,
                   "sla_first_response_met": first < 4 * 3600,
                   "sla_resolution_met": (resolution < 24 * 3600) if resolution else None,
                   "sentiment_start": start_s, "sentiment_end": end_s,
                   "updated_at": p["last"], "status_cursor": 0}

    def activity_rows() -> Iterator[dict[str, Any]]:
        for p in plan:
            if p["agent"] is None:
                continue
            half = p["handle"] / 2
            for k in range(2):
                at = p["opened"] + timedelta(minutes=30 * k)
                yield {"id": uuid.uuid4(), "workspace_id": workspace_id, "agent_id": p["agent"],
                       "conversation_id": p["id"], "kind": "focus" if k == 0 else "typing",
                       "started_at": at, "ended_at": at + timedelta(seconds=half),
                       "seconds": half, "message_id": None}

    def segment_rows() -> Iterator[dict[str, Any]]:
        for p in plan:
            for number, step in enumerate(p["steps"], start=1):
                channel, visibility = step.split(":")
                at = p["opened"] + timedelta(minutes=7 * (number - 1) * p["count"]
                                             // len(p["steps"]))
                yield {"id": uuid.uuid4(), "workspace_id": workspace_id,
                       "conversation_id": p["id"], "number": number, "channel": channel,
                       "visibility": visibility, "channel_account_id": accounts[channel],
                       "started_at": at, "ended_at": at + timedelta(minutes=30),
                       "messages": max(1, p["count"] // len(p["steps"]))}

    def survey_rows() -> Iterator[dict[str, Any]]:
        """A survey for a third of the resolved private conversations (not calls), answered
        by 45 % of the customers asked (scores leaning to the top)."""
        for p in plan:
            if p["status"] not in ("resolved", "closed") or p["end"].endswith(":public") \
                    or p["end"].startswith("voice:") or rng.random() >= 0.33:
                continue
            sent = p["last"] + timedelta(minutes=10)
            answered = rng.random() < 0.45
            yield {"id": uuid.uuid4(), "workspace_id": workspace_id, "conversation_id": p["id"],
                   "customer_id": p["customer"], "channel": p["end"].split(":")[0],
                   "channel_account_id": accounts[p["end"].split(":")[0]],
                   "method": "quick_replies", "status": "answered" if answered else "sent",
                   "sent_at": sent, "answered_at": sent + timedelta(hours=1) if answered
                   else None, "score": rng.choices((1, 2, 3, 4, 5), (8, 7, 15, 30, 40))[0]
                   if answered else None, "comment": None, "token_hash": None}

    def review_rows() -> Iterator[dict[str, Any]]:
        """Quality reviews done for 4 % of the resolved conversations."""
        for p in plan:
            if p["status"] not in ("resolved", "closed") or p["agent"] is None \
                    or rng.random() >= 0.04:
                continue
            yield {"id": uuid.uuid4(), "workspace_id": workspace_id, "conversation_id": p["id"],
                   "agent_id": p["agent"], "team_id": p["team"],
                   "channel": p["end"].split(":")[0], "reviewer_id": agents[0],
                   "scorecard_id": ids["scorecard"], "reason": "random", "status": "done",
                   "score": round(rng.triangular(40, 100, 85), 2), "answers": {},
                   "comment": None, "created_at": p["last"],
                   "reviewed_at": p["last"] + timedelta(days=1)}

    def outcome_rows() -> Iterator[dict[str, Any]]:
        for p in plan:
            if p["count"] >= 8:
                yield {"workspace_id": workspace_id, "conversation_id": p["id"],
                       "target": "next_response", "cycle": 1,
                       "status": "met" if rng.random() < 0.85 else "breached",
                       "created_at": p["opened"]}

    started = time.perf_counter()
    _insert(runtime, Conversation, conversation_rows())
    loaded = _insert(runtime, Message, message_rows())
    _insert(runtime, ConversationFacts, fact_rows())
    _insert(runtime, ConversationSegment, segment_rows())
    _insert(runtime, AgentActivity, activity_rows())
    _insert(runtime, SlaOutcome, outcome_rows())
    _insert(runtime, CsatSurvey, survey_rows())
    _insert(runtime, QualityReview, review_rows())
    with runtime.db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return {"messages": loaded, "conversations": len(plan), "agents": agents, "teams": teams,
            "customers": customers,
            "accounts": list(accounts.items()), "load_s": time.perf_counter() - started}


def _variants(workspace_id: uuid.UUID, data: dict[str, Any]) -> list[Filters]:
    """Ranges of 90, 30 and 7 days, alone and with a team, an agent, a channel, an account
    and a category (the filters people use)."""
    full = Filters(workspace_id, END - timedelta(days=DAYS - 1), END)
    month = Filters(workspace_id, END - timedelta(days=29), END)
    week = Filters(workspace_id, END - timedelta(days=6), END)
    x_account = dict(data["accounts"])["x"]
    return [full, month, week,
            Filters(workspace_id, full.start, full.end, channel="x"),
            Filters(workspace_id, full.start, full.end, team_id=data["teams"][0]),
            Filters(workspace_id, month.start, month.end, agent_id=data["agents"][3]),
            Filters(workspace_id, month.start, month.end, account_id=x_account),
            Filters(workspace_id, full.start, full.end, category="complaint"),
            Filters(workspace_id, month.start, month.end, channel="whatsapp",
                    team_id=data["teams"][1])]


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000, 1)


def _rss_mb(kind: str = "VmRSS") -> float:
    """The process's resident memory (VmRSS), or its private part (RssAnon: SQLite's pages
    read through mmap are file-backed and left out)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(kind + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def export_in_process(settings: Settings, workspace_id: str, start: str, end: str,
                      answers: Any) -> None:
    """In a fresh process (spawned: nothing of the load is in its memory), stream the CSV of
    the workspace's facts over the range and report its time and memory."""
    runtime = Runtime.create(settings, database_url=settings.database_url, redis_url="")
    try:
        filters = Filters(uuid.UUID(workspace_id), date.fromisoformat(start),
                          date.fromisoformat(end))
        with runtime.db.session(write=False) as session:
            known = names(session, filters.workspace_id)
        before, anon_before = _rss_mb(), _rss_mb("RssAnon")
        peak, anon_peak = before, anon_before
        started = time.perf_counter()
        size = rows = 0
        for part in facts_csv(lambda: runtime.db.session(write=False), filters, known):
            size += len(part)
            rows += part.count("\r\n")
            peak, anon_peak = max(peak, _rss_mb()), max(anon_peak, _rss_mb("RssAnon"))
        answers.put({"seconds": time.perf_counter() - started, "rows": rows - 1,
                     "bytes": size, "growth_mb": round(peak - before, 1),
                     "anon_growth_mb": round(anon_peak - anon_before, 1),
                     "before_mb": round(before, 1), "peak_mb": round(peak, 1)})
    finally:
        runtime.close()


def _export(runtime: Runtime, filters: Filters) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=export_in_process, args=(
        runtime.settings, str(filters.workspace_id), filters.start.isoformat(),
        filters.end.isoformat(), answers))
    child.start()
    try:
        found: dict[str, float] = answers.get(timeout=600)
    finally:
        child.join(timeout=60)
    return found


def kpis_bench(conversations: int = 100_000, messages: int = 1_000_000, *, repeats: int = 3,
               database_url: str | None = None, runtime: Runtime | None = None,
               ) -> dict[str, Any]:
    """The measurements on a fresh database (SQLite unless `database_url`), or in a new
    workspace of `runtime`'s (the tests'), which is left open."""
    own = runtime is None
    if runtime is None:
        runtime, tmp = fresh_runtime(database_url)
    else:
        tmp = None
    try:
        workspace_id = new_workspace(runtime, "kpi-bench")
        data = fill(runtime, workspace_id, conversations=conversations, messages=messages)
        variants = _variants(workspace_id, data)
        times: dict[str, list[float]] = {}
        for _round in range(repeats):
            for filters in variants:
                for group in Group:
                    with runtime.db.session(write=False) as session:
                        started = time.perf_counter()
                        board = dashboard(session, group, filters)
                        board.model_dump_json()
                        times.setdefault(group.value, []).append(time.perf_counter() - started)
                with runtime.db.session(write=False) as session:
                    started = time.perf_counter()
                    facts_page(session, filters)
                    times.setdefault("drilldown", []).append(time.perf_counter() - started)
        p95 = {name: _p95(samples) for name, samples in times.items()}
        small = _export(runtime, variants[2])  # one week: a tenth of the rows
        export = _export(runtime, variants[0])
        return {
            "messages": data["messages"], "conversations": data["conversations"],
            "dashboard_p95_ms": max(p95.values()), "p95_ms": p95,
            "median_ms": {n: round(statistics.median(s) * 1000, 1) for n, s in times.items()},
            "calls_per_query": len(times["quantity"]),
            "export_s": round(export["seconds"], 2), "export_rows": export["rows"],
            "export_mb": round(export["bytes"] / 2**20, 1),
            "export_peak_rss_mb": export["growth_mb"],
            "export_private_rss_mb": export["anon_growth_mb"],
            "export_week_rows": small["rows"], "export_week_peak_rss_mb": small["growth_mb"],
            "export_week_private_rss_mb": small["anon_growth_mb"],
            "export_process_rss_mb": export["peak_mb"],
            "export_process_rss_before_mb": export["before_mb"],
            "load_s": round(data["load_s"], 1), "database": runtime.db.engine.dialect.name,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "peak_rss_mb": peak_rss_mb()}
    finally:
        if own:
            runtime.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run(data: Path) -> dict[str, Any]:
    """`threadline bench kpis`: 100,000 conversations and 1,000,000 messages
    (THREADLINE_BENCH_KPIS_N conversations, ten messages each, to change), on
    THREADLINE_BENCH_DATABASE_URL when set (PostgreSQL), else a fresh SQLite file."""
    del data
    n = int(os.environ.get("THREADLINE_BENCH_KPIS_N", "100000"))
    return kpis_bench(n, n * 10, database_url=os.environ.get("THREADLINE_BENCH_DATABASE_URL")
                      or None)
