"""Keeping the clocks: one conversation after a change (the SERVICE_LEVELS hook), or every
open conversation of a workspace after a policy or calendar changed (one read of the needed
columns, computation in Python on the precomputed calendars, one bulk write of the rows that
changed). Both keep `conversations.sla_due_at` = the earliest running due time. Services
never commit."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from threadline.conversations.models import Conversation, Message
from threadline.db.base import utcnow
from threadline.sla.clocks import (
    ACTIVE,
    Facts,
    schedule,
    step,
)
from threadline.sla.models import SlaClock, SlaOutcome
from threadline.sla.rules import Compiled, compile_workspace, has_policies

REPLY_KINDS_EXCLUDED = ("note",)


def facts_of(session: Session, conv: Conversation, clock: SlaClock | None) -> Facts:
    """What is true of the conversation now: two small indexed queries (three when a
    response cycle may have ended)."""
    last_reply = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conv.id, Message.direction == "outbound",
            Message.kind.not_in(REPLY_KINDS_EXCLUDED)))
    waiting: datetime | None = None
    if conv.status in ACTIVE:
        floor = last_reply
        if conv.resolved_at is not None and (floor is None or conv.resolved_at > floor):
            floor = conv.resolved_at  # reopened: what came before the resolution is done
        stmt = select(func.min(Message.created_at)).where(
            Message.conversation_id == conv.id, Message.direction == "inbound")
        if floor is not None:
            stmt = stmt.where(Message.created_at > floor)
        waiting = session.scalar(stmt)
    replied_at = None
    if clock is not None and clock.response_started_at is not None and waiting != \
            clock.response_started_at:
        replied_at = session.scalar(
            select(func.min(Message.created_at)).where(
                Message.conversation_id == conv.id, Message.direction == "outbound",
                Message.kind.not_in(REPLY_KINDS_EXCLUDED),
                Message.created_at >= clock.response_started_at))
    return Facts(status=conv.status, waiting_since=waiting,
                 first_reply_at=conv.first_response_at, replied_at=replied_at,
                 resolved_at=conv.resolved_at)


def record_outcomes(session: Session, conv: Conversation, policy_id: uuid.UUID | None,
                    outcomes: Sequence[dict[str, Any]]) -> None:
    """Upsert the attainment rows (a breach recorded by the scanner gets its answer time)."""
    for outcome in outcomes:
        row = session.scalar(select(SlaOutcome).where(
            SlaOutcome.conversation_id == conv.id, SlaOutcome.target == outcome["target"],
            SlaOutcome.cycle == outcome["cycle"]))
        if row is None:
            session.add(SlaOutcome(workspace_id=conv.workspace_id, conversation_id=conv.id,
                                   policy_id=policy_id, created_at=utcnow(), **outcome))
        else:
            row.done_at = outcome["done_at"]
            row.business_seconds = outcome["business_seconds"]
            if outcome["status"] == "breached":
                row.status = "breached"
    session.flush()


def sync_conversation(session: Session, conv: Conversation, compiled: Compiled | None = None,
                      *, now: datetime | None = None) -> SlaClock | None:
    """Bring one conversation's clock up to date (created on first sight); None when the
    workspace has no policy (the legacy first-answer target of inbound/batch.py applies)."""
    now = now or utcnow()
    clock = session.get(SlaClock, conv.id)
    if compiled is None:
        if clock is None and not has_policies(session, conv.workspace_id):
            return None
        compiled = compile_workspace(session, conv.workspace_id, now)
    if not compiled.rules and clock is None:
        return None
    new = clock is None
    if clock is None:
        if conv.status not in ACTIVE:
            return None
        clock = SlaClock(conversation_id=conv.id, workspace_id=conv.workspace_id,
                         response_cycle=0, response_used=0.0, resolution_used=0.0)
        session.add(clock)
    key = (conv.priority, conv.origin_channel, conv.origin_visibility, conv.category,
           conv.team_id)
    rule = compiled.policy_for(*key)
    targets = compiled.targets_for(*key)
    cal = compiled.calendar_for(conv.team_id)
    facts = facts_of(session, conv, clock)
    outcomes = step(clock, facts, now, cal, targets, new=new)
    clock.policy_id = rule.id if rule else None
    due = schedule(clock, cal, targets)
    clock.updated_at = now
    if outcomes:
        record_outcomes(session, conv, clock.policy_id, outcomes)
    if conv.sla_due_at != due:
        conv.sla_due_at = due
    session.flush()
    return clock


# --- recomputation of a workspace ------------------------------------------------------------

def recompute_workspace(session: Session, workspace_id: uuid.UUID, *,
                        now: datetime | None = None) -> dict[str, int]:
    """Recompute every open conversation's clock after a policy or calendar changed: the
    policy that matches, the due and warning times, the next check, `sla_due_at`. Writes
    only the rows that changed. Returns counts (`open`, `changed`, `created`)."""
    now = now or utcnow()
    compiled = compile_workspace(session, workspace_id, now)
    if not compiled.rules:
        # no policy any more: the clocks go; the legacy first-answer target applies again
        session.execute(delete(SlaClock).where(SlaClock.workspace_id == workspace_id))
        return {"open": 0, "changed": 0, "created": 0}
    has_clocks = session.scalar(select(SlaClock.conversation_id).where(
        SlaClock.workspace_id == workspace_id).limit(1)) is not None
    # The hook gives every active conversation its clock once the workspace has a policy;
    # only a workspace's first policy finds conversations without one.
    created = 0 if has_clocks else create_clocks(session, workspace_id, compiled, now)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        opened, changed = _recompute_sqlite(session, workspace_id, compiled)
    else:
        opened, changed = _recompute_postgres(session, workspace_id, compiled)
    return {"open": opened, "changed": changed, "created": created}


def create_clocks(session: Session, workspace_id: uuid.UUID, compiled: Compiled,
                  now: datetime) -> int:
    """A workspace's first policy: a clock for every active conversation that has none, as
    the hook would start it. What `facts_of` reads one conversation at a time (our last
    answer, then the customer's first message after it or after the last resolution) is
    read for all of them in one statement, the clocks are stepped in Python and inserted
    in bulk; their policy, due times and `sla_due_at` are written by the bulk
    recomputation that follows. Returns how many were created."""
    reply, inbound = aliased(Message), aliased(Message)
    last_reply = (select(func.max(reply.created_at))
                  .where(reply.conversation_id == Conversation.id,
                         reply.direction == "outbound",
                         reply.kind.not_in(REPLY_KINDS_EXCLUDED))
                  .correlate(Conversation).scalar_subquery())
    base = (select(Conversation.id, Conversation.status, Conversation.first_response_at,
                   Conversation.resolved_at, Conversation.priority,
                   Conversation.origin_channel, Conversation.origin_visibility,
                   Conversation.category, Conversation.team_id,
                   last_reply.label("last_reply"))
            .outerjoin(SlaClock, SlaClock.conversation_id == Conversation.id)
            .where(Conversation.workspace_id == workspace_id,
                   Conversation.status.in_(ACTIVE), Conversation.merged_into_id.is_(None),
                   SlaClock.conversation_id.is_(None))
            .subquery())
    # answered until the later of our last answer and the last resolution
    floor = case((base.c.last_reply.is_(None), base.c.resolved_at),
                 (base.c.resolved_at.is_(None), base.c.last_reply),
                 (base.c.last_reply > base.c.resolved_at, base.c.last_reply),
                 else_=base.c.resolved_at)
    waiting = (select(func.min(inbound.created_at))
               .where(inbound.conversation_id == base.c.id, inbound.direction == "inbound",
                      or_(floor.is_(None), inbound.created_at > floor))
               .scalar_subquery())
    rows = session.execute(select(base.c.id, base.c.status, base.c.first_response_at,
                                  base.c.resolved_at, base.c.priority,
                                  base.c.origin_channel, base.c.origin_visibility,
                                  base.c.category, base.c.team_id, waiting.label("waiting")))
    values: list[dict[str, Any]] = []
    for row in rows:
        clock = NewClock()
        key = (row.priority, row.origin_channel, row.origin_visibility, row.category,
               row.team_id)
        step(clock, Facts(status=row.status, waiting_since=row.waiting,
                          first_reply_at=row.first_response_at, replied_at=None,
                          resolved_at=row.resolved_at),
             now, compiled.calendar_for(row.team_id), compiled.targets_for(*key), new=True)
        values.append({column: getattr(clock, column) for column in _NEW_CLOCK_COLUMNS}
                      | {"conversation_id": row.id, "workspace_id": workspace_id,
                         "updated_at": now})
    for start in range(0, len(values), CREATE_CHUNK):
        session.execute(SlaClock.__table__.insert(),  # type: ignore[attr-defined]
                        values[start:start + CREATE_CHUNK])
    return len(values)


@dataclass(slots=True)
class NewClock:
    """A clock as the hook starts it (`SlaClock`'s defaults), without the ORM's cost."""

    response_kind: str | None = None
    response_cycle: int = 0
    response_started_at: datetime | None = None
    response_used: float = 0.0
    response_since: datetime | None = None
    response_due_at: datetime | None = None
    response_warn_at: datetime | None = None
    response_warned_at: datetime | None = None
    response_breached_at: datetime | None = None
    resolution_used: float = 0.0
    resolution_since: datetime | None = None
    resolution_due_at: datetime | None = None
    resolution_warn_at: datetime | None = None
    resolution_warned_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    paused: str | None = None
    next_check_at: datetime | None = None


# what `step` sets on a new clock (a new clock never ends an outcome)
_NEW_CLOCK_COLUMNS = ("response_kind", "response_cycle", "response_started_at",
                      "response_used", "response_since", "resolution_used",
                      "resolution_since", "paused")
CREATE_CHUNK = 5_000


# The bulk path works on times as epoch numbers: the clocks' running starts as seconds, the
# stored due times as integer microseconds (to write only what changed). On SQLite the clock
# holds its times as integer microseconds already (`db.base.EpochMicros`); the conversation's
# `sla_due_at` is text there, converted when read and written as text formatted in Python,
# each distinct second once (`_sqlite_texts`: cheaper than strftime).
_SINCE = ("c.response_since", "c.resolution_since")
_CLOCK_TIMES = ("c.response_due_at", "c.response_warn_at", "c.resolution_due_at",
                "c.resolution_warn_at", "c.next_check_at")


def _select(seconds: str, micros: str, due_micros: str, param: str, ident: str = "{0}",
            clock_key: str = "c.conversation_id", conversation_key: str = "v.id") -> str:
    """Column 0 is the key the clock's row is updated by, the last one the key of the
    conversation's row."""
    columns = [ident.format(clock_key), "c.response_kind", "c.response_used",
               "c.resolution_used",
               "c.response_warned_at IS NOT NULL", "c.response_breached_at IS NOT NULL",
               "c.resolution_warned_at IS NOT NULL", "c.resolution_breached_at IS NOT NULL",
               "v.priority", "v.origin_channel", "v.origin_visibility", "v.category",
               ident.format("v.team_id"), *(seconds.format(c) for c in _SINCE),
               ident.format("c.policy_id"),
               *(micros.format(c) for c in _CLOCK_TIMES), due_micros.format("v.sla_due_at"),
               ident.format(conversation_key)]
    return (f"SELECT {', '.join(columns)} FROM sla_clocks c JOIN conversations v "
            f"ON v.id = c.conversation_id WHERE c.workspace_id = {param} "
            "AND v.status IN ('open', 'pending', 'snoozed')")


_SQLITE_SELECT = _select(
    "({0} / 1000000.0)", "{0}",
    "(CAST(strftime('%s', substr({0}, 1, 19)) AS INTEGER) * 1000000 "
    "+ CAST(substr({0}, 21, 6) AS INTEGER))",
    "?", clock_key="c.rowid", conversation_key="v.rowid")
# ids as text on PostgreSQL: building and hashing uuid.UUID objects would cost more
_PG_MICROS = "(extract(epoch from {0}) * 1000000)::int8"
_PG_SELECT = _select("extract(epoch from {0})::float8", _PG_MICROS, _PG_MICROS, "%s",
                     "{0}::text")


def _plan(compiled: Compiled, rows: Sequence[Sequence[Any]], team_of: Any, policy_of: Any,
          ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """For each row, the clock's new (policy, due and warning times, next check) and the
    conversation's new `sla_due_at` in integer microseconds; only the rows that changed.
    The hot loop of the recomputation: what `clocks.due_times` and `clocks.next_check` do,
    inlined, with everything that depends only on the policy and calendar computed once."""
    clocks: list[tuple[Any, ...]] = []
    convs: list[tuple[Any, ...]] = []
    plans: dict[tuple[Any, ...], Any] = {}
    nothing = (None, None, None, None, None, None)
    for row in rows:
        key = (row[8], row[9], row[10], row[11], row[12])
        plan: Any = plans.get(key)
        if plan is None:
            team_id = team_of(row[12])
            rule = compiled.policy_for(row[8], row[9], row[10], row[11], team_id)
            if rule is None:
                plan = plans[key] = (None,)
            else:
                cal, t = compiled.calendar_for(team_id), rule.targets
                warn = t.warn_point
                plan = plans[key] = (
                    policy_of(rule.id), cal.always, cal.position, cal.instant,
                    t.first, None if t.first is None else warn(t.first),
                    t.next, None if t.next is None else warn(t.next),
                    t.resolution, None if t.resolution is None else warn(t.resolution))
        if plan[0] is None:
            new: tuple[Any, ...] = nothing
            due = None
        else:
            (policy, always, position, instant, first, first_warn, nxt, next_warn,
             resolution, resolution_warn) = plan
            r_due = r_warn = s_due = s_warn = None
            r_since, s_since = row[13], row[14]
            kind = row[1]
            budget, point = (first, first_warn) if kind == "first" else (
                (nxt, next_warn) if kind == "next" else (None, None))
            if budget is not None and r_since is not None:
                if always:
                    base = r_since - row[2]
                    r_due = int((base + budget) * 1e6 + 0.5)
                    if point is not None:
                        r_warn = int((base + point) * 1e6 + 0.5)
                else:
                    base = position(r_since) - row[2]
                    r_due = int(instant(base + budget) * 1e6 + 0.5)
                    if point is not None:
                        r_warn = int(instant(base + point) * 1e6 + 0.5)
            if resolution is not None and s_since is not None:
                if always:
                    base = s_since - row[3]
                    s_due = int((base + resolution) * 1e6 + 0.5)
                    if resolution_warn is not None:
                        s_warn = int((base + resolution_warn) * 1e6 + 0.5)
                else:
                    base = position(s_since) - row[3]
                    s_due = int(instant(base + resolution) * 1e6 + 0.5)
                    if resolution_warn is not None:
                        s_warn = int(instant(base + resolution_warn) * 1e6 + 0.5)
            check = None
            if not row[5]:
                check = r_due
                if r_warn is not None and not row[4] and (check is None or r_warn < check):
                    check = r_warn
            if not row[7]:
                if s_due is not None and (check is None or s_due < check):
                    check = s_due
                if s_warn is not None and not row[6] and (check is None or s_warn < check):
                    check = s_warn
            due = r_due if s_due is None or (r_due is not None and r_due < s_due) else s_due
            new = (policy, r_due, r_warn, s_due, s_warn, check)
        if new != row[15:21]:
            clocks.append((row[0], *new))
        if due != row[21]:
            convs.append((row[22], due))
    return clocks, convs


def _id_caches(text: Any) -> tuple[Any, Any]:
    """Team ids as read (text) to uuid.UUID, and policy ids to the text the database holds,
    each converted once."""
    teams: dict[str | None, uuid.UUID | None] = {None: None}
    policies: dict[uuid.UUID, str] = {}

    def team_of(value: str | None) -> uuid.UUID | None:
        found = teams.get(value, False)
        if found is False:
            found = teams[value] = uuid.UUID(str(value))
        return found  # type: ignore[return-value]

    def policy_of(policy_id: uuid.UUID) -> str:
        found = policies.get(policy_id)
        if found is None:
            found = policies[policy_id] = text(policy_id)
        return found

    return team_of, policy_of


def _sqlite_texts() -> Any:
    """Integer microseconds to the text SQLite holds for a time ("YYYY-MM-DD HH:MM:SS.ffffff",
    as the UTCDateTime type writes it), each second formatted once: due times under business
    hours share their seconds often (a calendar's opening plus a target)."""
    seconds_text: dict[int, str] = {}
    gmtime = time.gmtime

    def text(micros: int | None) -> str | None:
        if micros is None:
            return None
        seconds, rest = divmod(micros, 1_000_000)
        head = seconds_text.get(seconds)
        if head is None:
            t = gmtime(seconds)
            head = seconds_text[seconds] = (f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d} "
                                            f"{t[3]:02d}:{t[4]:02d}:{t[5]:02d}")
        return f"{head}.{rest:06d}"

    return text


def _recompute_sqlite(session: Session, workspace_id: uuid.UUID,
                      compiled: Compiled) -> tuple[int, int]:
    cursor: Any = session.connection().connection.cursor()  # plain tuples, no Row objects
    try:
        rows = cursor.execute(_SQLITE_SELECT, (workspace_id.hex,)).fetchall()
        clocks, convs = _plan(compiled, rows, *_id_caches(lambda value: value.hex))
        # by rowid (read with the rows: no search of the primary key's index per row), in
        # order: the table's pages are visited once each
        clocks.sort()
        convs.sort()
        fmt = _sqlite_texts()
        if clocks:
            # Clock rows hold no personal data: their old versions need not be zeroed (the
            # workspace's secure_delete stays on for every other table, conversations too).
            cursor.execute("PRAGMA secure_delete=OFF")
            try:
                cursor.executemany(
                    "UPDATE sla_clocks SET policy_id = ?, response_due_at = ?, "
                    "response_warn_at = ?, resolution_due_at = ?, resolution_warn_at = ?, "
                    "next_check_at = ? WHERE rowid = ?",
                    [(*c[1:], c[0]) for c in clocks])
            finally:
                cursor.execute("PRAGMA secure_delete=ON")
        if convs:
            cursor.executemany("UPDATE conversations SET sla_due_at = ? WHERE rowid = ?",
                               [(fmt(c[1]), c[0]) for c in convs])
    finally:
        cursor.close()
    return len(rows), len(clocks)


def _pg_seconds(micros: int | None) -> float | None:
    return None if micros is None else micros / 1_000_000


def _recompute_postgres(session: Session, workspace_id: uuid.UUID,
                        compiled: Compiled) -> tuple[int, int]:
    """The changed rows are copied into a temporary table (COPY) and applied by one
    `UPDATE ... FROM` per table: one join instead of a statement per row or per chunk."""
    cursor: Any = session.connection().connection.cursor()
    try:
        rows = cursor.execute(_PG_SELECT, (workspace_id,)).fetchall()
        clocks, convs = _plan(compiled, rows, *_id_caches(str))
        sec = _pg_seconds
        if clocks:
            cursor.execute("CREATE TEMPORARY TABLE sla_recomputed (id uuid PRIMARY KEY, "
                           "p uuid, rd float8, rw float8, sd float8, sw float8, nc float8) "
                           "ON COMMIT DROP")
            with cursor.copy("COPY sla_recomputed (id, p, rd, rw, sd, sw, nc) FROM STDIN"
                             ) as copy:
                for c in clocks:
                    copy.write_row((c[0], c[1], sec(c[2]), sec(c[3]), sec(c[4]), sec(c[5]),
                                    sec(c[6])))
            cursor.execute("ANALYZE sla_recomputed")
            cursor.execute(
                "UPDATE sla_clocks AS c SET policy_id = v.p, "
                "response_due_at = to_timestamp(v.rd), response_warn_at = to_timestamp(v.rw), "
                "resolution_due_at = to_timestamp(v.sd), "
                "resolution_warn_at = to_timestamp(v.sw), next_check_at = to_timestamp(v.nc) "
                "FROM sla_recomputed AS v WHERE c.conversation_id = v.id")
        if convs:
            cursor.execute("CREATE TEMPORARY TABLE sla_due (id uuid PRIMARY KEY, d float8) "
                           "ON COMMIT DROP")
            with cursor.copy("COPY sla_due (id, d) FROM STDIN") as copy:
                for c in convs:
                    copy.write_row((c[0], sec(c[1])))
            cursor.execute("ANALYZE sla_due")
            cursor.execute("UPDATE conversations AS t SET sla_due_at = to_timestamp(v.d) "
                           "FROM sla_due AS v WHERE t.id = v.id")
    finally:
        cursor.close()
    return len(rows), len(clocks)
