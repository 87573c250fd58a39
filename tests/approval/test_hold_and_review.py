"""A held public reply never reaches the provider; approving sends it exactly once (edited
if the supervisor edited it); rejecting sends nothing ever and its author sees the reason.
Through HTTP, the real worker and the provider sandbox's record of what it received."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from tests.approval.helpers import (
    as_,
    pending,
    person,
    public_conversation,
    reply,
    sandbox_calls,
    set_policy,
)
from threadline.events.models import AuditEvent, OutboxJob, StreamEvent
from threadline.events.service import CONVERSATION_EVENT_JOB


def _marker() -> str:
    return f"m{uuid.uuid4().hex[:8]}"


def _replied_events(runtime, conv_id) -> int:
    with runtime.db.session(write=False) as session:
        jobs = session.scalars(select(OutboxJob).where(
            OutboxJob.name == CONVERSATION_EVENT_JOB,
            OutboxJob.payload["conversation_id"].as_string() == str(conv_id))).all()
    return sum(1 for j in jobs for e in j.payload["events"] if e["event"] == "message.replied")


class TestHeld:
    def test_a_training_agents_public_reply_is_held_and_nothing_reaches_the_provider(
            self, runtime, workspace_id, client, worker, sandbox):
        set_policy(client, in_training=True)
        trainee = person(runtime, workspace_id, "agent", in_training=True)
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        marker = _marker()
        response = reply(client, trainee, conv.id, f"We open at 10 on Sundays {marker}")
        assert response.status_code == 201, response.text
        message = response.json()
        assert message["delivery"] == "held"
        worker.drain()
        assert sandbox_calls(sandbox, marker) == []
        assert _replied_events(runtime, conv.id) == 0
        detail = client.get(f"/api/v1/conversations/{conv.id}",
                            headers=as_(client, trainee)).json()
        assert detail["status"] == "open"  # not answered yet
        [held] = [m for m in detail["messages"] if m["id"] == message["id"]]
        assert held["delivery"] == "held"
        [queued] = pending(client)
        assert queued["message_id"] == message["id"] and queued["held_for"] == ["in_training"]
        assert queued["author_agent_id"] == str(trainee.id)
        with runtime.db.session(write=False) as session:
            live = session.scalars(select(StreamEvent).where(
                StreamEvent.workspace_id == workspace_id,
                StreamEvent.name == "approval.changed")).all()
            assert [e.payload["state"] for e in live] == ["pending"]
            assert session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "reply.held",
                AuditEvent.subject_id == message["id"])) == 1

    def test_a_trained_agents_reply_and_private_replies_go_out(self, runtime, workspace_id,
                                                               client, worker, sandbox):
        set_policy(client, in_training=True)
        agent = person(runtime, workspace_id, "agent")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        marker = _marker()
        assert reply(client, agent, conv.id, f"Open at 10 {marker}").json()["delivery"] \
            == "pending"
        worker.drain()
        assert len(sandbox_calls(sandbox, marker)) == 1
        assert pending(client) == []


class TestApprove:
    def test_approve_as_is_sends_exactly_once(self, runtime, workspace_id, client, worker,
                                              sandbox):
        set_policy(client, all=True)
        agent = person(runtime, workspace_id, "agent")
        boss = person(runtime, workspace_id, "supervisor")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        marker = _marker()
        message = reply(client, agent, conv.id, f"We open at ten {marker}").json()
        [queued] = pending(client)
        response = client.post(f"/api/v1/approvals/{queued['id']}/approve",
                               headers=as_(client, boss))
        assert response.status_code == 200, response.text
        out = response.json()
        assert out["state"] == "approved" and out["reviewer_id"] == str(boss.id)
        assert out["edited_text"] is None
        worker.drain()
        [call] = sandbox_calls(sandbox, marker)
        assert call["json"]["id"] == message["id"]
        assert _replied_events(runtime, conv.id) == 1
        again = client.post(f"/api/v1/approvals/{queued['id']}/approve",
                            headers=as_(client, boss))
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"
        worker.drain()
        assert len(sandbox_calls(sandbox, marker)) == 1
        detail = client.get(f"/api/v1/conversations/{conv.id}").json()
        [sent] = [m for m in detail["messages"] if m["id"] == message["id"]]
        assert sent["delivery"] == "sent"
        assert detail["status"] == "pending"  # answered, waiting on the customer

    def test_edit_and_approve_sends_the_edited_text(self, runtime, workspace_id, client,
                                                   worker, sandbox):
        set_policy(client, all=True)
        agent = person(runtime, workspace_id, "agent")
        boss = person(runtime, workspace_id, "supervisor")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        first, second = _marker(), _marker()
        reply(client, agent, conv.id, f"we open at 10 i think {first}")
        [queued] = pending(client)
        response = client.post(f"/api/v1/approvals/{queued['id']}/approve",
                               headers=as_(client, boss),
                               json={"text": f"We open at 10:00 on Sundays. {second}"})
        assert response.status_code == 200, response.text
        assert response.json()["edited_text"].endswith(second)
        assert response.json()["text"].endswith(first)  # the original stays on the review
        worker.drain()
        assert sandbox_calls(sandbox, first) == []
        [call] = sandbox_calls(sandbox, second)
        assert call["json"]["text"] == f"We open at 10:00 on Sundays. {second}"

    def test_an_edit_with_personal_data_is_refused_and_nothing_changes(
            self, runtime, workspace_id, client, worker, sandbox):
        set_policy(client, all=True)
        agent = person(runtime, workspace_id, "agent")
        boss = person(runtime, workspace_id, "supervisor")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        marker = _marker()
        reply(client, agent, conv.id, f"Happy to help {marker}")
        [queued] = pending(client)
        response = client.post(f"/api/v1/approvals/{queued['id']}/approve",
                               headers=as_(client, boss),
                               json={"text": "Please post your date of birth and home address"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "pii_public"
        [still] = pending(client)
        assert still["state"] == "pending" and still["edited_text"] is None
        worker.drain()
        assert sandbox_calls(sandbox, marker) == []


class TestReject:
    def test_rejected_reply_is_never_sent_and_its_author_sees_the_reason(
            self, runtime, workspace_id, client, worker, sandbox):
        set_policy(client, all=True)
        agent = person(runtime, workspace_id, "agent")
        boss = person(runtime, workspace_id, "supervisor")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        marker = _marker()
        message = reply(client, agent, conv.id, f"lol no {marker}").json()
        [queued] = pending(client)
        response = client.post(f"/api/v1/approvals/{queued['id']}/reject",
                               headers=as_(client, boss),
                               json={"reason": "Too casual: apologise and offer a DM"})
        assert response.status_code == 200, response.text
        worker.drain()
        assert sandbox_calls(sandbox, marker) == []
        mine = client.get(f"/api/v1/approvals/{queued['id']}", headers=as_(client, agent))
        assert mine.status_code == 200
        assert mine.json()["reason"] == "Too casual: apologise and offer a DM"
        detail = client.get(f"/api/v1/conversations/{conv.id}",
                            headers=as_(client, agent)).json()
        [row] = [m for m in detail["messages"] if m["id"] == message["id"]]
        assert row["delivery"] == "rejected" and "apologise" in row["delivery_error"]
        late = client.post(f"/api/v1/approvals/{queued['id']}/approve",
                           headers=as_(client, boss))
        assert late.status_code == 409
        worker.drain()
        assert sandbox_calls(sandbox, marker) == []
        assert _replied_events(runtime, conv.id) == 0
        with runtime.db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "reply.rejected",
                AuditEvent.subject_id == message["id"])) == 1

    def test_a_reason_is_required(self, runtime, workspace_id, client, worker, sandbox):
        set_policy(client, all=True)
        agent = person(runtime, workspace_id, "agent")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        reply(client, agent, conv.id, "Hello")
        [queued] = pending(client)
        for body in ({"reason": ""}, {"reason": "x" * 501}, {}):
            response = client.post(f"/api/v1/approvals/{queued['id']}/reject", json=body)
            assert response.status_code == 422
        assert pending(client)[0]["state"] == "pending"
