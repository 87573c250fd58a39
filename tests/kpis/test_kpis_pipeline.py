"""The KPIs through the whole pipe: webhooks store customer messages, agents answer and
resolve through the API, the worker runs every hook (service levels, then KPIs), and the
facts follow, equal to a recomputation; echoes, merges and splits are counted; `threadline
kpis rebuild` rebuilds them."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.factories import api_account, message_event, post_events
from tests.kpis.story import Story, new_agent
from tests.sla.helpers import conversation_of, customer_writes, policy
from threadline.db.base import utcnow
from threadline.kpis.activity import record_activity
from threadline.kpis.engine import settle
from threadline.kpis.models import ConversationEpisode, ConversationFacts, ConversationSegment
from threadline.kpis.rules import KpiRules


def _facts(runtime, conversation_id) -> ConversationFacts | None:
    with runtime.db.session(write=False) as session:
        return session.get(ConversationFacts, conversation_id)


def _story(runtime, workspace_id, conversation_id) -> Story:
    return Story(runtime, workspace_id, conversation_id=conversation_id)


class TestThroughTheWorker:
    def test_answer_resolve_and_reopen_with_service_levels(self, runtime, workspace_id,
                                                           client, worker, sandbox):
        policy(client, first_response_minutes=60, resolution_minutes=480)
        account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
        start = utcnow().replace(microsecond=0)
        customer_writes(client, worker, account, "kpi-k-1", at=start, text="my parcel is lost",
                        visibility="private", thread_key="dm-k")
        conv = conversation_of(runtime, workspace_id, "kpi-k-1")
        f = _facts(runtime, conv.id)
        assert f is not None
        assert (f.customer_messages, f.agent_messages, f.episodes, f.segments) == (1, 0, 1, 1)
        assert (f.journey, f.status, f.opened_at, f.waiting_since) == (
            "api:private", "open", start, start)
        assert f.sentiment_start == f.sentiment_end is not None  # triage's, on the message

        reply = client.post(f"/api/v1/conversations/{conv.id}/messages",
                            json={"text": "Sorry! Checking now.", "visibility": "private"})
        assert reply.status_code == 201, reply.text
        worker.drain()
        f = _facts(runtime, conv.id)
        assert (f.agent_messages, f.next_responses) == (1, 0)
        assert f.first_response_s is not None and 0 <= f.first_response_s < 120
        assert f.sla_first_response_met is True  # the SLA hook ran first, in the same job

        assert client.patch(f"/api/v1/conversations/{conv.id}",
                            json={"status": "resolved"}).status_code == 200
        worker.drain()
        f = _facts(runtime, conv.id)
        assert f.status == "resolved" and f.resolved_at is not None
        assert f.sla_resolution_met is True and f.fcr is None
        assert f.resolution_s is not None and f.resolution_s >= 0

        customer_writes(client, worker, account, "kpi-k-2", text="it arrived broken",
                        visibility="private", thread_key="dm-k")
        f = _facts(runtime, conv.id)
        assert (f.status, f.reopen_count, f.episodes, f.fcr) == ("open", 1, 2, False)
        with runtime.db.session(write=False) as session:
            reasons = list(session.scalars(select(ConversationEpisode.reason).where(
                ConversationEpisode.conversation_id == conv.id)
                .order_by(ConversationEpisode.number)))
        assert reasons == ["start", "reopen"]
        stored, rebuilt = _story(runtime, workspace_id, conv.id).incremental_and_recomputed()
        assert stored == rebuilt

    def test_an_echo_of_the_brand_counts_as_an_agent_message(self, runtime, workspace_id,
                                                             client, worker):
        account = api_account(runtime, workspace_id)
        customer_writes(client, worker, account, "kpi-e-1", text="hello?", visibility="private",
                        thread_key="dm-e")
        conv = conversation_of(runtime, workspace_id, "kpi-e-1")
        echo = message_event("kpi-e-2", author="brand", is_self=True, text="Hi! How can we help?",
                             visibility="private", thread_key="dm-e", minutes=5)
        echo["message"]["author"]["id"] = "cust-1"  # the DM thread with the customer
        assert post_events(client, account, [echo]).status_code == 200
        worker.drain()
        f = _facts(runtime, conv.id)
        assert (f.customer_messages, f.agent_messages) == (1, 1)

    def test_merge_and_split_recompute_both_conversations(self, runtime, workspace_id,
                                                          client, worker):
        account = api_account(runtime, workspace_id)
        customer_writes(client, worker, account, "kpi-m-1", author="ann", text="first")
        customer_writes(client, worker, account, "kpi-m-2", author="bob", text="second",
                        visibility="private", thread_key="dm-bob")
        a = conversation_of(runtime, workspace_id, "kpi-m-1")
        b = conversation_of(runtime, workspace_id, "kpi-m-2")
        assert a.id != b.id
        agent = new_agent(runtime, workspace_id)
        with runtime.db.session() as session:  # time spent on the one that goes away
            record_activity(session, workspace_id, agent, b.id, "focus", 30)
        merged = client.post(f"/api/v1/conversations/{a.id}/merge", json={"other_id": str(b.id)})
        assert merged.status_code == 200, merged.text
        worker.drain()
        assert _facts(runtime, b.id) is None  # merged away: its message counts in the target
        f = _facts(runtime, a.id)
        assert (f.customer_messages, f.segments, f.journey, f.channels) == (
            2, 2, "api:public>api:private", 1)
        assert f.handle_s == 30.0  # its handle time came along

        with runtime.db.session(write=False) as session:
            from threadline.conversations.models import Message
            moved = session.scalar(select(Message.id).where(Message.provider_id == "kpi-m-2",
                                                            Message.workspace_id
                                                            == workspace_id))
        split = client.post(f"/api/v1/conversations/{a.id}/split",
                            json={"message_ids": [str(moved)]})
        assert split.status_code == 201, split.text
        worker.drain()
        new_id = uuid.UUID(split.json()["id"])
        assert (_facts(runtime, a.id).customer_messages, _facts(runtime, a.id).journey) == (
            1, "api:public")
        f = _facts(runtime, new_id)
        assert f is not None and (f.customer_messages, f.journey) == (1, "api:private")


class TestRebuild:
    def test_the_command_rebuilds_every_conversation(self, runtime, workspace_id, client,
                                                     worker, cli, ws):
        account = api_account(runtime, workspace_id)
        for i in range(3):
            customer_writes(client, worker, account, f"kpi-r-{i}", author=f"r{i}", text="hi")
        convs = [conversation_of(runtime, workspace_id, f"kpi-r-{i}").id for i in range(3)]
        before = [_facts(runtime, c) for c in convs]
        with runtime.db.session() as session:  # damage: a lost segment and a wrong count
            session.query(ConversationSegment).filter(
                ConversationSegment.conversation_id == convs[0]).delete()
            session.get(ConversationFacts, convs[1]).customer_messages = 99
        out = cli("kpis", "rebuild", "--workspace", ws.slug).json()
        assert out["conversations"] == 3 and out["workspace_id"] == str(workspace_id)
        after = [_facts(runtime, c) for c in convs]
        assert [f.customer_messages for f in after] == [1, 1, 1]
        assert [f.journey for f in after] == [f.journey for f in before]
        with runtime.db.session(write=False) as session:
            assert session.query(ConversationSegment).filter(
                ConversationSegment.conversation_id == convs[0]).count() == 1

    def test_queued_rebuild_runs_in_the_worker(self, runtime, workspace_id, client, worker,
                                               cli, ws):
        account = api_account(runtime, workspace_id)
        customer_writes(client, worker, account, "kpi-q-1", author="q", text="hi")
        conv = conversation_of(runtime, workspace_id, "kpi-q-1")
        with runtime.db.session() as session:
            session.get(ConversationFacts, conv.id).agent_messages = 7
        out = cli("kpis", "rebuild", "--workspace", ws.slug, "--queue").json()
        assert out["queued"] is True
        worker.drain()
        assert _facts(runtime, conv.id).agent_messages == 0


class TestSettle:
    def test_first_contact_resolution_settles_once_the_window_has_passed(
            self, runtime, workspace_id):
        from datetime import timedelta
        t0 = utcnow() - timedelta(days=10)
        story = Story.begin(runtime, workspace_id, t0, now=t0)
        story.now = t0 + timedelta(hours=1)
        story.resolve(t0 + timedelta(hours=1))
        assert story.facts().fcr is None
        with runtime.db.session() as session:
            assert settle(session, KpiRules(), now=t0 + timedelta(days=7)) == 0  # 6 d 23 h
            assert settle(session, KpiRules(), now=t0 + timedelta(days=7, hours=2)) >= 1
        assert story.facts().fcr is True
