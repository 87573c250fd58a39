"""Property: whatever happens to a conversation, in whatever order and with whatever gaps,
the facts, episodes, segments and call activity the KPIS hook keeps step by step are exactly
what a full recomputation from the stored rows gives.

The steps: customer and agent messages on random channels and visibilities (calls with a
duration among them), internal notes, resolve, close and reopen, hops offered, taken and
returned, a message delivered late (its time before what was already counted) and a status
change audited before the last message's time (clock skew), a step whose
hook runs with the next step's (one job for two changes), a job that runs twice, a call
whose duration arrives with its outcome. Gaps include 0 (the same instant), the episode
silence's edges (23 h, 25 h) and the FCR window's (3 and 8 days)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kpis.story import Story, new_agent
from threadline.conversations.models import Message
from threadline.db.base import utcnow
from threadline.events.service import ConversationEvent

GAPS = [timedelta(0), timedelta(seconds=30), timedelta(minutes=10), timedelta(hours=5),
        timedelta(hours=23), timedelta(hours=25), timedelta(days=3), timedelta(days=8)]
CHANNELS = ["x", "facebook", "email", "twilio"]
VISIBILITIES = ["public", "private"]
SENTIMENTS = [None, "negative", "neutral", "positive"]

gap = st.sampled_from(GAPS)
channel = st.sampled_from(CHANNELS)
visibility = st.sampled_from(VISIBILITIES)
step = st.one_of(
    st.tuples(st.just("customer"), gap, channel, visibility, st.sampled_from(SENTIMENTS)),
    st.tuples(st.just("agent"), gap, channel, visibility,
              st.sampled_from([None, None, 90.0, 600.0])),
    st.tuples(st.just("note"), gap),
    st.tuples(st.just("status"), gap, st.sampled_from(["resolved", "resolved", "closed",
                                                       "open", "pending"])),
    st.tuples(st.just("hop"), gap, st.booleans(), st.booleans()),
    st.tuples(st.just("late"), st.sampled_from(GAPS[1:]), channel, visibility),
    st.tuples(st.just("late_status"), st.sampled_from(GAPS[1:4]),
              st.sampled_from(["resolved", "open"])),
    st.tuples(st.just("together"), gap, channel),
    st.tuples(st.just("rerun")),
    st.tuples(st.just("call_outcome"), st.integers(min_value=1, max_value=4000)),
)


def _tell(story: Story, steps: list[tuple[Any, ...]], start: datetime, agent: Any) -> datetime:
    t = start
    last_events: tuple[list[str], Any] = ([ConversationEvent.CREATED], None)
    status = "open"
    calls: list[Any] = []
    for s in steps:
        kind = s[0]
        if kind in ("customer", "agent", "note", "status", "hop", "together"):
            t = t + s[1]
            story.now = t
        if kind == "customer":
            mid = story.customer(t, s[2], s[3], sentiment=s[4])
            last_events = ([ConversationEvent.MESSAGE_RECEIVED], mid)
            status = "open" if status in ("resolved", "closed") else status
        elif kind == "agent":
            meta = {"duration_seconds": s[4]} if s[4] else None
            mid = story.agent(t, s[2], s[3], agent_id=agent, kind="call" if meta else "message",
                              meta=meta)
            last_events = ([ConversationEvent.REPLIED], mid)
        elif kind == "note":
            story.agent(t, kind="note", visibility="private")
        elif kind == "status":
            if s[2] != status:
                story.status(t, s[2], agent_id=agent)
                status = s[2]
                last_events = ([ConversationEvent.STATUS_CHANGED], None)
        elif kind == "hop":
            story.hop(t, taken_at=t + timedelta(minutes=5) if s[2] else None,
                      returned_at=t + timedelta(hours=1) if s[2] and s[3] else None)
        elif kind == "late":  # delivered now, written a while ago
            mid = story.customer(t - s[1], s[2], s[3])
            last_events = ([ConversationEvent.MESSAGE_RECEIVED], mid)
            status = "open" if status in ("resolved", "closed") else status
        elif kind == "late_status":  # audited at a time before the last message (skew)
            if s[2] != status:
                story.status(t - s[1], s[2], agent_id=agent)
                status = s[2]
                last_events = ([ConversationEvent.STATUS_CHANGED], None)
        elif kind == "together":  # two messages, one job
            first = story.customer(t, s[2], "private", run=False)
            second = story.agent(t + timedelta(minutes=1), s[2], "private", agent_id=agent,
                                 kind="call", meta={"call_status": "ringing"}, run=False)
            calls.append(second)
            t = t + timedelta(minutes=1)
            story.now = t
            story.run(ConversationEvent.MESSAGE_RECEIVED, message_id=first)
            story.run(ConversationEvent.REPLIED, message_id=second)
            status = "open" if status in ("resolved", "closed") else status
            last_events = ([ConversationEvent.REPLIED], second)
        elif kind == "rerun":  # the worker ran the last job again
            story.run(*last_events[0], message_id=last_events[1])
        elif kind == "call_outcome" and calls:
            with story.runtime.db.session() as session:
                message = session.get(Message, calls[-1])
                assert message is not None
                message.meta = {**message.meta, "call_status": "completed",
                                "duration_seconds": s[1]}
            story.run(ConversationEvent.MESSAGE_EDITED, message_id=calls[-1])
    story.now = t
    story.run(ConversationEvent.UPDATED)  # the hook's last look, at the story's end
    return t


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(opening=st.tuples(channel, visibility), steps=st.lists(step, min_size=1, max_size=14))
def test_incremental_equals_recomputed(runtime, workspace_id, opening, steps):
    agent = new_agent(runtime, workspace_id)
    start = utcnow().replace(microsecond=0) - timedelta(days=90)
    story = Story.begin(runtime, workspace_id, start, channel=opening[0],
                        visibility=opening[1], now=start)
    end = _tell(story, steps, start, agent)
    stored, rebuilt = story.incremental_and_recomputed(now=end)
    assert stored["facts"] is not None
    assert stored == rebuilt, _differences(stored, rebuilt)


def _differences(stored: dict[str, Any], rebuilt: dict[str, Any]) -> dict[str, Any]:
    facts = {k: (v, rebuilt["facts"][k]) for k, v in stored["facts"].items()
             if rebuilt["facts"][k] != v}
    return {"facts": facts, **{k: (stored[k], rebuilt[k]) for k in ("episodes", "segments",
                                                                    "activity")
                               if stored[k] != rebuilt[k]}}
