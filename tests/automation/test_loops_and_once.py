"""Loops are impossible by construction: the events a rule's actions cause carry the rule in
their chain, and a rule in a job's chain is never evaluated for it. And a rule fires exactly
once per event, even when the job runs again after a crash."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.automation.helpers import conversation_of, deliver, fired_audits, rule, runs_of
from tests.factories import api_account, message_event
from threadline.events.models import OutboxJob
from threadline.events.service import CONVERSATION_EVENT_JOB
from threadline.jobs.hooks import ConversationEvents, run_hooks

SNOOZE_THEN_RESOLVE = [{"type": "snooze", "minutes": 5}, {"type": "resolve_as_spam"}]


def resolve(client, conversation_id) -> None:
    response = client.patch(f"/api/v1/conversations/{conversation_id}",
                            json={"status": "resolved"})
    assert response.status_code == 200, response.text


def events_jobs(runtime, conversation_id) -> list[OutboxJob]:
    with runtime.db.session(write=False) as session:
        return [job for job in session.scalars(
            select(OutboxJob).where(OutboxJob.name == CONVERSATION_EVENT_JOB)
            .order_by(OutboxJob.id))
            if job.payload.get("conversation_id") == str(conversation_id)]


class TestLoopsAreImpossible:
    def test_a_rule_reopening_and_resolving_on_resolved_fires_once(self, runtime, workspace_id,
                                                                    client, worker):
        """"On resolved: snooze, then resolve as spam" resolves again: its own event never
        fires it again."""
        rule_id = rule(client, "conversation_resolved", SNOOZE_THEN_RESOLVE, name="self")
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("l-1", text="you won a prize"))
        conv = conversation_of(runtime, workspace_id, "l-1")
        resolve(client, conv.id)
        worker.drain()
        assert len(runs_of(runtime, rule_id)) == 1
        conv = conversation_of(runtime, workspace_id, "l-1")
        assert conv.status == "resolved" and conv.labels == ["spam"]
        chains = [job.payload["chain"] for job in events_jobs(runtime, conv.id)
                  if any(e.get("to") == "resolved" for e in job.payload["events"])]
        assert chains == [[], [rule_id]]  # the human's resolve, then the rule's
        assert all(job.status == "done" for job in events_jobs(runtime, conv.id))

    def test_two_rules_triggering_each_other_fire_once_each(self, runtime, workspace_id,
                                                           client, worker):
        """B answers A's resolve (it needs the spam label A sets), A would answer B's: each
        fires exactly once, then the chain [A, B] stops both."""
        b = rule(client, "conversation_resolved", name="B", conditions=[
            {"field": "labels", "op": "contains", "value": "spam"}],
            actions=[{"type": "snooze", "minutes": 5}, {"type": "add_label", "label": "b"},
                     {"type": "resolve_as_spam"}])
        a = rule(client, "conversation_resolved", SNOOZE_THEN_RESOLVE, name="A")
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("l-2", text="cheap followers here"))
        conv = conversation_of(runtime, workspace_id, "l-2")
        resolve(client, conv.id)
        worker.drain()
        assert len(runs_of(runtime, a)) == 1 and len(runs_of(runtime, b)) == 1
        assert [f.data["chain"] for f in fired_audits(runtime, conv.id)] == [[a], [a, b]]
        conv = conversation_of(runtime, workspace_id, "l-2")
        assert conv.status == "resolved" and sorted(conv.labels) == ["b", "spam"]

    def test_unconditional_mutual_rules_stop_after_each_chain(self, runtime, workspace_id,
                                                              client, worker):
        """Both match every resolve: each fires on the human's event and once on the other's
        (chains [A], [B], [A, B], [B, A]), and never again: four firings, then quiet."""
        a = rule(client, "conversation_resolved", SNOOZE_THEN_RESOLVE, name="A")
        b = rule(client, "conversation_resolved", SNOOZE_THEN_RESOLVE, name="B")
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("l-3", text="follow me for more"))
        conv = conversation_of(runtime, workspace_id, "l-3")
        resolve(client, conv.id)
        worker.drain()
        assert len(runs_of(runtime, a)) == 2 and len(runs_of(runtime, b)) == 2
        chains = sorted(tuple(f.data["chain"]) for f in fired_audits(runtime, conv.id))
        assert chains == sorted([(a,), (b,), (a, b), (b, a)])
        resolve(client, conv.id)  # already resolved: no change, no event, nothing fires
        worker.drain()
        assert len(fired_audits(runtime, conv.id)) == 4
        assert all(job.status == "done" for job in events_jobs(runtime, conv.id))


class TestExactlyOnce:
    def test_a_job_run_again_fires_nothing_twice(self, runtime, workspace_id, client, worker):
        rule_id = rule(client, "message_received", [{"type": "add_label", "label": "seen"}])
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("o-1", text="hello there"))
        conv = conversation_of(runtime, workspace_id, "o-1")
        [job] = [j for j in events_jobs(runtime, conv.id)
                 if any(e.get("event") == "message.received" for e in j.payload["events"])]
        assert len(runs_of(runtime, rule_id)) == 1
        batch = ConversationEvents(workspace_id=workspace_id, conversation_id=conv.id,
                                   events=list(job.payload["events"]),
                                   chain=tuple(job.payload["chain"]), job_id=job.id)
        for _ in range(2):  # the job's hooks committed, then it crashed: it runs again
            with runtime.db.session() as session:
                run_hooks(runtime, session, batch)
        worker.drain()
        assert len(runs_of(runtime, rule_id)) == 1
        assert len(fired_audits(runtime, conv.id)) == 1
        other_job = ConversationEvents(workspace_id=workspace_id, conversation_id=conv.id,
                                       events=list(job.payload["events"]), job_id=None)
        with runtime.db.session() as session:  # another job is another firing
            run_hooks(runtime, session, other_job)
        assert len(runs_of(runtime, rule_id)) == 2

    def test_a_disabled_or_deleted_rule_does_not_fire(self, runtime, workspace_id, client,
                                                      worker):
        off = rule(client, "message_received", [{"type": "add_label", "label": "off"}])
        gone = rule(client, "message_received", [{"type": "add_label", "label": "gone"}])
        assert client.put(f"/api/v1/automation/rules/{off}/active",
                          json={"active": False}).json()["active"] is False
        assert client.delete(f"/api/v1/automation/rules/{gone}").status_code == 204
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("o-2", text="hello again"))
        assert conversation_of(runtime, workspace_id, "o-2").labels == []
        assert runs_of(runtime, off) == [] and runs_of(runtime, gone) == []
        assert uuid.UUID(off)

    def test_a_stored_rule_that_no_longer_validates_fails_alone(self, runtime, workspace_id,
                                                              client, worker):
        """A rule stored before a check it now fails is recorded as failed; it never blocks
        the job (routing and service levels run in the same job) nor the other rules."""
        from threadline.automation.models import AutomationRule

        broken = rule(client, "message_received", [{"type": "add_label", "label": "x"}])
        fine = rule(client, "message_received", [{"type": "add_label", "label": "ok"}])
        with runtime.db.session() as session:
            row = session.get(AutomationRule, uuid.UUID(broken))
            assert row is not None
            row.actions = [{"type": "set_priority", "priority": 9}]
        deliver(client, worker, api_account(runtime, workspace_id),
                message_event("o-3", text="hello"))
        [run] = runs_of(runtime, broken)
        assert run.status == "failed" and (run.error or "").startswith("invalid_rule")
        assert conversation_of(runtime, workspace_id, "o-3").labels == ["ok"]
        assert runs_of(runtime, fine)[0].status == "fired"
