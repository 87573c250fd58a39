"""Warnings and breaches: the scanner fires each exactly once per clock target (run twice,
and in two processes at once), with the policy's escalations: the live event for the
assignee and supervisors, the priority raised one step toward P1, the conversation
re-assigned (the reason says why), the supervisors emailed through SMTP; automation rules
listen to the events."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from tests.automation.helpers import rule, runs_of
from tests.factories import api_account
from tests.mailservers import smtp_server
from tests.sla.helpers import (
    audits,
    clock_of,
    conversation_of,
    customer_writes,
    live,
    outcomes_of,
    policy,
)
from threadline.db.base import utcnow
from threadline.events.models import OutboxJob
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.sla.engine import EMAIL_JOB, SCAN_JOB, scan
from threadline.workspace.service import create_agent

ROOT = Path(__file__).resolve().parents[2]


def _late_conversation(runtime, workspace_id, client, worker, pid: str, *,
                       minutes_ago: int = 90, **policy_fields):
    policy(client, first_response_minutes=60, **policy_fields)
    account = api_account(runtime, workspace_id)
    customer_writes(client, worker, account, pid, at=utcnow() - timedelta(minutes=minutes_ago),
                    text="where is my refund?")
    return conversation_of(runtime, workspace_id, pid)


class TestExactlyOnce:
    def test_a_breach_fires_one_escalation_however_often_the_scanner_runs(
            self, runtime, workspace_id, client, worker):
        conv = _late_conversation(runtime, workspace_id, client, worker, "b-1")
        assert clock_of(runtime, conv.id).response_due_at < utcnow()
        scan(runtime)
        scan(runtime)
        scan(runtime, now=utcnow() + timedelta(minutes=5))
        assert len(audits(runtime, conv.id, "sla.breached")) == 1
        [event] = [e for e in live(runtime, workspace_id, "sla.breach")
                   if e.payload["conversation_id"] == str(conv.id)]
        assert event.payload["target"] == "first_response"
        [outcome] = outcomes_of(runtime, conv.id)
        assert (outcome.target, outcome.status) == ("first_response", "breached")
        clock = clock_of(runtime, conv.id)
        assert clock.response_breached_at is not None and clock.next_check_at is None

    def test_two_processes_scanning_at_once_fire_one_escalation(
            self, runtime, workspace_id, client, worker, settings):
        conv = _late_conversation(runtime, workspace_id, client, worker, "b-2")
        start = time.time() + 2.0
        script = ("import sys, time; from threadline.handlers import install; install();"
                  "from threadline.config import Settings; from threadline.jobs.runtime "
                  "import Runtime; from threadline.sla.engine import scan;"
                  "rt = Runtime.create(Settings(), redis_url='');"
                  "time.sleep(max(0.0, float(sys.argv[1]) - time.time()));"
                  "print(scan(rt)['breaches'])")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
               "THREADLINE_DATABASE_URL": settings.database_url,
               "THREADLINE_SECRET_KEY": settings.secret_key or "",
               "THREADLINE_DATA_DIR": str(settings.data_dir)}
        procs = [subprocess.Popen([sys.executable, "-c", script, str(start)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        results = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [r[1][-2000:] for r in results]
        assert len(audits(runtime, conv.id, "sla.breached")) == 1
        assert len([e for e in live(runtime, workspace_id, "sla.breach")
                    if e.payload["conversation_id"] == str(conv.id)]) == 1
        assert len(outcomes_of(runtime, conv.id)) == 1

    def test_a_warning_comes_once_before_the_breach(self, runtime, workspace_id, client,
                                                    worker):
        conv = _late_conversation(runtime, workspace_id, client, worker, "warn-1",
                                  minutes_ago=50, warn_percent=80)
        clock = clock_of(runtime, conv.id)
        assert clock.response_warn_at < utcnow() < clock.response_due_at
        scan(runtime)
        scan(runtime)
        assert len(audits(runtime, conv.id, "sla.warning")) == 1
        assert audits(runtime, conv.id, "sla.breached") == []
        scan(runtime, now=utcnow() + timedelta(minutes=15))
        assert len(audits(runtime, conv.id, "sla.warning")) == 1
        assert len(audits(runtime, conv.id, "sla.breached")) == 1

    def test_a_new_customer_message_after_an_answer_is_a_new_clock_target(
            self, runtime, workspace_id, client, worker, sandbox):
        policy(client, first_response_minutes=60, next_response_minutes=10)
        account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
        customer_writes(client, worker, account, "nx-1", at=utcnow() - timedelta(hours=2))
        conv = conversation_of(runtime, workspace_id, "nx-1")
        scan(runtime)
        client.post(f"/api/v1/conversations/{conv.id}/messages",
                    json={"text": "On it", "visibility": "public"})
        worker.drain()
        customer_writes(client, worker, account, "nx-2", in_reply_to="nx-1")
        scan(runtime, now=utcnow() + timedelta(minutes=11))
        scan(runtime, now=utcnow() + timedelta(minutes=12))
        targets = [(o.target, o.cycle, o.status) for o in outcomes_of(runtime, conv.id)]
        assert targets == [("first_response", 1, "breached"), ("next_response", 2, "breached")]
        assert len(audits(runtime, conv.id, "sla.breached")) == 2


class TestEscalations:
    def test_raise_priority_reassign_and_email_the_supervisors(
            self, runtime, workspace_id, client, worker, settings):
        with runtime.db.session() as session:
            ana, _ = create_agent(session, workspace_id, email="ana@example.com", role="agent",
                                  name="Ana")
            boss, _ = create_agent(session, workspace_id, email="boss@example.com",
                                   role="supervisor", name="Boss")
            # the periodic scan (pending from earlier tests) must not find the breach first,
            # in a drain of the runtime with no mail server: this test's scans do
            session.execute(update(OutboxJob).where(
                OutboxJob.name == SCAN_JOB, OutboxJob.status == "pending").values(
                due_at=utcnow() + timedelta(hours=1)))
        conv = _late_conversation(runtime, workspace_id, client, worker, "e-1",
                                  escalation=["notify", "raise_priority", "reassign",
                                              "email_supervisors"])
        patch = client.patch(f"/api/v1/conversations/{conv.id}",
                             json={"priority": 3, "assignee_id": str(ana.id)})
        assert patch.status_code == 200, patch.text
        worker.drain()
        with smtp_server(auth_required=False) as smtp:
            mail_settings = settings.model_copy(update={
                "notify_smtp_host": smtp.host, "notify_smtp_port": smtp.port,
                "notify_smtp_from": "threadline@acme-support.com",
                "public_url": "https://desk.acme-support.com"})
            mail_runtime = Runtime.create(mail_settings, database_url=settings.database_url,
                                          redis_url="")
            try:
                scan(mail_runtime)
                Worker(mail_runtime, name="mail").drain()  # the email and the new events
                scan(mail_runtime, now=utcnow() + timedelta(minutes=1))
                Worker(mail_runtime, name="mail").drain()
            finally:
                mail_runtime.close()
            [mail] = smtp.messages
        after = conversation_of(runtime, workspace_id, "e-1")
        assert after.priority == 2 and after.assignee_id is None
        # routing.service.reassign took it from Ana; no team and nobody else: it waits, and
        # the conversation says why
        assert "service level breached" in (after.routed_reason or "")
        [breach] = audits(runtime, conv.id, "sla.breached")
        assert breach.data["actions"] == ["notify", "raise_priority", "reassign",
                                          "email_supervisors"]
        [event] = [e for e in live(runtime, workspace_id, "sla.breach")
                   if e.payload["conversation_id"] == str(conv.id)]
        assert event.payload["assignee_id"] == str(ana.id)  # who is told, before re-assigning
        assert mail.rcpt_tos == [boss.email]
        assert "first response" in mail.parsed["Subject"]
        assert f"https://desk.acme-support.com/conversations/{conv.id}" in mail.parsed.get_content()
        assert "refund" not in mail.data.decode()  # no customer text in the email
        with runtime.db.session(write=False) as session:
            jobs = session.scalars(select(OutboxJob).where(OutboxJob.name == EMAIL_JOB)).all()
        assert len([j for j in jobs if j.payload["conversation_id"] == str(conv.id)]) == 1

    def test_automation_rules_hear_the_breach_once(self, runtime, workspace_id, client, worker):
        rule_id = rule(client, "sla_breach", [{"type": "add_label", "label": "late"}])
        conv = _late_conversation(runtime, workspace_id, client, worker, "a-1")
        scan(runtime)
        worker.drain()
        scan(runtime)
        worker.drain()
        assert "late" in conversation_of(runtime, workspace_id, "a-1").labels
        assert len(runs_of(runtime, rule_id)) == 1
        assert conv.id == conversation_of(runtime, workspace_id, "a-1").id


def test_a_conversation_merged_away_never_breaches(runtime, workspace_id, client, worker):
    from threadline.conversations.models import Conversation
    from threadline.conversations.service import SYSTEM, merge_conversations

    policy(client, first_response_minutes=60)
    account = api_account(runtime, workspace_id)
    customer_writes(client, worker, account, "m-1", author="ann", text="first")
    customer_writes(client, worker, account, "m-2", author="bob", text="second")
    source = conversation_of(runtime, workspace_id, "m-1")
    target = conversation_of(runtime, workspace_id, "m-2")
    with runtime.db.session() as session:
        merge_conversations(session, session.get(Conversation, source.id),
                            session.get(Conversation, target.id), SYSTEM)
    scan(runtime, now=utcnow() + timedelta(hours=3))
    assert audits(runtime, source.id, "sla.breached") == []
    assert clock_of(runtime, source.id).next_check_at is None


def test_attainment_for_the_kpis(runtime, workspace_id, client, worker, sandbox, app):
    from fastapi.testclient import TestClient

    from tests.conftest import make_token

    policy(client, first_response_minutes=60)
    account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
    customer_writes(client, worker, account, "k-1", author="kate")
    customer_writes(client, worker, account, "k-2", author="ken",
                    at=utcnow() - timedelta(hours=2))
    scan(runtime)
    for pid in ("k-1", "k-2"):
        conv = conversation_of(runtime, workspace_id, pid)
        client.post(f"/api/v1/conversations/{conv.id}/messages",
                    json={"text": "Here to help", "visibility": "public"})
    worker.drain()
    body = client.get("/api/v1/sla/attainment?days=7").json()
    first = next(t for t in body["targets"] if t["target"] == "first_response")
    assert (first["met"], first["breached"], first["rate"]) == (1, 1, 0.5)
    assert client.get("/api/v1/sla/attainment?days=0").status_code == 422
    with TestClient(app) as agent:
        agent.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, 'agent')}"
        assert agent.get("/api/v1/sla/attainment").status_code == 403
