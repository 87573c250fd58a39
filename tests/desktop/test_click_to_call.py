"""Click-to-call from a conversation (issue 15): the agent's own phone is stored encrypted;
the call rings it first and bridges the customer from the brand's number, through the outbox,
with the call record in the timeline; every refusal is typed and stores nothing; after the
call ended the conversation suggests inviting the customer to follow the brand."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text

from tests.desktop.conftest import desk_for
from tests.desktop.phone_helpers import (
    FROM_NUMBER,
    customer_with_phone,
    give_phone,
    twilio_calls,
    voice_account,
)
from threadline.contacts.service import record_consent, revoke_consent
from threadline.conversations.models import Message
from threadline.events.models import AuditEvent, OutboxJob
from threadline.hops.flow.phone import CALL_JOB, place_call
from threadline.jobs.registry import Job
from threadline.sandbox.providers import twilio as stw
from threadline.workspace import service as workspace_service
from threadline.workspace.models import Agent
from threadline.workspace.service import create_channel_account

AGENT_PHONE = "+442079460123"


def _calls_of(runtime, conversation_id: str) -> list[Message]:
    with runtime.db.session(write=False) as s:
        return list(s.scalars(select(Message).where(
            Message.conversation_id == uuid.UUID(conversation_id), Message.kind == "call")))


def _jobs(runtime, workspace_id) -> int:
    with runtime.db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(OutboxJob).where(
            OutboxJob.name == CALL_JOB, OutboxJob.workspace_id == workspace_id)) or 0)


class TestTheAgentsPhone:
    def test_saved_encrypted_and_audited(self, runtime, workspace_id, app):
        desk = desk_for(app, runtime, workspace_id, "agent")
        answer = desk.post("/account/phone", {"phone": "+44 20 7946 0123"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/account?notice=phone-saved"
        with runtime.db.session(write=False) as s:
            agent = s.get(Agent, desk.agent.id)
            assert agent is not None and agent.phone == {"number": AGENT_PHONE}
            raw = s.execute(text("SELECT phone FROM agents WHERE id = :id"),
                            {"id": desk.agent.id.hex}).scalar()
            if raw is None:  # PostgreSQL stores the uuid natively
                raw = s.execute(text("SELECT phone FROM agents WHERE id = :id"),
                                {"id": str(desk.agent.id)}).scalar()
            assert raw and "79460123" not in raw and "+44" not in raw
            assert s.scalar(select(AuditEvent.id).where(
                AuditEvent.action == "agent.phone_set",
                AuditEvent.subject_id == str(desk.agent.id))) is not None
        assert "+442079460123" in desk.get("/account").text

    def test_hostile_input_is_refused_and_nothing_stored(self, runtime, workspace_id, app):
        desk = desk_for(app, runtime, workspace_id, "agent")
        assert desk.post("/account/phone", {"phone": AGENT_PHONE}, csrf=False).status_code == 403
        for bad in ("not a number", "+1" + "5" * 60, "<script>alert(1)</script>", "+0"):
            answer = desk.post("/account/phone", {"phone": bad})
            assert answer.status_code == 422, bad
            assert "<script>alert" not in answer.text
        with runtime.db.session(write=False) as s:
            agent = s.get(Agent, desk.agent.id)
            assert agent is not None and agent.phone is None

    def test_an_empty_value_removes_it(self, runtime, workspace_id, app):
        desk = desk_for(app, runtime, workspace_id, "agent")
        give_phone(runtime, desk.agent.id, AGENT_PHONE)
        answer = desk.post("/account/phone", {"phone": ""})
        assert answer.headers["location"] == "/account?notice=phone-removed"
        with runtime.db.session(write=False) as s:
            agent = s.get(Agent, desk.agent.id)
            assert agent is not None and agent.phone is None


class TestClickToCall:
    def test_rings_the_agent_then_bridges_the_customer(self, runtime, workspace_id, client,
                                                       worker, sandbox, app):
        setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
        desk = desk_for(app, runtime, workspace_id, "agent", "Cal Caller")
        give_phone(runtime, desk.agent.id, AGENT_PHONE)
        card = desk.get(f"/conversations/{setup.conversation_id}/phone").text
        assert 'data-role="click-to-call"' in card and "+•••• 0123" in card
        assert setup.customer_phone not in card  # masked

        answer = desk.post(f"/conversations/{setup.conversation_id}/call", htmx=True)
        assert answer.status_code == 200 and 'data-role="call-notice"' in answer.text
        [record] = _calls_of(runtime, setup.conversation_id)
        assert record.direction == "outbound" and record.provider_id is None
        assert record.meta["call_status"] == "requested"
        assert record.author_agent_id == desk.agent.id
        assert _jobs(runtime, workspace_id) == 1
        with runtime.db.session(write=False) as s:
            assert s.scalar(select(AuditEvent.id).where(
                AuditEvent.action == "call.click_to_call",
                AuditEvent.subject_id == setup.conversation_id)) is not None

        worker.drain()
        [placed] = [c for c in twilio_calls(sandbox.url, "/Calls.json")
                    if c["form"].get("To") == AGENT_PHONE
                    and setup.customer_phone in c["form"].get("Twiml", "")]
        twiml = placed["form"]["Twiml"]
        assert f'callerId="{FROM_NUMBER}"' in twiml
        assert f"<Number>{setup.customer_phone}</Number>" in twiml
        assert placed["form"]["From"] == FROM_NUMBER
        [record] = _calls_of(runtime, setup.conversation_id)
        assert record.provider_id and record.provider_id.startswith("CA")
        assert record.meta["call_status"] == "queued"

        # A repeat of the job (a retry, a second worker) dials nothing more.
        before = len(twilio_calls(sandbox.url, "/Calls.json"))
        place_call(runtime, Job(id=0, name=CALL_JOB, payload={"message_id": str(record.id)},
                                attempts=2, workspace_id=workspace_id))
        assert len(twilio_calls(sandbox.url, "/Calls.json")) == before

        # Twilio's status callbacks find the record by its CallSid.
        hook = stw.call_webhook(str(setup.voice_id), setup.config, setup.customer_phone,
                                call_sid=record.provider_id, status="completed", duration=95,
                                direction="outbound-api", base_url="http://testserver")
        assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
        worker.drain()
        [record] = _calls_of(runtime, setup.conversation_id)
        assert record.delivery == "delivered" and "1 min 35 s" in record.text
        page = desk.get(f"/conversations/{setup.conversation_id}").text
        assert f'id="msg-{record.id}"' in page and 'id="phone-card"' in page

    def test_a_job_that_finds_the_call_placing_never_dials_again(
            self, runtime, workspace_id, client, worker, sandbox, app):
        setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
        desk = desk_for(app, runtime, workspace_id, "agent")
        give_phone(runtime, desk.agent.id, AGENT_PHONE)
        assert desk.post(f"/conversations/{setup.conversation_id}/call").status_code == 200
        [record] = _calls_of(runtime, setup.conversation_id)
        with runtime.db.session() as s:  # a crash after `placing` was committed
            row = s.get(Message, record.id)
            assert row is not None
            row.meta = {**row.meta, "call_status": "placing"}
        before = len(twilio_calls(sandbox.url, "/Calls.json"))
        worker.drain()
        assert len(twilio_calls(sandbox.url, "/Calls.json")) == before
        [record] = _calls_of(runtime, setup.conversation_id)
        assert record.meta["call_status"] == "unknown" and record.delivery == "failed"


class TestRefusals:
    def _refused(self, desk, runtime, workspace_id, conv_id: str, code: str,
                 status: int = 422) -> None:
        answer = desk.post(f"/conversations/{conv_id}/call", htmx=True)
        assert answer.status_code == status, answer.text
        assert f'data-code="{code}"' in answer.text
        assert _calls_of(runtime, conv_id) == []
        assert _jobs(runtime, workspace_id) == 0

    def test_without_the_agents_phone(self, runtime, workspace_id, client, worker, sandbox,
                                      app):
        setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
        desk = desk_for(app, runtime, workspace_id, "agent")
        self._refused(desk, runtime, workspace_id, setup.conversation_id, "no_agent_phone")

    def test_without_the_customers_phone(self, runtime, workspace_id, client, worker,
                                         sandbox, app):
        from tests.factories import only_api_conversation

        conv = only_api_conversation(runtime, workspace_id, client, worker, "no number")
        voice_account(runtime, workspace_id, sandbox.url)
        desk = desk_for(app, runtime, workspace_id, "agent")
        give_phone(runtime, desk.agent.id, AGENT_PHONE)
        assert 'data-role="no-customer-phone"' in desk.get(
            f"/conversations/{conv['id']}/phone").text
        self._refused(desk, runtime, workspace_id, conv["id"], "no_customer_phone")

    def test_after_the_customer_withdrew_his_consent(self, runtime, workspace_id, client,
                                                     worker, sandbox, app):
        setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
        with runtime.db.session() as s:
            consent = record_consent(s, workspace_id, setup.customer_id, kind="phone",
                                     address=setup.customer_phone, purpose="callback",
                                     method="verbal", wording="You may call me")
            revoke_consent(s, consent)
        desk = desk_for(app, runtime, workspace_id, "agent")
        give_phone(runtime, desk.agent.id, AGENT_PHONE)
        self._refused(desk, runtime, workspace_id, setup.conversation_id, "consent_revoked")

    def test_without_a_phone_account(self, runtime, workspace_id, client, worker, app):
        setup = customer_with_phone(runtime, workspace_id, client, worker, None)
        desk = desk_for(app, runtime, workspace_id, "agent")
        give_phone(runtime, desk.agent.id, AGENT_PHONE)
        self._refused(desk, runtime, workspace_id, setup.conversation_id, "no_voice_account")

    def test_another_workspaces_conversation_and_forgeries(self, runtime, workspace_id,
                                                           client, worker, sandbox, app):
        setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}")
            other_id = other.id
        voice_account(runtime, other_id, sandbox.url)
        stranger = desk_for(app, runtime, other_id, "agent")
        give_phone(runtime, stranger.agent.id, AGENT_PHONE)
        for path in (f"/conversations/{setup.conversation_id}/call",
                     f"/conversations/{uuid.uuid4()}/call"):
            assert stranger.post(path).status_code == 404
        assert stranger.get(f"/conversations/{setup.conversation_id}/phone").status_code == 404
        assert stranger.post("/conversations/not-a-uuid/call").status_code == 422
        desk = desk_for(app, runtime, workspace_id, "agent")
        give_phone(runtime, desk.agent.id, AGENT_PHONE)
        assert desk.post(f"/conversations/{setup.conversation_id}/call",
                         csrf=False).status_code == 403
        assert _calls_of(runtime, setup.conversation_id) == []
        assert _jobs(runtime, workspace_id) == 0


class TestFollowInvitation:
    def test_after_a_call_the_customer_is_invited_where_he_is(self, runtime, workspace_id,
                                                              client, worker, sandbox, app):
        setup = customer_with_phone(runtime, workspace_id, client, worker, sandbox.url)
        desk = desk_for(app, runtime, workspace_id, "agent")
        url = f"/conversations/{setup.conversation_id}/phone"
        with runtime.db.session() as s:  # the brand is on X (the customer wrote there)
            create_channel_account(s, workspace_id, kind="x", name="@acme",
                                   config={"bearer_token": "x"})
        assert 'data-role="follow-hint"' not in desk.get(url).text  # no call yet
        hook = stw.call_webhook(str(setup.voice_id), setup.config, setup.customer_phone,
                                status="ringing", base_url="http://testserver")
        assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
        worker.drain()
        assert 'data-role="follow-hint"' not in desk.get(url).text  # still ringing
        sid = hook.body.decode().split("CallSid=")[1].split("&")[0]
        done = stw.call_webhook(str(setup.voice_id), setup.config, setup.customer_phone,
                                call_sid=sid, status="completed", duration=40,
                                base_url="http://testserver")
        assert client.post(done.path, content=done.body, headers=done.headers).status_code == 200
        worker.drain()
        with runtime.db.session(write=False) as s:
            conv_id = s.scalar(select(Message.conversation_id).where(
                Message.provider_id == sid))
        card = desk.get(f"/conversations/{conv_id}/phone").text
        assert 'data-role="follow-hint" data-network="x"' in card
        assert "Follow us on X (@acme)" in card
        assert 'data-network="instagram"' not in card  # no identity, no account there
