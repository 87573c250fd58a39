"""Service levels at scale: a workspace with `n` open conversations (and their clock rows),
three teams, business-hour calendars with holidays (Madrid office hours by default, New York
for one team) and five policies; then the time to recompute every open conversation's clocks
after a policy changes (every row changes: the policy, the due and warning times, the next
check and `conversations.sla_due_at`), and after a calendar changes.

`sla_recompute_bench(n)` is also called by the routing benchmark."""

from __future__ import annotations

import os
import random
import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.bench.common import fresh_runtime, new_workspace, peak_rss_mb
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import SYSTEM
from threadline.db.base import new_id, utcnow
from threadline.jobs.runtime import Runtime
from threadline.sla.models import SlaCalendar
from threadline.sla.schemas import CalendarIn, PolicyIn
from threadline.sla.service import save_calendar, save_policy
from threadline.sla.tracking import recompute_workspace
from threadline.workspace.models import Team

CHUNK = 10_000
OFFICE = {d: [["09:00", "14:00"], ["15:00", "19:00"]] for d in ("mon", "tue", "wed", "thu",
                                                                "fri")}
CHANNELS = [("x", "public"), ("x", "private"), ("facebook", "public"), ("whatsapp", "private"),
            ("email", "private"), ("instagram", "public")]
CATEGORIES = [None, "complaint", "technical_query", "general_question", "praise"]


def _load(runtime: Runtime, workspace_id: uuid.UUID, teams: list[uuid.UUID], n: int,
          seed: int = 12) -> None:
    """`n` open, pending or snoozed conversations, each with the customer's first message;
    40 % answered, half of those written to again (a next response owed)."""
    rng = random.Random(seed)
    now = utcnow()
    conv_table: Any = Conversation.__table__
    message_table: Any = Message.__table__
    for start in range(0, n, CHUNK):
        convs: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        for _ in range(start, min(n, start + CHUNK)):
            conv_id = new_id()
            created = now - timedelta(minutes=rng.randint(30, 60 * 24 * 5))
            status = rng.choice(("open", "open", "open", "pending", "snoozed"))
            channel, visibility = rng.choice(CHANNELS)
            times = [created]
            if rng.random() < 0.4:  # answered, and maybe written to again
                times.append(created + (now - created) * rng.uniform(0.1, 0.5))
                if rng.random() < 0.5:
                    times.append(times[1] + (now - times[1]) * rng.uniform(0.1, 0.9))
            for index, at in enumerate(times):
                inbound = index % 2 == 0
                messages.append({
                    "id": new_id(), "workspace_id": workspace_id, "conversation_id": conv_id,
                    "channel": channel, "direction": "inbound" if inbound else "outbound",
                    "visibility": visibility, "kind": "message", "text": "",
                    "attachments": [], "created_at": at, "delivery": "received",
                    "author_type": "customer" if inbound else "agent", "triage": {},
                    "meta": {}})
            convs.append({
                "id": conv_id, "workspace_id": workspace_id, "status": status,
                "origin_channel": channel, "origin_visibility": visibility,
                "category": rng.choice(CATEGORIES), "priority": rng.randint(1, 4),
                "team_id": rng.choice([*teams, None]), "labels": [],
                "message_count": len(times), "reopen_count": 0, "created_at": created,
                "updated_at": now, "last_message_at": times[-1],
                "first_response_at": times[1] if len(times) > 1 else None,
                "last_inbound_at": times[-1] if len(times) != 2 else created})
        with runtime.db.engine.begin() as conn:
            conn.execute(conv_table.insert(), convs)
            conn.execute(message_table.insert(), messages)


def _timed(runtime: Runtime, workspace_id: uuid.UUID) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    with runtime.db.session() as session:
        counts = recompute_workspace(session, workspace_id)
    return time.perf_counter() - started, counts


def sla_recompute_bench(n: int = 100_000, *, database_url: str | None = None) -> dict[str, Any]:
    """Recompute the clocks of `n` open conversations after a policy change and after a
    calendar change (a fresh SQLite database unless `database_url` is given)."""
    runtime, tmp = fresh_runtime(database_url)
    try:
        workspace_id = new_workspace(runtime, "sla-bench")
        with runtime.db.session() as session:
            teams = []
            for name in ("Billing", "Care", "Social"):
                team = Team(workspace_id=workspace_id, name=name)
                session.add(team)
                session.flush()
                teams.append(team.id)
            holidays = [(utcnow().date() + timedelta(days=d)).isoformat() for d in (3, 40)]
            save_calendar(session, workspace_id, CalendarIn(
                name="Madrid office", time_zone="Europe/Madrid", hours=OFFICE,
                holidays=holidays, is_default=True), SYSTEM)
            save_calendar(session, workspace_id, CalendarIn(
                name="New York", time_zone="America/New_York", hours=OFFICE,
                holidays=["2026-11-26", "2026-12-25"], team_ids=[teams[2]]), SYSTEM)
        load_started = time.perf_counter()
        _load(runtime, workspace_id, teams, n)
        load_s = time.perf_counter() - load_started
        with runtime.db.session() as session:  # the workspace's first policies
            policies = [
                save_policy(session, workspace_id, PolicyIn(
                    name="P1 public", priorities=[1], visibilities=["public"],
                    first_response_minutes=30, next_response_minutes=30,
                    resolution_minutes=240, warn_percent=80), SYSTEM),
                save_policy(session, workspace_id, PolicyIn(
                    name="P1", priorities=[1], first_response_minutes=60,
                    next_response_minutes=60, resolution_minutes=480, warn_minutes=10),
                    SYSTEM),
                save_policy(session, workspace_id, PolicyIn(
                    name="complaints", categories=["complaint"], first_response_minutes=120,
                    resolution_minutes=1440), SYSTEM),
                save_policy(session, workspace_id, PolicyIn(
                    name="email", channels=["email"], first_response_minutes=480,
                    next_response_minutes=480), SYSTEM),
                save_policy(session, workspace_id, PolicyIn(
                    name="everything else", first_response_minutes=240,
                    next_response_minutes=240, resolution_minutes=2880, warn_percent=75),
                    SYSTEM)]
            last = policies[-1]
        # the first policy: every open conversation's clock started (in bulk) and computed
        first_s, first = _timed(runtime, workspace_id)
        with runtime.db.session() as session:
            save_policy(session, workspace_id, PolicyIn(
                name="everything else", first_response_minutes=180, next_response_minutes=180,
                resolution_minutes=2400, warn_percent=75), SYSTEM, last.id)
        policy_s, policy = _timed(runtime, workspace_id)
        with runtime.db.session() as session:
            save_calendar(session, workspace_id, CalendarIn(
                name="Madrid office", time_zone="Europe/Madrid", hours={
                    **OFFICE, "sat": [["10:00", "14:00"]]}, is_default=True), SYSTEM,
                _default_id(session, workspace_id))
        calendar_s, calendar = _timed(runtime, workspace_id)
        unchanged_s, unchanged = _timed(runtime, workspace_id)
        return {
            # the recomputation of existing clocks; the first policy's start is its own figure
            "sla_recompute_s": round(max(policy_s, calendar_s), 3),
            "open_conversations": n,
            "first_policy_s": round(first_s, 3), "first_clocks": first["created"],
            "policy_change_s": round(policy_s, 3), "policy_changed": policy["changed"],
            "calendar_change_s": round(calendar_s, 3), "calendar_changed": calendar["changed"],
            "nothing_changed_s": round(unchanged_s, 3),
            "nothing_changed_rows": unchanged["changed"],
            "load_s": round(load_s, 1), "database": runtime.db.engine.dialect.name,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "peak_rss_mb": peak_rss_mb()}
    finally:
        runtime.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _default_id(session: Session, workspace_id: uuid.UUID) -> uuid.UUID:
    found = session.scalar(select(SlaCalendar.id).where(SlaCalendar.workspace_id == workspace_id,
                                                        SlaCalendar.is_default.is_(True)))
    assert found is not None
    return uuid.UUID(str(found))


def run(data: Path) -> dict[str, Any]:
    """`threadline bench sla`: 100,000 open conversations (THREADLINE_BENCH_SLA_N to change),
    on THREADLINE_BENCH_DATABASE_URL when set (PostgreSQL), else a fresh SQLite file."""
    n = int(os.environ.get("THREADLINE_BENCH_SLA_N", "100000"))
    return sla_recompute_bench(n, database_url=os.environ.get("THREADLINE_BENCH_DATABASE_URL")
                               or None)
