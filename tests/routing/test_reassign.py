"""`routing.service.reassign(session, conv, reason=..., actor=...)`, the contract the service
levels' escalation calls: another available agent, never the same one, else the team queue;
audited with the reason."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import api_account, message_event, post_events
from tests.routing.helpers import agent, rule, team
from threadline.conversations.models import Conversation
from threadline.events.models import AuditEvent
from threadline.routing.service import ROUTED_ACTION, reassign


def one_conversation(runtime, workspace_id, client, worker):
    account = api_account(runtime, workspace_id)
    response = post_events(client, account, [message_event(
        "reassign-1", visibility="private", text="Hello, my order never arrived.")])
    assert response.status_code == 200
    worker.drain()
    with runtime.db.session(write=False) as session:
        return session.scalars(select(Conversation).where(
            Conversation.workspace_id == workspace_id)).one()


def test_reassign_gives_it_to_another_agent_then_to_the_queue(runtime, workspace_id, client,
                                                              worker):
    ana = agent(runtime, workspace_id, "Ana")
    luis = agent(runtime, workspace_id, "Luis")
    care = team(client, "Care", [ana, luis])
    rule(client, "all", care, [])
    conv = one_conversation(runtime, workspace_id, client, worker)
    first = conv.assignee_id
    assert first in (ana, luis)
    with runtime.db.session() as session:
        row = session.get(Conversation, conv.id)
        new = reassign(session, row, reason="SLA breach: first response", actor="sla:policy-1")
    assert new is not None and new != first and new in (ana, luis)
    with runtime.db.session() as session:
        row = session.get(Conversation, conv.id)
        assert row.assignee_id == new and row.routed_by == "router"
        assert row.routed_reason.startswith("SLA breach: first response: team Care")
        # the only other agent has it: reassigning again can only go to the first one...
        again = reassign(session, row, reason="SLA breach: next response")
    assert again == first
    client.put(f"/api/v1/routing/agents/{first}/presence", json={"presence": "offline"})
    with runtime.db.session() as session:
        row = session.get(Conversation, conv.id)
        current = row.assignee_id
        # ...and with nobody else available it waits in the team queue
        assert reassign(session, row, reason="SLA breach: resolution") is None
        assert row.assignee_id is None and str(row.team_id) == care
        assert row.queued_at is not None
    assert current is not None
    with runtime.db.session(write=False) as session:
        reasons = [e.data["reason"] for e in session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == str(conv.id), AuditEvent.action == ROUTED_ACTION)
            .order_by(AuditEvent.id))]
        actors = {e.actor_id for e in session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == str(conv.id), AuditEvent.action == ROUTED_ACTION))}
    assert reasons[1].startswith("SLA breach: first response")
    assert "queue: nobody available" in reasons[-1]
    assert "sla:policy-1" in actors


def test_a_manual_assignment_is_not_undone_by_the_router(runtime, workspace_id, client,
                                                         worker):
    ana = agent(runtime, workspace_id, "Ana", realtime=1)
    luis = agent(runtime, workspace_id, "Luis", presence="offline")
    care = team(client, "Care", [ana, luis])
    rule(client, "all", care, [])
    conv = one_conversation(runtime, workspace_id, client, worker)
    assert conv.assignee_id == ana
    # a supervisor gives it to Luis, who is offline: the router leaves it with him
    assert client.patch(f"/api/v1/conversations/{conv.id}",
                        json={"assignee_id": str(luis)}).status_code == 200
    worker.drain()
    account = api_account(runtime, workspace_id, name="api-2")
    post_events(client, account, [message_event("reassign-2", visibility="private",
                                                 text="Anyone there?")])
    worker.drain()
    with runtime.db.session(write=False) as session:
        row = session.get(Conversation, conv.id)
        assert row.assignee_id == luis and row.routed_by == "manual"
    routing = client.get(f"/api/v1/conversations/{conv.id}/routing").json()
    assert routing["routed_by"] == "manual"
