"""The fold that turns a conversation's history into its facts, episodes and segments.

A conversation's history is a stream of items in order of (time, key): its messages (notes
and replies held for approval are not messages here) and the status changes agents and rules
make (`conversation.resolved` ... in the audit). A customer message while the conversation is
resolved reopens it, as the inbound pipeline does. `Ledger.apply` takes one item at a time
and changes the facts row, the current episode and the current segment in place, so the
worker applies only the new items to the stored state (tracking.update) and the rebuild
folds every item into empty rows (tracking.recompute): both run this code, which is why they
agree (tests/kpis/test_incremental_property.py).

Pure: no database and no clock; the calendar and the question "was this channel seen in an
earlier segment?" come from the caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from threadline.kpis.models import ConversationEpisode, ConversationFacts, ConversationSegment
from threadline.sla.calendar import BusinessCalendar

RESOLVED = ("resolved", "closed")
ACTIVE = ("open", "pending", "snoozed")
SENTIMENTS = ("negative", "neutral", "positive")
JOURNEY_MAX = 400
JOURNEY_MORE = ">..."
MAX_CALL_SECONDS = 86_400.0  # a call record claiming more than a day is not believed


@dataclass(frozen=True)
class KpiRules:
    """What the workspace's numbers depend on (config: THREADLINE_KPI_*)."""

    silence: timedelta = timedelta(hours=24)  # a message after this much silence starts an episode
    fcr_window: timedelta = timedelta(days=7)  # resolved and not back within this: FCR


@dataclass(frozen=True)
class Item:
    """One message or status change. `key` orders items of the same instant and names the
    item in the cursor: "m:<message id hex>" or "s:<audit id, 20 digits>" (messages first)."""

    at: datetime
    key: str
    status: str | None = None  # a status change: the new status
    inbound: bool = False  # a message: the customer's (else the brand's)
    channel: str = ""
    visibility: str = ""
    account_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None  # the message's author, or who changed the status
    sentiment: str | None = None
    call_seconds: float | None = None
    message_id: uuid.UUID | None = None

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.at, self.key)


def message_key(message_id: uuid.UUID) -> str:
    return f"m:{message_id.hex}"


def status_key(audit_id: int) -> str:
    return f"s:{audit_id:020d}"


def call_seconds(kind: str, meta: dict[str, Any] | None) -> float | None:
    """A call's duration from its record (`meta.duration_seconds`), None for anything else
    or a value that is not a sane number of seconds."""
    if kind != "call" or not meta:
        return None
    value = meta.get("duration_seconds")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not 0 < seconds <= MAX_CALL_SECONDS:
        return None
    return seconds


def sentiment_of(triage: dict[str, Any] | None) -> str | None:
    value = (triage or {}).get("sentiment")
    return value if value in SENTIMENTS else None


def _seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


@dataclass
class Ledger:
    """The fold's state: the facts row, the current episode and segment (None before the
    first), and what the caller must do after folding (call records to count)."""

    facts: ConversationFacts
    episode: ConversationEpisode | None
    segment: ConversationSegment | None
    rules: KpiRules
    calendar: Callable[[], BusinessCalendar]
    channel_seen: Callable[[str], bool]  # in a segment before this fold started
    add: Callable[[Any], None]  # a new episode or segment row
    calls: list[Item] = field(default_factory=list)
    first_reopen_at: datetime | None = None  # the first reopening this fold saw
    _channels: set[str] = field(default_factory=set)

    def fold(self, items: Iterable[Item]) -> None:
        for item in items:
            self.apply(item)

    def apply(self, item: Item) -> None:
        if item.status is not None:
            self._status(item)
        else:
            self._message(item)
        self.facts.cursor_at, self.facts.cursor_key = item.at, item.key

    # --- messages ------------------------------------------------------------------------

    def _message(self, m: Item) -> None:
        f, t = self.facts, m.at
        if m.inbound and f.open_since is None:
            self._reopen(t)
        elif self.episode is None:
            self._episode(t, "start")
        elif _seconds(self.episode.last_activity_at, t) > self.rules.silence.total_seconds():
            self._episode(t, "silence")
        episode = self.episode
        assert episode is not None
        if t > episode.last_activity_at:
            episode.last_activity_at = t
        self._segment_for(m)
        f.last_channel, f.last_visibility = m.channel, m.visibility
        if m.inbound:
            f.customer_messages += 1
            episode.customer_messages += 1
            if m.sentiment is not None:
                if f.sentiment_start is None:
                    f.sentiment_start = m.sentiment
                f.sentiment_end = m.sentiment
            if f.waiting_since is None:
                f.waiting_since = t
        else:
            f.agent_messages += 1
            episode.agent_messages += 1
            if f.waiting_since is not None:
                self._answered(t, f.waiting_since, episode)
        if m.call_seconds is not None:
            self.calls.append(m)

    def _answered(self, t: datetime, waiting: datetime, episode: ConversationEpisode) -> None:
        f = self.facts
        waited = max(0.0, _seconds(waiting, t))
        if f.first_response_at is None:
            f.first_response_at = t
            f.first_response_s = waited
            f.first_response_business_s = max(0.0, self.calendar().between(waiting, t))
        else:
            f.next_responses += 1
            f.next_response_total_s += waited
            if f.next_response_max_s is None or waited > f.next_response_max_s:
                f.next_response_max_s = waited
        if episode.first_response_s is None:
            episode.first_response_s = max(0.0, _seconds(max(waiting, episode.started_at), t))
        f.waiting_since = None

    def _segment_for(self, m: Item) -> None:
        f, current = self.facts, self.segment
        if current is not None and (current.channel, current.visibility) == (m.channel,
                                                                               m.visibility):
            current.messages += 1
            if m.at > current.ended_at:
                current.ended_at = m.at
            return
        if current is not None and current.visibility == "public" and m.visibility == "private":
            f.public_to_private = True
        if m.channel not in self._channels and not self.channel_seen(m.channel):
            f.channels += 1
        self._channels.add(m.channel)
        f.segments += 1
        segment = ConversationSegment(
            workspace_id=f.workspace_id, conversation_id=f.conversation_id, number=f.segments,
            channel=m.channel, visibility=m.visibility, channel_account_id=m.account_id,
            started_at=m.at, ended_at=m.at, messages=1)
        self.add(segment)
        self.segment = segment
        f.journey = journey_with(f.journey, f"{m.channel}:{m.visibility}")

    # --- status changes ------------------------------------------------------------------

    def _status(self, s: Item) -> None:
        f = self.facts
        if s.status in RESOLVED and f.open_since is not None:
            self._resolve(s.at, s.agent_id, f.open_since)
        elif s.status in ACTIVE and f.open_since is None:
            self._reopen(s.at)

    def _resolve(self, t: datetime, agent_id: uuid.UUID | None, since: datetime) -> None:
        f = self.facts
        f.resolution_s = (f.resolution_s or 0.0) + max(0.0, _seconds(since, t))
        f.resolution_business_s = (f.resolution_business_s or 0.0) + max(
            0.0, self.calendar().between(since, t))
        f.open_since = None
        f.resolved_at = t
        f.resolved_by_id = agent_id
        f.resolved_channel, f.resolved_visibility = f.last_channel, f.last_visibility
        f.waiting_since = None  # what was not answered before the resolution is done
        if f.first_resolved_at is None:
            f.first_resolved_at = t
        if self.episode is not None:
            self.episode.resolved_at = t

    def _reopen(self, t: datetime) -> None:
        f = self.facts
        f.reopen_count += 1
        f.open_since = t
        if self.first_reopen_at is None:
            self.first_reopen_at = t
        if f.fcr is None and f.first_resolved_at is not None:
            f.fcr = _seconds(f.first_resolved_at, t) > self.rules.fcr_window.total_seconds()
        self._episode(t, "reopen")

    def _episode(self, t: datetime, reason: str) -> None:
        f = self.facts
        f.episodes += 1
        episode = ConversationEpisode(
            workspace_id=f.workspace_id, conversation_id=f.conversation_id, number=f.episodes,
            reason="start" if f.episodes == 1 else reason, started_at=t, last_activity_at=t,
            customer_messages=0, agent_messages=0)
        self.add(episode)
        self.episode = episode


def journey_with(journey: str, step: str) -> str:
    """The segment path with one more step (a repeat of the last step is not added; past
    400 characters the path ends with "..." and grows no more)."""
    if not journey:
        return step[:JOURNEY_MAX]
    if journey.endswith(JOURNEY_MORE) or journey.rsplit(">", 1)[-1] == step:
        return journey
    if len(journey) + 1 + len(step) + len(JOURNEY_MORE) > JOURNEY_MAX:
        return journey + JOURNEY_MORE
    return f"{journey}>{step}"
