"""The clocks of a conversation, as pure functions of its stored clock row, what is true of
the conversation now (`Facts`), the policy's targets and the calendar.

Two clocks per conversation, on one row:

- the **response** clock owes an answer to a customer who is waiting: the *first response*
  (no answer yet) and then a *next response* for every customer message that waits for an
  answer (a new cycle each time the customer writes after an answer). It starts at the
  customer's message, stops at the answer, and pauses while the conversation is snoozed;
- the **resolution** clock runs while the conversation is open and the customer waits; it
  pauses while waiting on the customer (status pending, or the last message is ours),
  while snoozed, and stops at resolution (it continues if the conversation is reopened).

Business time only counts inside the calendar's hours: a clock running overnight consumes
nothing. `*_used` holds the business seconds consumed until `*_since`; due and warning
times are `calendar.add(since, target - used)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from threadline.sla.calendar import BusinessCalendar

ACTIVE = ("open", "pending", "snoozed")
DONE = ("resolved", "closed")


@dataclass(frozen=True)
class Targets:
    """A policy's targets in business seconds and its warning threshold."""

    first: float | None = None
    next: float | None = None
    resolution: float | None = None
    warn_percent: int | None = None
    warn_seconds: float | None = None

    def response(self, kind: str | None) -> float | None:
        if kind == "first":
            return self.first
        if kind == "next":
            return self.next
        return None

    def warn_point(self, budget: float) -> float | None:
        """Business seconds used when the warning is due (None: no warning)."""
        if self.warn_percent is not None:
            return budget * self.warn_percent / 100.0
        if self.warn_seconds is not None:
            return max(budget - self.warn_seconds, 0.0)
        return None


NO_TARGETS = Targets()


@dataclass(frozen=True)
class Facts:
    """What the clocks need to know of a conversation now.

    `waiting_since`: the customer's first message not answered yet (None: nothing owed);
    `first_reply_at`: our first answer ever; `replied_at`: our first answer at or after the
    stored response cycle's start (how that cycle ended)."""

    status: str
    waiting_since: datetime | None
    first_reply_at: datetime | None
    replied_at: datetime | None
    resolved_at: datetime | None


class ClockRow(Protocol):
    response_kind: str | None
    response_cycle: int
    response_started_at: datetime | None
    response_used: float
    response_since: datetime | None
    response_due_at: datetime | None
    response_warn_at: datetime | None
    response_warned_at: datetime | None
    response_breached_at: datetime | None
    resolution_used: float
    resolution_since: datetime | None
    resolution_due_at: datetime | None
    resolution_warn_at: datetime | None
    resolution_warned_at: datetime | None
    resolution_breached_at: datetime | None
    paused: str | None
    next_check_at: datetime | None


def response_target(kind: str | None) -> str:
    return "first_response" if kind == "first" else "next_response"


def _accrue(cal: BusinessCalendar, since: datetime | None, until: datetime) -> float:
    if since is None or until <= since:
        return 0.0
    return cal.between(since, until)


def _resume(since: datetime | None, now: datetime) -> datetime:
    """Where a running clock counts from after `now` was accounted: `now`, or a start still
    ahead of it (a message stamped a moment ahead by its provider)."""
    return since if since is not None and since > now else now


def paused_reason(facts: Facts) -> str | None:
    if facts.status in DONE:
        return "resolved"
    if facts.status == "snoozed":
        return "snoozed"
    if facts.status == "pending" or facts.waiting_since is None:
        return "waiting_on_customer"
    return None


def step(clock: ClockRow, facts: Facts, now: datetime, cal: BusinessCalendar,
         targets: Targets, *, new: bool = False) -> list[dict[str, Any]]:
    """Bring `clock` up to `now` given `facts`; returns the outcomes that ended (answers
    and resolutions: `{"target", "cycle", "status", "due_at", "breached_at", "done_at",
    "business_seconds"}`) for the attainment record. Due times are set by `schedule`."""
    outcomes: list[dict[str, Any]] = []
    waiting = facts.waiting_since if facts.status in ACTIVE else None
    # --- response ---------------------------------------------------------------------
    if clock.response_started_at is not None and waiting != clock.response_started_at:
        if facts.replied_at is not None:  # answered: the cycle's attainment
            until = max(facts.replied_at, clock.response_since or facts.replied_at)
            used = clock.response_used + _accrue(cal, clock.response_since, until)
            budget = targets.response(clock.response_kind)
            if budget is not None or clock.response_breached_at is not None:
                late = clock.response_breached_at is not None or (
                    budget is not None and used > budget)
                outcomes.append({
                    "target": response_target(clock.response_kind),
                    "cycle": clock.response_cycle, "status": "breached" if late else "met",
                    "due_at": clock.response_due_at,
                    "breached_at": clock.response_breached_at,
                    "done_at": facts.replied_at, "business_seconds": used})
        clock.response_kind = None
        clock.response_started_at = clock.response_since = None
        clock.response_used = 0.0
    response_runs = facts.status not in ("snoozed", *DONE)
    if waiting is not None and clock.response_started_at is None:  # a new cycle
        clock.response_cycle += 1
        clock.response_started_at = waiting
        first = facts.first_reply_at is None or facts.first_reply_at > waiting
        clock.response_kind = "first" if first else "next"
        clock.response_used = 0.0
        clock.response_warned_at = clock.response_breached_at = None
        clock.response_since = waiting if response_runs else None
    elif clock.response_started_at is not None:
        clock.response_used += _accrue(cal, clock.response_since, now)
        clock.response_since = _resume(clock.response_since, now) if response_runs else None
    # --- resolution -------------------------------------------------------------------
    resolution_runs = facts.status == "open" and waiting is not None
    if new and resolution_runs and waiting is not None:
        clock.resolution_since = waiting  # counted from the customer's first message
    else:
        clock.resolution_used += _accrue(cal, clock.resolution_since, now)
        clock.resolution_since = (_resume(clock.resolution_since, now) if resolution_runs
                                  else None)
    reason = paused_reason(facts)
    if reason == "resolved" and clock.paused != "resolved":
        late = clock.resolution_breached_at is not None or (
            targets.resolution is not None and clock.resolution_used > targets.resolution)
        if targets.resolution is not None or clock.resolution_breached_at is not None:
            outcomes.append({
                "target": "resolution", "cycle": 0, "status": "breached" if late else "met",
                "due_at": clock.resolution_due_at,
                "breached_at": clock.resolution_breached_at,
                "done_at": facts.resolved_at or now,
                "business_seconds": clock.resolution_used})
    clock.paused = reason
    return outcomes


# --- due times: shared by the hook and the bulk recomputation ---------------------------


def due_times(cal: BusinessCalendar, targets: Targets, kind: str | None,
              response_used: float, response_since: float | None, resolution_used: float,
              resolution_since: float | None,
              ) -> tuple[float | None, float | None, float | None, float | None]:
    """(response due, response warning, resolution due, resolution warning) as epoch
    seconds, None where the clock is paused or has no target."""
    r_due = r_warn = s_due = s_warn = None
    budget = targets.response(kind) if response_since is not None else None
    if budget is not None and response_since is not None:
        start = cal.position(response_since) - response_used
        r_due = cal.instant(start + budget)
        point = targets.warn_point(budget)
        if point is not None:
            r_warn = cal.instant(start + point)
    budget = targets.resolution if resolution_since is not None else None
    if budget is not None and resolution_since is not None:
        start = cal.position(resolution_since) - resolution_used
        s_due = cal.instant(start + budget)
        point = targets.warn_point(budget)
        if point is not None:
            s_warn = cal.instant(start + point)
    return r_due, r_warn, s_due, s_warn


def when(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def stamp(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def next_check(r_due: float | None, r_warn: float | None, r_warned: bool, r_breached: bool,
               s_due: float | None, s_warn: float | None, s_warned: bool,
               s_breached: bool) -> float | None:
    """The next instant the scanner must look at this conversation."""
    times = []
    if not r_breached:
        if r_due is not None:
            times.append(r_due)
        if r_warn is not None and not r_warned:
            times.append(r_warn)
    if not s_breached:
        if s_due is not None:
            times.append(s_due)
        if s_warn is not None and not s_warned:
            times.append(s_warn)
    return min(times) if times else None


def schedule(clock: ClockRow, cal: BusinessCalendar, targets: Targets) -> datetime | None:
    """Set the clock's due and warning times and its next check; returns the earliest
    running due time (the conversation's `sla_due_at`)."""
    r_due, r_warn, s_due, s_warn = due_times(
        cal, targets, clock.response_kind, clock.response_used, stamp(clock.response_since),
        clock.resolution_used, stamp(clock.resolution_since))
    clock.response_due_at, clock.response_warn_at = when(r_due), when(r_warn)
    clock.resolution_due_at, clock.resolution_warn_at = when(s_due), when(s_warn)
    clock.next_check_at = when(next_check(
        r_due, r_warn, clock.response_warned_at is not None,
        clock.response_breached_at is not None, s_due, s_warn,
        clock.resolution_warned_at is not None, clock.resolution_breached_at is not None))
    dues = [d for d in (r_due, s_due) if d is not None]
    return when(min(dues)) if dues else None
