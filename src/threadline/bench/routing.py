"""Routing at contact-centre size: 200 agents in four teams, 10,000 open conversations
assigned between them, then 1,000 new conversations (each with a customer's message, half of
them returning customers) routed one by one, each in its own transaction under the
workspace's operations lock, as the ROUTING hook does. `assign_p50_ms` / `assign_p95_ms` time
one decision (`routing.service.route`: rules, facts, candidates, the grouped load count, the
customer's previous agent, the conditional assignment, the audit), not the commit.

Then it checks what must never happen: a conversation assigned twice by the router
(`double_assignments`, from the audit) and an agent over capacity for a kind of work
(`agents_over_capacity`). The service levels' figure (`sla_recompute_s`) joins the same JSON
(`sla_figures` below, measured after the routing figures on a database of its own).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from threadline.bench.common import fresh_runtime, new_workspace
from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation, Message
from threadline.db.base import new_id, utcnow
from threadline.db.locks import workspace_lock
from threadline.events.models import AuditEvent
from threadline.jobs.hooks import OPERATIONS_LOCK
from threadline.jobs.runtime import Runtime
from threadline.routing.models import RoutingRule, TeamMember
from threadline.routing.service import DELAYED, REALTIME, ROUTED_ACTION, route
from threadline.workspace.models import Agent, Team

AGENTS = 200
TEAMS = ("Care", "Español", "Billing", "Social")
OPEN = 10_000
DECISIONS = 1_000
CHANNELS = (("whatsapp", "private"), ("webchat", "private"), ("email", "private"),
            ("x", "public"), ("messenger", "private"), ("sms", "private"))
LANGUAGES = ("en", "es")


def _seed(runtime: Runtime, workspace_id: uuid.UUID, rng: random.Random) -> list[uuid.UUID]:
    """Teams, agents, rules and 10,000 open assigned conversations; returns customer ids."""
    now = utcnow()
    with runtime.db.session() as session:
        teams = [Team(id=new_id(), workspace_id=workspace_id, name=name,
                      skills=["es"] if name == "Español" else ["en"],
                      language_required=name == "Español", created_at=now) for name in TEAMS]
        session.add_all(teams)
        session.flush()
        agents = [{"id": new_id(), "workspace_id": workspace_id, "email": f"a{i}@bench.example",
                   "name": f"Agent {i:03d}", "role": "agent", "presence": "online",
                   "skills": ["es", "en"] if i % 2 else ["en"], "capacity_realtime": 50,
                   "capacity_delayed": 50, "last_seen_at": now, "created_at": now,
                   "last_assigned_at": now - timedelta(seconds=rng.randint(0, 3600))}
                  for i in range(AGENTS)]
        session.execute(insert(Agent), agents)
        session.execute(insert(TeamMember), [
            {"id": new_id(), "workspace_id": workspace_id, "team_id": teams[i % len(teams)].id,
             "agent_id": a["id"], "skills": [], "created_at": now}
            for i, a in enumerate(agents)])
        rules = [("spanish", [{"field": "language", "op": "is", "value": "es"}], 1, ["language"]),
                 ("billing", [{"field": "keywords", "op": "contains",
                               "value": ["invoice", "refund", "factura"]}], 2, []),
                 ("public", [{"field": "visibility", "op": "is", "value": "public"}], 3, []),
                 ("everything else", [], 0, [])]
        session.execute(insert(RoutingRule), [
            {"id": new_id(), "workspace_id": workspace_id, "name": name, "position": n,
             "enabled": True, "conditions": conditions, "team_id": teams[team].id,
             "required_skills": required, "created_at": now, "updated_at": now}
            for n, (name, conditions, team, required) in enumerate(rules)])
        customers = [new_id() for _ in range(OPEN // 2)]
        session.execute(insert(Customer), [
            {"id": c, "workspace_id": workspace_id, "name": f"Customer {n}", "created_at": now,
             "updated_at": now} for n, c in enumerate(customers)])
        rows = []
        for n in range(OPEN):
            channel, visibility = rng.choice(CHANNELS)
            a = agents[n % AGENTS]
            rows.append({
                "id": new_id(), "workspace_id": workspace_id, "customer_id": customers[
                    n % len(customers)], "status": "open" if n % 5 else "pending",
                "origin_channel": channel, "origin_visibility": visibility, "priority": 4,
                "language": rng.choice(LANGUAGES), "assignee_id": a["id"],
                "team_id": teams[(n % AGENTS) % len(teams)].id,
                "work_kind": DELAYED if channel == "email" or visibility == "public"
                else REALTIME, "routed_by": "router", "routed_at": now,
                "last_message_at": now - timedelta(minutes=rng.randint(0, 600)),
                "created_at": now, "updated_at": now})
        for start in range(0, len(rows), 2000):
            session.execute(insert(Conversation), rows[start:start + 2000])
    return customers


def _new_conversations(runtime: Runtime, workspace_id: uuid.UUID, customers: list[uuid.UUID],
                       rng: random.Random) -> list[uuid.UUID]:
    now = utcnow()
    ids = []
    with runtime.db.session() as session:
        convs, messages = [], []
        for n in range(DECISIONS):
            channel, visibility = rng.choice(CHANNELS)
            language = rng.choice(LANGUAGES)
            conv_id = new_id()
            ids.append(conv_id)
            returning = n % 2 == 0
            convs.append({
                "id": conv_id, "workspace_id": workspace_id,
                "customer_id": rng.choice(customers) if returning else None, "status": "open",
                "origin_channel": channel, "origin_visibility": visibility, "priority": 4,
                "language": language, "last_message_at": now, "created_at": now,
                "updated_at": now})
            text = ("Hola, la factura tiene un cargo raro" if language == "es" and n % 3 == 0
                    else "Hello, where is my parcel? It is late again.")
            messages.append({
                "id": new_id(), "workspace_id": workspace_id, "conversation_id": conv_id,
                "channel": channel, "direction": "inbound", "visibility": visibility,
                "kind": "message", "text": text, "author_type": "customer", "created_at": now})
        session.execute(insert(Conversation), convs)
        session.execute(insert(Message), messages)
    return ids


def _route_each(runtime: Runtime, workspace_id: uuid.UUID,
                ids: list[uuid.UUID]) -> tuple[list[float], list[float], int]:
    times: list[float] = []
    cpu: list[float] = []
    assigned = 0
    for conv_id in ids:
        with runtime.db.session() as session:
            workspace_lock(session, workspace_id, OPERATIONS_LOCK)
            conv = session.get(Conversation, conv_id)
            assert conv is not None
            start, start_cpu = time.perf_counter(), time.process_time()
            agent = route(session, conv)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            assigned += agent is not None
    return times, cpu, assigned


def _checks(runtime: Runtime, workspace_id: uuid.UUID) -> dict[str, int]:
    with runtime.db.session(write=False) as session:
        decided = Counter(session.scalars(
            select(AuditEvent.subject_id).where(
                AuditEvent.workspace_id == workspace_id, AuditEvent.action == ROUTED_ACTION,
                AuditEvent.data["assignee_id"].as_string().is_not(None))))
        over = 0
        capacity = {a.id: (a.capacity_realtime, a.capacity_delayed)
                    for a in session.scalars(select(Agent).where(
                        Agent.workspace_id == workspace_id))}
        for agent_id, kind, count in session.execute(
                select(Conversation.assignee_id, Conversation.work_kind, func.count())
                .where(Conversation.workspace_id == workspace_id,
                       Conversation.assignee_id.is_not(None),
                       Conversation.status.in_(("open", "pending")))
                .group_by(Conversation.assignee_id, Conversation.work_kind)):
            if agent_id is None:
                continue
            limit = capacity[agent_id][0 if kind == REALTIME else 1]
            over += count > limit
    return {"double_assignments": sum(1 for n in decided.values() if n > 1),
            "agents_over_capacity": over}


def sla_figures() -> dict[str, Any]:
    """Service levels' figure for the same JSON: the recomputation of 100,000 open
    conversations' clocks (`threadline.bench.sla`, its own fresh database), prefixed `sla_`
    except `sla_recompute_s` itself."""
    from threadline.bench.sla import sla_recompute_bench

    n = int(os.environ.get("THREADLINE_BENCH_SLA_N", "100000"))
    figures = sla_recompute_bench(n)
    return {key if key.startswith("sla_") else f"sla_{key}": value
            for key, value in figures.items() if key not in ("load_average", "peak_rss_mb")}


def run(data: Path) -> dict[str, Any]:
    rng = random.Random(12)
    runtime, tmp = fresh_runtime()
    try:
        workspace_id = new_workspace(runtime, "routing-bench")
        started = time.perf_counter()
        customers = _seed(runtime, workspace_id, rng)
        ids = _new_conversations(runtime, workspace_id, customers, rng)
        seeded = time.perf_counter() - started
        times, cpu, assigned = _route_each(runtime, workspace_id, ids)
        times.sort()
        cpu.sort()
        result: dict[str, Any] = {
            "agents": AGENTS, "open_conversations": OPEN, "decisions": len(times),
            "assigned": assigned, "queued": len(times) - assigned,
            "assign_p50_ms": round(statistics.median(times), 3),
            "assign_p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
            "assign_max_ms": round(times[-1], 3),
            # the same decisions in CPU time: what the machine's other load does not inflate
            "assign_cpu_p50_ms": round(statistics.median(cpu), 3),
            "assign_cpu_p95_ms": round(cpu[int(len(cpu) * 0.95) - 1], 3),
            "seed_s": round(seeded, 2), "database": "sqlite",
            "load_average": [round(x, 2) for x in os.getloadavg()]}
        result.update(_checks(runtime, workspace_id))
    finally:
        runtime.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    result.update(sla_figures())
    return result
