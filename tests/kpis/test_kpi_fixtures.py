"""Hand-computed fixtures: each story is told step by step through the KPIS hook, and every
figure of its facts, episodes and segments is asserted exactly (the arithmetic is in the
comments); then a recomputation from the stored rows must give the same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.kpis.story import Story, new_agent
from threadline.db.base import utcnow
from threadline.kpis.activity import record_activity
from threadline.kpis.models import ConversationFacts
from threadline.sla.models import SlaCalendar

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def monday(weeks_back: int = 4) -> datetime:
    """A Monday 10:00 UTC some weeks ago (every FCR window of the story has passed)."""
    today = utcnow().replace(hour=10, minute=0, second=0, microsecond=0)
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks_back)


def _same_when_recomputed(story: Story) -> None:
    stored, rebuilt = story.incremental_and_recomputed()
    assert stored == rebuilt


class TestHopAndReturnToOrigin:
    def test_public_x_then_dm_then_public_close_out(self, runtime, workspace_id):
        ana = new_agent(runtime, workspace_id)
        t0 = monday()
        story = Story.begin(runtime, workspace_id, t0, channel="x", visibility="public",
                            sentiment="negative")  # "charged twice!!"
        story.agent(t0 + 10 * MIN, "x", "public", agent_id=ana)  # "sent you a DM link"
        hop = story.hop(t0 + 10 * MIN)
        story.customer(t0 + 25 * MIN, "x", "private", sentiment="neutral")
        story.set_hop(hop, taken_at=t0 + 25 * MIN)
        story.agent(t0 + 30 * MIN, "x", "private", agent_id=ana)
        story.customer(t0 + 40 * MIN, "x", "private", sentiment="positive")
        story.agent(t0 + 45 * MIN, "x", "private", agent_id=ana)
        story.resolve(t0 + 50 * MIN, agent_id=ana)
        story.agent(t0 + 55 * MIN, "x", "public", agent_id=ana)  # the public close-out
        story.set_hop(hop, returned_at=t0 + 55 * MIN)

        f = story.facts()
        assert (f.opened_at, f.first_response_at) == (t0, t0 + 10 * MIN)
        assert (f.first_response_s, f.first_response_business_s) == (600.0, 600.0)  # 24x7
        # next responses: 25 -> 30 min and 40 -> 45 min
        assert (f.next_responses, f.next_response_total_s, f.next_response_max_s) == (
            2, 600.0, 300.0)
        assert (f.resolved_at, f.resolution_s, f.resolution_business_s) == (
            t0 + 50 * MIN, 3000.0, 3000.0)
        assert (f.resolved_by_id, f.resolved_channel, f.resolved_visibility) == (
            ana, "x", "private")
        assert (f.customer_messages, f.agent_messages, f.reopen_count) == (3, 4, 0)
        assert (f.episodes, f.segments, f.channels) == (1, 3, 1)
        assert f.journey == "x:public>x:private>x:public"
        assert (f.last_channel, f.last_visibility) == ("x", "public")
        assert f.public_to_private is True
        # offered 10 min after opening; returned 45 min after the offer
        assert (f.hop_offered_s, f.hop_taken, f.returned_to_origin, f.return_delay_s) == (
            600.0, True, True, 2700.0)
        assert (f.sentiment_start, f.sentiment_end) == ("negative", "positive")
        assert f.fcr is True  # resolved four weeks ago, nobody came back
        assert (f.status, f.origin_channel, f.origin_visibility) == ("resolved", "x", "public")
        assert (f.sla_first_response_met, f.sla_resolution_met) == (None, None)  # no policy
        [s1, s2, s3] = story.segments()
        assert [(s.channel, s.visibility, s.messages, s.started_at, s.ended_at)
                for s in (s1, s2, s3)] == [
            ("x", "public", 2, t0, t0 + 10 * MIN),
            ("x", "private", 4, t0 + 25 * MIN, t0 + 45 * MIN),
            ("x", "public", 1, t0 + 55 * MIN, t0 + 55 * MIN)]
        [e1] = story.episodes()
        assert (e1.reason, e1.customer_messages, e1.agent_messages, e1.first_response_s,
                e1.resolved_at, e1.last_activity_at) == (
            "start", 3, 4, 600.0, t0 + 50 * MIN, t0 + 55 * MIN)
        _same_when_recomputed(story)

    def test_an_offer_not_taken(self, runtime, workspace_id):
        t0 = monday()
        story = Story.begin(runtime, workspace_id, t0)
        story.hop(t0 + 2 * MIN)
        f = story.facts()
        assert (f.hop_offered_s, f.hop_taken, f.returned_to_origin, f.return_delay_s) == (
            120.0, False, None, None)
        assert f.public_to_private is False
        _same_when_recomputed(story)


class TestReopenOnAnotherChannel:
    def test_back_after_three_days_by_dm_is_not_first_contact_resolution(
            self, runtime, workspace_id):
        t0 = utcnow().replace(microsecond=0) - 5 * DAY  # the window is open as it is told
        story = Story.begin(runtime, workspace_id, t0, channel="email", visibility="private")
        story.agent(t0 + HOUR, "email", "private")
        story.resolve(t0 + 2 * HOUR)
        assert story.facts().fcr is None
        back = t0 + 2 * HOUR + 3 * DAY  # three days later, on X this time
        story.customer(back, "x", "private")
        story.agent(back + 30 * MIN, "x", "private")
        story.resolve(back + HOUR)

        f = story.facts()
        assert f.fcr is False  # back after 3 days, within the 7-day window
        assert f.reopen_count == 1
        assert f.first_resolved_at == t0 + 2 * HOUR
        assert f.resolved_at == back + HOUR
        # open 2 h, then open again 1 h: the resolved days do not count
        assert (f.resolution_s, f.resolution_business_s) == (3 * 3600.0, 3 * 3600.0)
        assert (f.first_response_s, f.next_responses, f.next_response_total_s) == (
            3600.0, 1, 1800.0)
        assert (f.episodes, f.segments, f.channels) == (2, 2, 2)
        assert f.journey == "email:private>x:private"
        assert (f.resolved_channel, f.resolved_visibility) == ("x", "private")
        e1, e2 = story.episodes()
        assert (e1.reason, e1.started_at, e1.first_response_s, e1.resolved_at) == (
            "start", t0, 3600.0, t0 + 2 * HOUR)
        assert (e2.reason, e2.started_at, e2.customer_messages, e2.agent_messages,
                e2.first_response_s, e2.resolved_at) == (
            "reopen", back, 1, 1, 1800.0, back + HOUR)
        _same_when_recomputed(story)

    def test_a_new_conversation_of_the_same_customer_within_the_window(
            self, runtime, workspace_id):
        t0 = monday()
        first = Story.begin(runtime, workspace_id, t0, channel="email", visibility="private")
        first.agent(t0 + HOUR, "email", "private")
        first.resolve(t0 + 2 * HOUR)
        assert first.facts().fcr is True  # settled: four weeks without a return...
        # ...as seen now; told in order, the customer's new conversation comes first:
        other = Story.begin(runtime, workspace_id, monday(1), channel="x",
                            visibility="private", customer_id=first.customer_id)
        assert other.facts().fcr is None
        assert first.facts().fcr is True  # a decided FCR is not changed by later news
        _same_when_recomputed(first)

        late = Story.begin(runtime, workspace_id, utcnow() - 2 * DAY, channel="email",
                           visibility="private")
        late.resolve(utcnow() - 2 * DAY + HOUR)
        assert late.facts().fcr is None  # the window is still open
        Story.begin(runtime, workspace_id, utcnow() - DAY, channel="messenger",
                    visibility="private", customer_id=late.customer_id)
        assert late.facts().fcr is False  # he came back on Messenger within the window
        _same_when_recomputed(late)


class TestCalls:
    def test_calls_count_their_duration_as_handle_time(self, runtime, workspace_id):
        ana = new_agent(runtime, workspace_id)
        t0 = monday()
        story = Story.begin(runtime, workspace_id, t0, channel="twilio", visibility="private",
                            kind="call", meta={"duration_seconds": 420,
                                               "call_status": "completed"})
        story.agent(t0 + HOUR, "twilio", "private", agent_id=ana, kind="call",
                    meta={"duration_seconds": 180, "call_status": "completed"})
        f = story.facts()
        assert f.handle_s == 600.0  # 7 min + 3 min
        assert (f.customer_messages, f.agent_messages, f.first_response_s) == (1, 1, 3600.0)
        with runtime.db.session() as session:  # the desktop: 45 s on it, then 20 s typing
            assert record_activity(session, workspace_id, ana, story.conversation_id, "focus",
                                   45, now=t0 + HOUR + 2 * MIN) == 45.0
            assert record_activity(session, workspace_id, ana, story.conversation_id,
                                   "typing", 20, now=t0 + HOUR + 2 * MIN + 20
                                   * timedelta(seconds=1)) == 20.0
        assert story.facts().handle_s == 665.0
        stored, rebuilt = story.incremental_and_recomputed()
        assert stored == rebuilt
        kinds = sorted((a["kind"], a["seconds"], a["agent_id"]) for a in stored["activity"])
        assert kinds == sorted([("call", 420.0, None), ("call", 180.0, ana),
                                ("focus", 45.0, ana), ("typing", 20.0, ana)])

    def test_a_call_whose_duration_arrives_with_its_outcome(self, runtime, workspace_id):
        t0 = monday()
        story = Story.begin(runtime, workspace_id, t0, channel="twilio", visibility="private",
                            kind="call", meta={"call_status": "ringing"})
        assert story.facts().handle_s == 0.0
        call = story.messages[0]
        with runtime.db.session() as session:  # the terminal status's edit (inbound/updates.py)
            from threadline.conversations.models import Message
            message = session.get(Message, call)
            message.meta = {**message.meta, "call_status": "completed", "duration_seconds": 65}
        from threadline.events.service import ConversationEvent
        story.run(ConversationEvent.MESSAGE_EDITED, message_id=call)
        assert story.facts().handle_s == 65.0
        _same_when_recomputed(story)


class TestEpisodes:
    def test_a_silence_of_more_than_a_day_starts_an_episode(self, runtime, workspace_id):
        t0 = monday()
        story = Story.begin(runtime, workspace_id, t0, channel="messenger",
                            visibility="private")
        story.agent(t0 + 5 * MIN, "messenger", "private")
        again = t0 + 5 * MIN + 25 * HOUR  # 25 h without a message
        story.customer(again, "messenger", "private")
        story.agent(again + 10 * MIN, "messenger", "private")
        story.customer(again + 23 * HOUR, "messenger", "private")  # 22 h 50 min: same one
        e1, e2 = story.episodes()
        assert (e1.reason, e1.started_at, e1.last_activity_at, e1.customer_messages,
                e1.agent_messages, e1.first_response_s) == (
            "start", t0, t0 + 5 * MIN, 1, 1, 300.0)
        assert (e2.reason, e2.started_at, e2.last_activity_at, e2.customer_messages,
                e2.agent_messages, e2.first_response_s) == (
            "silence", again, again + 23 * HOUR, 2, 1, 600.0)
        f = story.facts()
        assert (f.episodes, f.segments, f.journey) == (2, 1, "messenger:private")
        assert (f.first_response_s, f.next_responses, f.next_response_total_s) == (
            300.0, 1, 600.0)
        assert f.waiting_since == again + 23 * HOUR  # the last message waits
        assert (f.resolved_at, f.resolution_s, f.fcr) == (None, None, None)
        _same_when_recomputed(story)

    def test_notes_and_held_replies_are_not_messages(self, runtime, workspace_id):
        t0 = monday()
        story = Story.begin(runtime, workspace_id, t0)
        story.agent(t0 + MIN, kind="note", visibility="private")
        story.agent(t0 + 2 * MIN, delivery="held")
        story.customer(t0 + 3 * MIN)
        f = story.facts()
        assert (f.customer_messages, f.agent_messages, f.first_response_at) == (2, 0, None)
        assert (f.segments, f.journey) == (1, "x:public")
        _same_when_recomputed(story)


class TestBusinessHours:
    def test_a_response_over_the_weekend_counts_two_business_hours(
            self, runtime, workspace_id):
        with runtime.db.session() as session:
            session.add(SlaCalendar(workspace_id=workspace_id, name="Office", time_zone="UTC",
                                    hours={d: [["09:00", "17:00"]]
                                           for d in ("mon", "tue", "wed", "thu", "fri")},
                                    holidays=[], is_default=True))
        friday = monday() - 3 * DAY + 6 * HOUR  # Friday 16:00
        next_monday = friday + 3 * DAY - 6 * HOUR  # Monday 10:00
        story = Story.begin(runtime, workspace_id, friday, channel="email",
                            visibility="private")
        story.agent(next_monday, "email", "private")
        story.resolve(next_monday + HOUR)
        f = story.facts()
        # 66 h of wall time; business: Fri 16-17 + Mon 9-10
        assert (f.first_response_s, f.first_response_business_s) == (66 * 3600.0, 7200.0)
        # 67 h; business: Fri 16-17 + Mon 9-11
        assert (f.resolution_s, f.resolution_business_s) == (67 * 3600.0, 10800.0)
        assert friday.weekday() == 4 and next_monday.weekday() == 0
        _same_when_recomputed(story)


class TestFactsRow:
    def test_one_row_per_conversation_with_its_workspace(self, runtime, workspace_id):
        story = Story.begin(runtime, workspace_id, datetime(2026, 1, 5, 10, tzinfo=UTC))
        with runtime.db.session(write=False) as session:
            row = session.get(ConversationFacts, story.conversation_id)
            assert row is not None and row.workspace_id == workspace_id
            assert row.customer_id == story.customer_id
