"""Clocks through the whole pipe: a webhook stores a customer's message, the worker runs the
SERVICE_LEVELS hook, and the conversation's clock, `sla_due_at` and attainment follow the
agent's answers, the customer's messages, snoozing and waiting on the customer."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import api_account
from tests.sla.helpers import (
    clock_of,
    conversation_of,
    customer_writes,
    outcomes_of,
    policy,
)
from threadline.db.base import utcnow


def _close(a, b, seconds: float = 2.0) -> bool:
    return a is not None and b is not None and abs((a - b).total_seconds()) <= seconds


class TestResponses:
    def test_first_response_then_next_response_on_every_waiting_customer_message(
            self, runtime, workspace_id, client, worker, sandbox):
        policy(client, priorities=[], first_response_minutes=60, next_response_minutes=30,
               resolution_minutes=480)
        account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
        start = utcnow().replace(microsecond=0)
        customer_writes(client, worker, account, "c-1", at=start, text="my order is late")
        conv = conversation_of(runtime, workspace_id, "c-1")
        clock = clock_of(runtime, conv.id)
        assert clock is not None and clock.response_kind == "first"
        assert clock.response_due_at == start + timedelta(minutes=60)
        assert clock.resolution_due_at == start + timedelta(minutes=480)
        assert conv.sla_due_at == start + timedelta(minutes=60)  # the earliest running

        reply = client.post(f"/api/v1/conversations/{conv.id}/messages",
                            json={"text": "Sorry! Looking into it.", "visibility": "public"})
        assert reply.status_code == 201, reply.text
        worker.drain()
        clock = clock_of(runtime, conv.id)
        assert clock.response_kind is None and clock.response_due_at is None
        assert clock.paused == "waiting_on_customer"  # pending: the resolution clock waits
        assert clock.resolution_due_at is None and clock.resolution_since is None
        assert conversation_of(runtime, workspace_id, "c-1").sla_due_at is None
        [first] = outcomes_of(runtime, conv.id)
        assert (first.target, first.status, first.cycle) == ("first_response", "met", 1)
        assert first.business_seconds is not None and first.business_seconds < 60

        later = utcnow()
        customer_writes(client, worker, account, "c-2", at=later, text="any news?",
                        in_reply_to="c-1")
        clock = clock_of(runtime, conv.id)
        assert clock.response_kind == "next" and clock.response_cycle == 2
        assert _close(clock.response_due_at, later + timedelta(minutes=30), 0.01)
        customer_writes(client, worker, account, "c-3", text="hello??", in_reply_to="c-2")
        clock = clock_of(runtime, conv.id)  # still the same unanswered wait
        assert clock.response_cycle == 2
        assert _close(clock.response_due_at, later + timedelta(minutes=30), 0.01)
        client.post(f"/api/v1/conversations/{conv.id}/messages",
                    json={"text": "It ships today.", "visibility": "public"})
        worker.drain()
        targets = [(o.target, o.status, o.cycle) for o in outcomes_of(runtime, conv.id)]
        assert targets == [("first_response", "met", 1), ("next_response", "met", 2)]

    def test_a_private_note_is_not_an_answer(self, runtime, workspace_id, client, worker):
        policy(client, first_response_minutes=60)
        account = api_account(runtime, workspace_id)
        customer_writes(client, worker, account, "n-1", text="help")
        conv = conversation_of(runtime, workspace_id, "n-1")
        note = client.post(f"/api/v1/conversations/{conv.id}/messages",
                           json={"text": "checking with billing", "kind": "note",
                                 "visibility": "private"})
        assert note.status_code == 201, note.text
        worker.drain()
        clock = clock_of(runtime, conv.id)
        assert clock.response_kind == "first" and clock.response_due_at is not None
        assert outcomes_of(runtime, conv.id) == []


class TestPauses:
    def test_snoozing_pauses_every_clock_and_waking_resumes_with_the_time_left(
            self, runtime, workspace_id, client, worker):
        policy(client, first_response_minutes=60, resolution_minutes=600)
        account = api_account(runtime, workspace_id)
        start = utcnow() - timedelta(minutes=20)
        customer_writes(client, worker, account, "s-1", at=start, text="help")
        conv = conversation_of(runtime, workspace_id, "s-1")
        assert _close(clock_of(runtime, conv.id).response_due_at, start + timedelta(minutes=60))
        snooze = client.patch(f"/api/v1/conversations/{conv.id}", json={
            "status": "snoozed", "snooze_until": (utcnow() + timedelta(hours=2)).isoformat()})
        assert snooze.status_code == 200, snooze.text
        worker.drain()
        clock = clock_of(runtime, conv.id)
        assert clock.paused == "snoozed"
        assert clock.response_due_at is None and clock.resolution_due_at is None
        assert 19 * 60 <= clock.response_used <= 21 * 60  # twenty minutes consumed
        assert conversation_of(runtime, workspace_id, "s-1").sla_due_at is None
        client.patch(f"/api/v1/conversations/{conv.id}", json={"status": "open"})
        worker.drain()
        clock = clock_of(runtime, conv.id)
        assert clock.paused is None
        # forty minutes were left when it woke up
        assert _close(clock.response_due_at, utcnow() + timedelta(minutes=40), 5)

    def test_waiting_on_the_customer_pauses_the_resolution_clock(
            self, runtime, workspace_id, client, worker):
        policy(client, resolution_minutes=120)
        account = api_account(runtime, workspace_id)
        start = utcnow() - timedelta(minutes=30)
        customer_writes(client, worker, account, "w-1", at=start, text="help")
        conv = conversation_of(runtime, workspace_id, "w-1")
        assert _close(clock_of(runtime, conv.id).resolution_due_at,
                      start + timedelta(minutes=120))
        client.patch(f"/api/v1/conversations/{conv.id}", json={"status": "pending"})
        worker.drain()
        clock = clock_of(runtime, conv.id)
        assert clock.paused == "waiting_on_customer" and clock.resolution_due_at is None
        assert 29 * 60 <= clock.resolution_used <= 31 * 60
        customer_writes(client, worker, account, "w-2", text="here is the photo",
                        in_reply_to="w-1")
        client.patch(f"/api/v1/conversations/{conv.id}", json={"status": "open"})
        worker.drain()
        clock = clock_of(runtime, conv.id)
        assert _close(clock.resolution_due_at, utcnow() + timedelta(minutes=90), 5)

    def test_resolution_records_attainment(self, runtime, workspace_id, client, worker):
        policy(client, resolution_minutes=120)
        account = api_account(runtime, workspace_id)
        customer_writes(client, worker, account, "r-1", at=utcnow() - timedelta(minutes=10))
        conv = conversation_of(runtime, workspace_id, "r-1")
        client.patch(f"/api/v1/conversations/{conv.id}", json={"status": "resolved"})
        worker.drain()
        [done] = outcomes_of(runtime, conv.id)
        assert (done.target, done.status) == ("resolution", "met")
        assert 9 * 60 <= done.business_seconds <= 11 * 60
        assert clock_of(runtime, conv.id).paused == "resolved"
        assert conversation_of(runtime, workspace_id, "r-1").sla_due_at is None

