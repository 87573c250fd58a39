"""Automation rules fire through the whole pipe: a webhook stores a message, the worker turns it
into a conversation and its events, the AUTOMATION hook runs the rules, and what they do is
visible through the API, audited and recorded on the rule's runs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select

from tests.automation.helpers import conversation_of, deliver, fired_audits, rule, runs_of
from tests.factories import api_account, message_event
from threadline.conversations.models import Conversation, Message
from threadline.db.base import utcnow
from threadline.events.models import StreamEvent
from threadline.events.service import ConversationEvent, conversation_event
from threadline.workspace.templates import create_template

SPANISH_INVOICE = "Hola, la factura de este mes tiene un cargo que no reconozco, ¿me ayudan?"
COMPLAINT = "This is terrible service, my parcel is broken and nobody answers. Very angry!"


class TestMessageReceived:
    def test_spanish_message_with_factura_is_labelled_billing_and_p2(self, runtime,
                                                                      workspace_id, client,
                                                                      worker):
        rule_id = rule(client, "message_received", name="Spanish invoices", conditions=[
            {"field": "language", "op": "is", "value": "es"},
            {"field": "keywords", "op": "contains", "value": ["factura", "invoice"]}],
            actions=[{"type": "add_label", "label": "billing"},
                     {"type": "set_priority", "priority": 2}])
        other = rule(client, "message_received", actions=[{"type": "add_label", "label": "x"}],
                     conditions=[{"field": "language", "op": "is", "value": "fr"}])
        account = api_account(runtime, workspace_id)
        deliver(client, worker, account, message_event("es-1", author="ana",
                                                       text=SPANISH_INVOICE))
        conv = conversation_of(runtime, workspace_id, "es-1")
        assert conv.language == "es"
        detail = client.get(f"/api/v1/conversations/{conv.id}").json()
        assert "billing" in detail["labels"] and "x" not in detail["labels"]
        assert conv.priority == 2
        [run] = runs_of(runtime, rule_id)
        assert run.status == "fired" and run.event == ConversationEvent.MESSAGE_RECEIVED
        assert [r["type"] for r in run.result] == ["add_label", "set_priority"]
        assert runs_of(runtime, other) == []
        [fired] = fired_audits(runtime, conv.id)
        assert fired.data["rule"] == "Spanish invoices"
        assert fired.data["actions"] == ["add_label", "set_priority"]
        with runtime.db.session(write=False) as session:
            live = session.scalars(select(StreamEvent).where(
                StreamEvent.workspace_id == workspace_id,
                StreamEvent.name == "automation.fired")).all()
        assert [e.payload["rule_id"] for e in live] == [rule_id]

    def test_an_english_message_does_not_match(self, runtime, workspace_id, client, worker):
        rule_id = rule(client, "message_received", conditions=[
            {"field": "language", "op": "is", "value": "es"}],
            actions=[{"type": "add_label", "label": "billing"}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("en-1", text="Where is my invoice? I need it for my taxes."))
        assert runs_of(runtime, rule_id) == []
        assert conversation_of(runtime, workspace_id, "en-1").labels == []


class TestTemplateReplies:
    def test_public_complaint_gets_the_template_reply_through_the_provider(
            self, runtime, workspace_id, client, worker, sandbox):
        with runtime.db.session() as session:
            template = create_template(
                session, workspace_id, name="sorry",
                body="Hi {first_name}, we are sorry to hear that. We have sent you a DM.")
        rule_id = rule(client, "conversation_created", conditions=[
            {"field": "visibility", "op": "is", "value": "public"},
            {"field": "category", "op": "is", "value": "complaint"}],
            actions=[{"type": "send_template", "template_id": str(template.id),
                      "visibility": "public"}])
        account = api_account(runtime, workspace_id,
                              outbound_url=f"{sandbox.url}/api/outbound")
        deliver(client, worker, account, message_event("c-1", author="bob", text=COMPLAINT))
        conv = conversation_of(runtime, workspace_id, "c-1")
        assert conv.category == "complaint"
        [run] = runs_of(runtime, rule_id)
        assert run.status == "fired", run.error
        detail = client.get(f"/api/v1/conversations/{conv.id}").json()
        [out] = [m for m in detail["messages"] if m["direction"] == "outbound"]
        assert out["delivery"] == "sent" and out["author_type"] == "automation"
        assert out["text"].startswith("Hi ") and "sorry to hear" in out["text"]
        calls = httpx.get(f"{sandbox.url}/_sandbox/calls",
                          params={"provider": "api"}).json()["calls"]
        sent = [c for c in calls if c["json"] and c["json"].get("id") == out["id"]]
        assert sent and sent[0]["json"]["in_reply_to"] == "c-1"

    def test_guard_blocks_a_template_asking_for_personal_data_and_the_run_says_why(
            self, runtime, workspace_id, client, worker):
        with runtime.db.session() as session:  # saved around the guard, as an old template
            template = create_template(
                session, workspace_id, name="dob",
                body="Please reply with your date of birth so we can check.")
        blocked = rule(client, "conversation_created", actions=[
            {"type": "add_label", "label": "auto-replied"},
            {"type": "send_template", "template_id": str(template.id)}], name="ask dob")
        after = rule(client, "conversation_created",
                     actions=[{"type": "add_label", "label": "seen"}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("g-1", text="My parcel never arrived, can you check?"))
        conv = conversation_of(runtime, workspace_id, "g-1")
        [run] = runs_of(runtime, blocked)
        assert run.status == "failed" and "pii_public" in (run.error or "")
        assert run.result[-1] == {"type": "send_template", "error": "pii_public"}
        assert run.result[0]["undone"] is True
        assert conv.labels == ["seen"]  # the failed rule's label is rolled back, the next ran
        assert runs_of(runtime, after)[0].status == "fired"
        with runtime.db.session(write=False) as session:
            assert session.scalar(select(Message.id).where(
                Message.conversation_id == conv.id, Message.direction == "outbound")) is None
        audits = fired_audits(runtime, conv.id)
        assert [a.data["status"] for a in audits] == ["failed", "fired"]
        assert "pii_public" in audits[0].data["reason"]

    def test_a_draft_template_or_one_for_private_replies_is_not_sent_in_public(
            self, runtime, workspace_id, client, worker):
        with runtime.db.session() as session:
            draft = create_template(session, workspace_id, name="draft", body="Hello there",
                                    approval="draft")
            private = create_template(session, workspace_id, name="dm only",
                                      body="Hello in private", visibilities=["private"])
        first = rule(client, "conversation_created",
                     [{"type": "send_template", "template_id": str(draft.id)}])
        second = rule(client, "conversation_created",
                      [{"type": "send_template", "template_id": str(private.id)}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("t-1", text="Do you ship to Norway?"))
        assert runs_of(runtime, first)[0].result[-1]["error"] == "template_not_approved"
        assert runs_of(runtime, second)[0].result[-1]["error"] == "template_visibility"
        conv = conversation_of(runtime, workspace_id, "t-1")
        detail = client.get(f"/api/v1/conversations/{conv.id}").json()
        assert [m for m in detail["messages"] if m["direction"] == "outbound"] == []


class TestStatusActions:
    def test_snooze(self, runtime, workspace_id, client, worker):
        rule(client, "conversation_created", actions=[{"type": "snooze", "minutes": 90}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("s-1", text="thanks, talk later"))
        conv = conversation_of(runtime, workspace_id, "s-1")
        assert conv.status == "snoozed" and conv.snoozed_until is not None
        assert abs(conv.snoozed_until - (utcnow() + timedelta(minutes=90))) \
            < timedelta(minutes=2)

    def test_resolve_as_spam(self, runtime, workspace_id, client, worker):
        rule(client, "message_received", conditions=[
            {"field": "keywords", "op": "contains", "value": "crypto giveaway"}],
            actions=[{"type": "resolve_as_spam"}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("sp-1", text="Free CRYPTO giveaway, click now"))
        conv = conversation_of(runtime, workspace_id, "sp-1")
        assert conv.status == "resolved" and conv.labels == ["spam"]

    def test_sla_breach_raises_priority_and_assigns_the_team(self, runtime, workspace_id,
                                                            client, worker):
        from threadline.workspace.models import Team

        with runtime.db.session() as session:
            team = Team(workspace_id=workspace_id, name=f"Escalations {uuid.uuid4().hex[:4]}")
            session.add(team)
            session.flush()
            team_id = team.id
        rule_id = rule(client, "sla_breach", conditions=[
            {"field": "priority", "op": "lte", "value": 2}],  # P2 or less urgent
            actions=[{"type": "set_priority", "priority": 1},
                     {"type": "assign_team", "team_id": str(team_id)}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("b-1", text="Hello? Anyone there?"))
        conv = conversation_of(runtime, workspace_id, "b-1")
        with runtime.db.session() as session:
            row = session.get(Conversation, conv.id)
            assert row is not None
            row.priority = 3
            conversation_event(session, workspace_id, conv.id, ConversationEvent.SLA_BREACH,
                               clock="first_response")
        worker.drain()
        conv = conversation_of(runtime, workspace_id, "b-1")
        assert conv.priority == 1 and conv.team_id == team_id
        [run] = runs_of(runtime, rule_id)
        assert run.event == ConversationEvent.SLA_BREACH
        with runtime.db.session() as session:  # a warning is another trigger
            conversation_event(session, workspace_id, conv.id, ConversationEvent.SLA_WARNING,
                               clock="first_response")
        worker.drain()
        assert len(runs_of(runtime, rule_id)) == 1


class TestAssignment:
    def test_assign_agent_and_a_name_that_is_html_stays_text(self, runtime, workspace_id,
                                                             client, worker, admin_desk):
        rule_id = rule(client, "conversation_created", name="<script>alert(1)</script>",
                       actions=[{"type": "assign_agent",
                                 "agent_id": str(admin_desk.agent.id)}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("a-1", text="Can someone call me back?"))
        conv = conversation_of(runtime, workspace_id, "a-1")
        assert conv.assignee_id == admin_desk.agent.id
        [run] = runs_of(runtime, rule_id)
        assert run.status == "fired"
        page = admin_desk.get("/settings/automation").text
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
        runs = client.get(f"/api/v1/automation/rules/{rule_id}/runs").json()["runs"]
        assert runs[0]["result"] == [{"type": "assign_agent"}]
