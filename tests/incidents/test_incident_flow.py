"""Incidents in process (the API channel's signed webhooks, the test's worker): a burst of
similar public posts becomes one suggested incident; declaring it holds its conversations out
of the queue; the approved answer goes to every post once, late posts get it automatically;
closing sends one follow-up to all and resolves what the incident held; a customer who also
wrote privately keeps his conversation. The detector's state is rebuilt from the database."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.incidents.helpers import (
    api_account,
    incidents,
    members,
    post_texts,
    supervisor_token,
)
from threadline.conversations.models import Conversation, Message
from threadline.events.models import OutboxJob
from threadline.incidents import detection
from threadline.incidents.samples import outage_posts, unrelated_posts


def api(app: Any, token: str) -> TestClient:
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def replies(runtime: Any, workspace_id: Any, phase: str) -> list[Message]:
    with runtime.db.session(write=False) as session:
        found = session.scalars(select(Message).where(
            Message.workspace_id == workspace_id, Message.direction == "outbound"))
        return [m for m in found if (m.meta or {}).get("incident", {}).get("phase") == phase]


class TestBurstToClose:
    def test_a_burst_is_one_incident_answered_once_per_post_and_closed(
            self, runtime, worker, workspace_id, app) -> None:
        account = api_account(runtime, workspace_id)
        outage = outage_posts(30, seed=3)
        other = unrelated_posts(10, seed=4)
        mixed = [t for pair in zip(outage[:10], other, strict=True) for t in pair] + outage[10:]
        post_texts(runtime, account, mixed, prefix="b")
        worker.drain()
        [incident] = incidents(runtime, workspace_id)
        assert incident.status == "suggested"
        in_it = {m.message_id for m in members(runtime, incident.id)}
        with runtime.db.session(write=False) as s:
            texts = {i: t for i, t in s.execute(select(Message.id, Message.text).where(
                Message.workspace_id == workspace_id, Message.direction == "inbound"))}
        assert {texts[m] for m in in_it} <= set(outage)
        assert len(in_it) == 30

        token, _ = supervisor_token(runtime, workspace_id)
        client = api(app, token)
        answer = client.put(f"/api/v1/incidents/{incident.id}/answer",
                            json={"text": "We know: login is down, we are on it."})
        assert answer.status_code == 200, answer.text
        assert client.post(f"/api/v1/incidents/{incident.id}/answer/approve").status_code == 200
        assert replies(runtime, workspace_id, "answer") == []  # suggested: nothing goes out
        assert client.post(f"/api/v1/incidents/{incident.id}/confirm").status_code == 200
        worker.drain()
        with runtime.db.session(write=False) as s:
            statuses = set(s.scalars(select(Conversation.status).where(
                Conversation.id.in_({m.conversation_id
                                     for m in members(runtime, incident.id)}))))
        assert statuses == {"snoozed"}, "held out of the queue"
        sent = replies(runtime, workspace_id, "answer")
        assert len(sent) == 30
        assert len({m.reply_to_provider_id for m in sent}) == 30, "one reply per post"

        # a late post joins and gets the current answer; a repeated fan-out sends nothing
        post_texts(runtime, account, outage_posts(1, seed=99), prefix="late")
        worker.drain()
        with runtime.db.session() as s:
            from threadline.events.service import enqueue
            enqueue(s, "incident.fanout", {"incident_id": str(incident.id), "phase": "answer"},
                    workspace_id=workspace_id)
        worker.drain()
        assert len(replies(runtime, workspace_id, "answer")) == 31

        closed = client.post(f"/api/v1/incidents/{incident.id}/close",
                             json={"text": "Fixed now, thanks for your patience."})
        assert closed.status_code == 200, closed.text
        worker.drain()
        follow = replies(runtime, workspace_id, "followup")
        assert len(follow) == 31
        with runtime.db.session(write=False) as s:
            statuses = set(s.scalars(select(Conversation.status).where(
                Conversation.id.in_({m.conversation_id
                                     for m in members(runtime, incident.id)}))))
        assert statuses == {"resolved"}
        detail = client.get(f"/api/v1/incidents/{incident.id}").json()
        assert detail["member_count"] == 31 and detail["status"] == "closed"
        kinds = [e["kind"] for e in detail["timeline"]]
        assert {"suggested", "declared", "answer_approved", "closed"} <= set(kinds)


class TestRestart:
    def test_the_detector_is_rebuilt_from_the_database(self, runtime, worker,
                                                       workspace_id) -> None:
        """The same posts with a restart half-way group exactly as without one."""
        from tests.conftest import workspace_service
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "No restart", "t-norestart-" +
                                                       str(workspace_id)[-8:]).id
        texts = outage_posts(14, seed=5)
        counts = []
        for ws, restart in ((other, False), (workspace_id, True)):
            account = api_account(runtime, ws)
            post_texts(runtime, account, texts[:6], prefix=f"r1{restart}")
            worker.drain()
            assert incidents(runtime, ws) == []
            if restart:
                detection.forget(ws)  # a restart: the process's state is gone
            post_texts(runtime, account, texts[6:], prefix=f"r2{restart}")
            worker.drain()
            [incident] = incidents(runtime, ws)
            counts.append(len(members(runtime, incident.id)))
        assert counts[0] == counts[1] >= 12


class TestPrivateToo:
    def test_a_customer_who_wrote_privately_keeps_his_conversation(
            self, runtime, worker, workspace_id, app) -> None:
        account = api_account(runtime, workspace_id)
        ids = post_texts(runtime, account, outage_posts(16, seed=8), prefix="p")
        worker.drain()
        [incident] = incidents(runtime, workspace_id)
        from threadline.ingest.replay import store_events
        author = "pu0"  # the first post's author writes privately too
        with runtime.db.session() as s:
            store_events(s, account, [{"id": "dm:1", "type": "message", "message": {
                "id": "dm-1", "text": "my account number is in danger?", "visibility": "private",
                "kind": "message", "thread_key": "dm-pu0",
                "created_at": "2026-12-07T09:05:00+00:00",
                "author": {"id": author, "kind": "x", "handle": author}}}])
        worker.drain()
        token, _ = supervisor_token(runtime, workspace_id)
        client = api(app, token)
        assert client.post(f"/api/v1/incidents/{incident.id}/confirm").status_code == 200
        worker.drain()
        detail = client.get(f"/api/v1/incidents/{incident.id}").json()
        with runtime.db.session(write=False) as s:
            private = s.scalar(select(Conversation).join(
                Message, Message.conversation_id == Conversation.id).where(
                Message.provider_id == "dm-1"))
            assert private is not None
            assert private.status != "snoozed", "his private conversation stays in the queue"
            counted = s.scalar(select(func.count()).select_from(OutboxJob).where(
                OutboxJob.workspace_id == workspace_id, OutboxJob.name == "incident.reply"))
        assert str(private.id) in detail["private_conversation_ids"] or \
            private.id in {m.conversation_id for m in members(runtime, incident.id)}
        assert counted == 0, "no answer approved yet: nothing sent"
        assert ids
