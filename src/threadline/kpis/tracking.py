"""Keeping a conversation's facts, episodes and segments: incrementally after each change
(`update`, the KPIS conversation hook) or from scratch (`recompute`). Services never commit.

`update` reads the facts row, the messages from the cursor's time on (index
`ix_messages_conversation`), the status changes after the last audit row folded, and the
current episode and segment when there is something to fold: a few indexed reads, whatever the
length of the conversation. Anything that cannot be appended (a message or status change that
sorts before what was already folded: a provider's late delivery, a reply released after
approval, a merge) makes it recompute the conversation instead, so the result is always the
one `recompute` gives.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation, Message
from threadline.db.base import utcnow
from threadline.hops.records.models import Hop
from threadline.kpis import stream
from threadline.kpis.models import (
    AgentActivity,
    ConversationEpisode,
    ConversationFacts,
    ConversationSegment,
)
from threadline.kpis.rules import Item, KpiRules, Ledger, call_seconds, message_key
from threadline.sla.calendar import ALWAYS, BusinessCalendar
from threadline.sla.models import SlaCalendar, SlaCalendarTeam, SlaOutcome
from threadline.sla.rules import calendar_of

CALL = "call"


def business_calendar(session: Session, workspace_id: uuid.UUID,
                      team_id: uuid.UUID | None) -> BusinessCalendar:
    """The calendar the SLA uses for this team (its own, else the workspace's default, else
    round the clock): one query."""
    stmt = select(SlaCalendar).where(SlaCalendar.workspace_id == workspace_id)
    if team_id is None:
        stmt = stmt.where(SlaCalendar.is_default.is_(True))
    else:
        stmt = stmt.where(or_(SlaCalendar.is_default.is_(True), SlaCalendar.id.in_(
            select(SlaCalendarTeam.calendar_id).where(SlaCalendarTeam.team_id == team_id))))
    rows = list(session.scalars(stmt))
    if not rows:
        return ALWAYS
    row = next((r for r in rows if not r.is_default), rows[0]) if team_id else rows[0]
    return calendar_of(row)


def _lazy_calendar(session: Session, conv: Conversation) -> Any:
    found: list[BusinessCalendar] = []

    def calendar() -> BusinessCalendar:
        if not found:
            found.append(business_calendar(session, conv.workspace_id, conv.team_id))
        return found[0]

    return calendar


def _new_facts(conv: Conversation, origin_source: str | None) -> ConversationFacts:
    return ConversationFacts(
        conversation_id=conv.id, workspace_id=conv.workspace_id, status=conv.status,
        opened_at=conv.created_at, open_since=conv.created_at, origin_source=origin_source,
        journey="", priority=conv.priority, next_responses=0, next_response_total_s=0.0,
        reopen_count=0, customer_messages=0, agent_messages=0, episodes=0, segments=0,
        channels=0, handle_s=0.0, public_to_private=False, status_cursor=0)


# --- from scratch ----------------------------------------------------------------------------


def recompute(session: Session, conversation_id: uuid.UUID, rules: KpiRules | None = None, *,
              now: datetime | None = None) -> ConversationFacts | None:
    """Rebuild the conversation's facts, episodes and segments from its stored messages and
    status changes, its call records' activity rows, its hops and SLA outcomes. Keeps the
    desktop's activity reports and an agent-recorded `origin_source`. A conversation merged
    into another has none (its messages and activity count in the other's: recompute the
    merged one first). Returns the facts row."""
    rules = rules or KpiRules()
    now = now or utcnow()
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        return None
    old = session.get(ConversationFacts, conversation_id)
    origin_source = old.origin_source if old is not None else None
    session.execute(delete(ConversationEpisode).where(
        ConversationEpisode.conversation_id == conversation_id))
    session.execute(delete(ConversationSegment).where(
        ConversationSegment.conversation_id == conversation_id))
    if old is not None:
        session.delete(old)
    session.flush()
    if conv.merged_into_id is not None:  # the time spent on it counts in the target's
        session.execute(sql_update(AgentActivity).where(
            AgentActivity.conversation_id == conversation_id)
            .values(conversation_id=conv.merged_into_id)
            .execution_options(synchronize_session=False))
        return None
    facts = _new_facts(conv, origin_source)
    session.add(facts)
    ledger = Ledger(facts, None, None, rules, _lazy_calendar(session, conv),
                    lambda _channel: False, session.add)
    items = stream.messages(session, conv.id)
    states = stream.statuses(session, conv.id)
    if states:
        facts.status_cursor = stream.audit_id(states[-1])
    ledger.fold(sorted([*items, *states], key=lambda i: i.order))
    session.flush()
    _rebuild_calls(session, conv, [i for i in items if i.call_seconds is not None])
    session.flush()
    facts.handle_s = float(session.scalar(select(func.coalesce(func.sum(
        AgentActivity.seconds), 0.0)).where(AgentActivity.conversation_id == conv.id)) or 0.0)
    if facts.fcr is None and facts.first_resolved_at is not None:
        _customer_came_back(session, conv, facts, rules, ledger.first_reopen_at)
    _derive(session, conv, facts, rules, now)
    _opened_for_others(session, conv, rules)
    session.flush()
    return facts


def _rebuild_calls(session: Session, conv: Conversation, calls: list[Item]) -> None:
    """One activity row per call record of the conversation (an agent already recorded on a
    row is kept); rows of calls that are no longer here, or no longer have a duration, go."""
    keep = [c.message_id for c in calls if c.message_id is not None]
    stale = delete(AgentActivity).where(AgentActivity.conversation_id == conv.id,
                                        AgentActivity.kind == CALL)
    if keep:
        stale = stale.where(AgentActivity.message_id.not_in(keep))
    session.execute(stale)
    for call in calls:
        _upsert_call(session, conv, call)


def _upsert_call(session: Session, conv: Conversation, call: Item) -> float:
    """The call's activity row, created or brought up to date; returns the change in
    seconds."""
    seconds = call.call_seconds or 0.0
    row = session.scalar(select(AgentActivity).where(AgentActivity.message_id
                                                     == call.message_id))
    ended = call.at + timedelta(seconds=seconds)
    if row is None:
        session.add(AgentActivity(
            workspace_id=conv.workspace_id, agent_id=call.agent_id or conv.assignee_id,
            conversation_id=conv.id, kind=CALL, started_at=call.at, ended_at=ended,
            seconds=seconds, message_id=call.message_id))
        return seconds
    change = seconds - row.seconds
    row.conversation_id, row.started_at, row.ended_at, row.seconds = (conv.id, call.at, ended,
                                                                      seconds)
    if call.agent_id is not None:
        row.agent_id = call.agent_id
    return change


# --- incrementally ---------------------------------------------------------------------------


def update(session: Session, conv: Conversation, rules: KpiRules | None = None, *,
           named: Collection[uuid.UUID] = (), now: datetime | None = None,
           ) -> ConversationFacts | None:
    """Fold what is new since the last update into the stored state. `named` are the
    messages the triggering events name (a named message the fold has passed without
    counting it is a late one: the conversation is recomputed)."""
    rules = rules or KpiRules()
    now = now or utcnow()
    if conv.merged_into_id is not None:
        return recompute(session, conv.id, rules, now=now)
    facts = session.get(ConversationFacts, conv.id)
    if facts is None:
        return recompute(session, conv.id, rules, now=now)
    with session.no_autoflush:  # the reads need none of the changes: one flush at the end
        return _update(session, conv, facts, rules, named, now)


def _update(session: Session, conv: Conversation, facts: ConversationFacts, rules: KpiRules,
            named: Collection[uuid.UUID], now: datetime) -> ConversationFacts | None:
    cursor = (facts.cursor_at, facts.cursor_key or "") if facts.cursor_at else None
    found = stream.messages(session, conv.id, facts.cursor_at)
    items = [i for i in found if cursor is None or i.order > cursor]
    if cursor is not None and _late_message(session, conv, facts, items, named):
        return recompute(session, conv.id, rules, now=now)
    states = stream.statuses(session, conv.id, facts.status_cursor)
    if states:
        if cursor is not None and states[0].order <= cursor:
            return recompute(session, conv.id, rules, now=now)  # a change from the past
        facts.status_cursor = stream.audit_id(states[-1])
    if items or states:
        _fold(session, conv, facts, rules, sorted([*items, *states], key=lambda i: i.order))
    _derive(session, conv, facts, rules, now)
    session.flush()
    return facts


def _late_message(session: Session, conv: Conversation, facts: ConversationFacts,
                  new: list[Item], named: Collection[uuid.UUID]) -> bool:
    """A named message that is not among the new ones was either folded already (another
    job's update took it) or arrived after the fold had passed its time: the number of
    messages up to the cursor, against the number folded, tells which."""
    fresh = {i.message_id for i in new}
    if facts.cursor_at is None or all(m in fresh for m in named):
        return False
    new_at_cursor = sum(1 for i in new if i.at == facts.cursor_at)
    folded = facts.customer_messages + facts.agent_messages
    return stream.counted_through(session, conv.id, facts.cursor_at) - new_at_cursor != folded


def _fold(session: Session, conv: Conversation, facts: ConversationFacts, rules: KpiRules,
          items: list[Item]) -> None:
    episode = segment = None
    if facts.episodes:
        episode = session.scalar(select(ConversationEpisode).where(
            ConversationEpisode.conversation_id == conv.id,
            ConversationEpisode.number == facts.episodes))
    if facts.segments and any(i.status is None for i in items):
        segment = session.scalar(select(ConversationSegment).where(
            ConversationSegment.conversation_id == conv.id,
            ConversationSegment.number == facts.segments))

    def channel_seen(channel: str) -> bool:
        return session.scalar(select(ConversationSegment.id).where(
            ConversationSegment.conversation_id == conv.id,
            ConversationSegment.channel == channel).limit(1)) is not None

    ledger = Ledger(facts, episode, segment, rules, _lazy_calendar(session, conv),
                    channel_seen, session.add)
    had_resolution = facts.first_resolved_at is not None
    ledger.fold(items)
    change = sum(_upsert_call(session, conv, call) for call in ledger.calls)
    if change:
        facts.handle_s = ConversationFacts.handle_s + change  # type: ignore[assignment]
    if facts.fcr is None and facts.first_resolved_at is not None and not had_resolution:
        _customer_came_back(session, conv, facts, rules, ledger.first_reopen_at)


def call_edited(session: Session, conv: Conversation, message_id: uuid.UUID) -> None:
    """A call record's duration arrived or changed (the call's final status): its activity
    row and the conversation's handle time follow, if the fold has counted the call."""
    facts = session.get(ConversationFacts, conv.id)
    row = session.execute(select(Message.conversation_id, Message.kind, Message.meta,
                                 Message.created_at, Message.author_agent_id, Message.delivery)
                          .where(Message.id == message_id)).one_or_none()
    if facts is None or row is None or row.conversation_id != conv.id or row.kind != CALL \
            or row.delivery in stream.NOT_SENT or facts.cursor_at is None \
            or (row.created_at, message_key(message_id)) > (facts.cursor_at,
                                                            facts.cursor_key or ""):
        return  # not folded yet: the fold counts it with its duration
    seconds = call_seconds(CALL, row.meta)
    change = 0.0
    if seconds is None:
        gone = session.scalar(select(AgentActivity.seconds).where(
            AgentActivity.message_id == message_id))
        if gone is not None:
            session.execute(delete(AgentActivity).where(AgentActivity.message_id == message_id))
            change = -gone
    else:
        change = _upsert_call(session, conv, Item(
            at=row.created_at, key="", message_id=message_id, agent_id=row.author_agent_id,
            call_seconds=seconds))
    if change:
        facts.handle_s = ConversationFacts.handle_s + change  # type: ignore[assignment]
    session.flush()


# --- what comes from other tables ------------------------------------------------------------


def _derive(session: Session, conv: Conversation, facts: ConversationFacts, rules: KpiRules,
            now: datetime) -> None:
    """The fields copied from the conversation, the SLA's attainment and the hops (each a
    small indexed read), and first-contact resolution once its window has passed."""
    for name in ("customer_id", "team_id", "assignee_id", "category", "priority", "relevance",
                 "origin_channel", "origin_visibility", "origin_account_id", "status"):
        value = getattr(conv, name)
        if getattr(facts, name) != value:
            setattr(facts, name, value)
    _sla(session, facts)
    _hops(session, facts)
    if facts.fcr is None and facts.first_resolved_at is not None and \
            now - facts.first_resolved_at > rules.fcr_window:
        facts.fcr = True
    facts.updated_at = now


def _sla(session: Session, facts: ConversationFacts) -> None:
    first: SlaOutcome | None = None
    resolution: SlaOutcome | None = None
    for row in session.scalars(select(SlaOutcome).where(
            SlaOutcome.conversation_id == facts.conversation_id,
            SlaOutcome.target.in_(("first_response", "resolution")))):
        if row.target == "first_response" and (first is None or row.cycle < first.cycle):
            first = row
        if row.target == "resolution" and (resolution is None or row.cycle > resolution.cycle):
            resolution = row
    facts.sla_first_response_met = None if first is None else first.status == "met"
    facts.sla_resolution_met = None if resolution is None else resolution.status == "met"


def _hops(session: Session, facts: ConversationFacts) -> None:
    hops = list(session.scalars(select(Hop).where(Hop.conversation_id == facts.conversation_id)
                                .order_by(Hop.created_at)))
    if not hops:
        facts.hop_offered_s = facts.hop_taken = None
        facts.returned_to_origin = facts.return_delay_s = None
        return
    offered = min(h.offered_at or h.created_at for h in hops)
    facts.hop_offered_s = max(0.0, (offered - facts.opened_at).total_seconds())
    facts.hop_taken = any(h.taken_at is not None for h in hops)
    if any(h.taken_at is not None and h.from_visibility == "public"
           and h.to_visibility == "private" for h in hops):
        facts.public_to_private = True
    public = [h for h in hops if h.from_visibility == "public" and h.taken_at is not None]
    returned = [h for h in public if h.returned_at is not None]
    facts.returned_to_origin = bool(returned) if public else None
    if returned:
        first = min(returned, key=lambda h: h.returned_at)  # type: ignore[arg-type, return-value]
        assert first.returned_at is not None
        facts.return_delay_s = max(0.0, (first.returned_at - (
            first.offered_at or first.created_at)).total_seconds())
    else:
        facts.return_delay_s = None


# --- first-contact resolution across conversations ---------------------------------------


def _customer_came_back(session: Session, conv: Conversation, facts: ConversationFacts,
                        rules: KpiRules, first_reopen_at: datetime | None) -> None:
    """Not FCR when the customer opened another conversation (on any channel) within the
    window after the first resolution, before this one was reopened."""
    if conv.customer_id is None or facts.first_resolved_at is None:
        return
    start = facts.first_resolved_at
    end = start + rules.fcr_window
    if first_reopen_at is not None and first_reopen_at < end:
        end = first_reopen_at
    other = session.scalar(select(Conversation.id).where(
        Conversation.customer_id == conv.customer_id, Conversation.id != conv.id,
        Conversation.merged_into_id.is_(None), Conversation.created_at >= start,
        Conversation.created_at <= end).limit(1))
    if other is not None:
        facts.fcr = False


def _opened_for_others(session: Session, conv: Conversation, rules: KpiRules) -> None:
    """This conversation is the customer coming back for his other conversations resolved
    within the window before it opened (and not yet decided)."""
    if conv.customer_id is None:
        return
    session.execute(sql_update(ConversationFacts).where(
        ConversationFacts.customer_id == conv.customer_id,
        ConversationFacts.conversation_id != conv.id, ConversationFacts.fcr.is_(None),
        ConversationFacts.first_resolved_at <= conv.created_at,
        ConversationFacts.first_resolved_at >= conv.created_at - rules.fcr_window)
        .values(fcr=False).execution_options(synchronize_session=False))
