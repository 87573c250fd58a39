"""Outbound webhooks against a real HTTP receiver on loopback: the real flow (a customer
writes, an agent resolves), signatures checked with the documented snippet, retries with
growing gaps, order per conversation under concurrent events, disabling, redelivery, the
URL checked again at send time."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.conftest import free_port
from tests.factories import api_account, message_event, post_events
from tests.integrations.webhooks.conftest import (
    ADMIN,
    Receiver,
    fast_runtime,
    pump,
    subscribe,
)
from tests.integrations.webhooks.snippet import documented_verify
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent, StreamEvent
from threadline.integrations.webhooks import delivery, service
from threadline.integrations.webhooks.delivery import Event, record
from threadline.integrations.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker


def events_of(rt: Runtime, workspace_id: uuid.UUID, events: list[Event]) -> None:
    with rt.db.session() as session:
        record(session, workspace_id, events)


def types(received: list[Any]) -> list[str]:
    return [json.loads(r.body)["type"] for r in received]


class TestRealFlow:
    def test_a_conversation_s_events_arrive_signed_and_in_order(
            self, client: Any, hook_runtime: Runtime, hook_worker: Worker,
            workspace_id: uuid.UUID, receiver: Receiver) -> None:
        answer = client.post("/api/v1/webhooks", json={
            "url": receiver.url, "description": "CRM",
            "event_types": ["conversation.created", "message.created",
                            "conversation.resolved", "customer.created"]})
        assert answer.status_code == 201, answer.text
        secret = answer.json()["secret"]
        account = api_account(hook_runtime, workspace_id)
        assert post_events(client, account, [message_event("w-1", text="Where is my order?")]
                           ).status_code == 200
        got = pump(hook_worker, receiver, 3)
        assert sorted(types(got)) == ["conversation.created", "customer.created",
                                      "message.created"]
        conv_id = json.loads(got[-1].body)["data"]["conversation_id"]
        reply = client.post(f"/api/v1/conversations/{conv_id}/messages",
                            json={"text": "On its way", "kind": "note"})
        assert reply.status_code in (200, 201), reply.text
        assert client.patch(f"/api/v1/conversations/{conv_id}",
                            json={"status": "resolved"}).status_code == 200
        got = pump(hook_worker, receiver, 4)
        assert len(got) == 4, types(got)  # the private note made no event
        by_conv = [r for r in got if json.loads(r.body)["data"].get("conversation_id")
                   == conv_id]
        assert types(by_conv) == ["conversation.created", "message.created",
                                  "conversation.resolved"]
        verify = documented_verify()
        for r in got:
            assert verify(secret, r.headers, r.body), r.headers
            assert not verify(secret, r.headers, r.body + b" ")
            assert r.headers["content-type"] == "application/json"
            assert "." not in r.headers["webhook-id"]
        [message] = [r for r in got if json.loads(r.body)["type"] == "message.created"]
        assert json.loads(message.body)["data"]["direction"] == "inbound"
        # the log shows every delivery with its code
        log = client.get("/api/v1/webhooks/deliveries").json()["deliveries"]
        assert {d["status"] for d in log} == {"delivered"}
        assert {d["last_status_code"] for d in log} == {200}

    def test_no_subscription_writes_nothing(self, hook_runtime: Runtime,
                                            workspace_id: uuid.UUID) -> None:
        with hook_runtime.db.session() as session:
            assert record(session, workspace_id, [Event("customer.created", {})]) == 0

    def test_only_the_types_asked_for(self, hook_runtime: Runtime, hook_worker: Worker,
                                      workspace_id: uuid.UUID, receiver: Receiver) -> None:
        subscribe(hook_runtime, workspace_id, receiver.url, ["csat.recorded"])
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "c"}),
                                               Event("csat.recorded", {"score": 5})])
        got = pump(hook_worker, receiver, 2, timeout=3)
        assert types(got) == ["csat.recorded"]


class TestRetries:
    def test_fails_twice_then_succeeds_with_growing_gaps(
            self, hook_runtime: Runtime, hook_worker: Worker, workspace_id: uuid.UUID,
            receiver: Receiver) -> None:
        receiver.answer = lambda n, body: (500 if n <= 2 else 200, {})
        sub_id, secret = subscribe(hook_runtime, workspace_id, receiver.url)
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "c1"})])
        got = pump(hook_worker, receiver, 3)
        assert [r.status for r in got] == [500, 500, 200]
        assert len({r.id for r in got}) == 1, "the same webhook-id on every attempt"
        first, second = got[1].at - got[0].at, got[2].at - got[1].at
        assert 0.2 <= first < second, (first, second)  # base 0.3 s, then 0.6 s (±20 %)
        assert len({r.headers["webhook-timestamp"] for r in got}) >= 1
        assert all(documented_verify()(secret, r.headers, r.body) for r in got)
        with hook_runtime.db.session() as session:
            row = session.scalars(select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == sub_id)).one()
            assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
            codes = session.scalars(select(WebhookAttempt.status_code).where(
                WebhookAttempt.delivery_id == row.id).order_by(WebhookAttempt.id)).all()
            assert codes == [500, 500, 200]
            sub = session.get(WebhookSubscription, sub_id)
            assert sub is not None and sub.consecutive_failures == 0

    def test_retry_after_is_honoured(self, hook_runtime: Runtime, hook_worker: Worker,
                                     workspace_id: uuid.UUID, receiver: Receiver) -> None:
        receiver.answer = lambda n, body: (429, {"retry-after": "2"}) if n == 1 else (200, {})
        subscribe(hook_runtime, workspace_id, receiver.url)
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "c"})])
        got = pump(hook_worker, receiver, 2)
        assert [r.status for r in got] == [429, 200]
        assert got[1].at - got[0].at >= 1.9

    def test_a_redirect_is_not_followed(self, hook_runtime: Runtime, hook_worker: Worker,
                                        workspace_id: uuid.UUID, receiver: Receiver) -> None:
        receiver.answer = lambda n, body: ((302, {"location": "http://169.254.169.254/"})
                                           if n == 1 else (200, {}))
        subscribe(hook_runtime, workspace_id, receiver.url)
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "c"})])
        got = pump(hook_worker, receiver, 2)
        assert [r.status for r in got] == [302, 200]


class TestOrder:
    def test_order_per_conversation_holds_under_concurrent_events(
            self, runtime: Runtime, workspace_id: uuid.UUID, receiver: Receiver) -> None:
        rt = fast_runtime(runtime, outbound_webhook_retry_base_seconds=0.05,
                          outbound_webhook_retry_max_seconds=0.2,
                          outbound_webhook_max_attempts=50,
                          outbound_webhook_disable_after_failures=10_000)
        flaky = random.Random(3)
        receiver.answer = lambda n, body: (503 if flaky.random() < 0.3 else 200, {})
        subscribe(rt, workspace_id, receiver.url)
        conversations = [uuid.uuid4() for _ in range(6)]
        per_conv = 8

        def emit(conv: uuid.UUID) -> None:
            for seq in range(per_conv):
                events_of(rt, workspace_id, [Event("message.created", {
                    "conversation_id": str(conv), "seq": seq}, conv)])

        stop = threading.Event()

        def work() -> None:
            w = Worker(rt, name=f"w-{threading.get_ident()}")
            while not stop.is_set():
                if w.run_once() == 0:
                    stop.wait(0.02)

        emitters = [threading.Thread(target=emit, args=(c,)) for c in conversations]
        workers = [threading.Thread(target=work) for _ in range(2)]
        for t in emitters + workers:
            t.start()
        for t in emitters:
            t.join()
        total = len(conversations) * per_conv
        deadline = time.monotonic() + 60
        while len(receiver.accepted()) < total and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in workers:
            t.join(timeout=30)
        rt.http.close()
        accepted = receiver.accepted()
        assert len({r.id for r in accepted}) == total
        seen: dict[str, list[int]] = {}
        for r in accepted:
            data = json.loads(r.body)["data"]
            seen.setdefault(data["conversation_id"], []).append(data["seq"])
        assert len(seen) == len(conversations)
        for seqs in seen.values():
            assert seqs == list(range(per_conv)), seqs
        assert any(r.status == 503 for r in receiver.received), "some were retried"


class TestDisabling:
    def test_a_receiver_down_for_good_is_disabled_and_admins_told(
            self, hook_runtime: Runtime, hook_worker: Worker, workspace_id: uuid.UUID) -> None:
        url = f"http://127.0.0.1:{free_port()}/gone-away"  # nothing listens there
        sub_id, _ = subscribe(hook_runtime, workspace_id, url)
        events_of(hook_runtime, workspace_id,
                  [Event("customer.created", {"customer_id": str(i)}) for i in range(2)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            hook_worker.run_once()
            with hook_runtime.db.session(write=False) as session:
                sub = session.get(WebhookSubscription, sub_id)
                assert sub is not None
                if sub.status == "disabled":
                    break
            time.sleep(0.05)
        with hook_runtime.db.session(write=False) as session:
            sub = session.get(WebhookSubscription, sub_id)
            assert sub is not None and sub.status == "disabled", "disabled after 4 failures"
            assert sub.consecutive_failures >= 4
            assert "failed attempts in a row" in (sub.disabled_reason or "")
            statuses = session.scalars(select(WebhookDelivery.status).where(
                WebhookDelivery.subscription_id == sub_id)).all()
            assert set(statuses) == {"failed"}
            errors = session.scalars(select(WebhookAttempt.error).join(
                WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id).where(
                WebhookDelivery.subscription_id == sub_id)).all()
            assert all(e and e.startswith("no response") for e in errors)
            assert session.scalar(select(AuditEvent.id).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "webhook.disabled")) is not None
            assert session.scalar(select(StreamEvent.id).where(
                StreamEvent.workspace_id == workspace_id,
                StreamEvent.name == "webhook.disabled")) is not None
        # no new deliveries for a disabled subscription
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "x"})])
        with hook_runtime.db.session(write=False) as session:
            assert len(session.scalars(select(WebhookDelivery.id).where(
                WebhookDelivery.subscription_id == sub_id)).all()) == 2

    def test_410_disables_at_once(self, hook_runtime: Runtime, hook_worker: Worker,
                                  workspace_id: uuid.UUID, receiver: Receiver) -> None:
        receiver.answer = lambda n, body: (410, {})
        sub_id, _ = subscribe(hook_runtime, workspace_id, receiver.url)
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "c"})])
        pump(hook_worker, receiver, 1)
        hook_worker.drain()
        with hook_runtime.db.session(write=False) as session:
            sub = session.get(WebhookSubscription, sub_id)
            assert sub is not None and sub.status == "disabled"
            assert "410" in (sub.disabled_reason or "")


class TestRedelivery:
    def test_manual_redelivery_sends_the_same_event_id_again(
            self, client: Any, hook_runtime: Runtime, hook_worker: Worker,
            workspace_id: uuid.UUID, receiver: Receiver) -> None:
        subscribe(hook_runtime, workspace_id, receiver.url)
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "c"})])
        [first] = pump(hook_worker, receiver, 1)
        [entry] = client.get("/api/v1/webhooks/deliveries").json()["deliveries"]
        answer = client.post(f"/api/v1/webhooks/deliveries/{entry['id']}/redeliver")
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "pending"
        got = pump(hook_worker, receiver, 2)
        assert [r.id for r in got] == [first.id, first.id]
        assert got[1].body == first.body
        detail = client.get(f"/api/v1/webhooks/deliveries/{entry['id']}").json()
        assert [a["status_code"] for a in detail["attempt_log"]] == [200, 200]


class TestUrlCheckedAtSendTime:
    @pytest.fixture
    def strict(self, runtime: Runtime) -> Iterator[Runtime]:
        rt = fast_runtime(runtime, allow_custom_provider_urls=False)
        yield rt
        rt.http.close()

    def test_an_internal_url_is_refused_before_sending(
            self, hook_runtime: Runtime, strict: Runtime, workspace_id: uuid.UUID,
            receiver: Receiver) -> None:
        sub_id, _ = subscribe(hook_runtime, workspace_id, receiver.url)  # allowed then
        events_of(strict, workspace_id, [Event("customer.created", {"customer_id": "c"})])
        delivery.dispatch(strict, seconds=2)
        assert receiver.received == []
        with strict.db.session(write=False) as session:
            [attempt] = session.scalars(select(WebhookAttempt).join(
                WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id).where(
                WebhookDelivery.subscription_id == sub_id)).all()
            assert attempt.status_code is None and "url_refused" not in (attempt.error or "x")
            assert "scheme" in (attempt.error or "") or "address" in (attempt.error or "")


def test_secret_is_stored_encrypted(hook_runtime: Runtime, workspace_id: uuid.UUID,
                                    receiver: Receiver) -> None:
    sub_id, secret = subscribe(hook_runtime, workspace_id, receiver.url)
    with hook_runtime.db.session(write=False) as session:
        raw = session.execute(text("SELECT secret FROM webhook_subscriptions WHERE id = :id"),
                              {"id": sub_id if hook_runtime.db.dialect == "postgresql"
                               else sub_id.hex}).scalar_one()
        assert secret not in raw and secret.removeprefix("whsec_") not in raw
        row = service.access_subscription(session, workspace_id, sub_id)
        assert service.secret_of(row) == secret
    assert ADMIN.type == "token"


class TestOtherEvents:
    def test_a_customer_merge_through_the_api_is_delivered(
            self, client: Any, hook_runtime: Runtime, hook_worker: Worker,
            workspace_id: uuid.UUID, receiver: Receiver) -> None:
        account = api_account(hook_runtime, workspace_id)
        assert post_events(client, account, [
            message_event("m-1", author="ann"),
            message_event("m-2", author="bob", thread_key="other")]).status_code == 200
        hook_worker.drain()
        subscribe(hook_runtime, workspace_id, receiver.url, ["customer.merged"])
        convs = client.get("/api/v1/conversations").json()["items"]
        kept, gone = (c["customer_id"] for c in convs[:2])
        assert kept != gone
        answer = client.post(f"/api/v1/customers/{kept}/merge", json={"other_id": gone})
        assert answer.status_code == 201, answer.text
        [got] = pump(hook_worker, receiver, 1)
        body = json.loads(got.body)
        assert body["type"] == "customer.merged"
        assert body["data"] == {"customer_id": kept, "merged_customer_id": gone}

    @pytest.mark.parametrize(("action", "data", "expected"), [
        ("hop.offered", {"hop_id": "h", "method": "dm_invite", "reason": "private"},
         ("hop.offered", {"hop_id": "h", "method": "dm_invite"})),
        ("hop.taken", {"hop_id": "h", "to_channel": "whatsapp", "taker_id": "t"},
         ("hop.taken", {"hop_id": "h", "to_channel": "whatsapp"})),
        ("hop.returned", {"hop_id": "h", "message_id": "m"},
         ("hop.returned", {"hop_id": "h", "message_id": "m"})),
        ("csat.answered", {"survey_id": "s", "score": 4, "source": "link"},
         ("csat.recorded", {"survey_id": "s", "score": 4})),
    ])
    def test_conversation_audit_rows_become_ordered_events(
            self, action: str, data: dict[str, Any], expected: tuple[str, dict[str, Any]]
    ) -> None:
        conv = uuid.uuid4()
        event = delivery.audit_webhook_event({"action": action, "subject_type": "conversation",
                                              "subject_id": str(conv), "data": data})
        assert event is not None
        assert (event.type, event.data) == (expected[0], {"conversation_id": str(conv),
                                                          **expected[1]})
        assert event.conversation_id == conv  # ordered with the conversation's other events

    def test_other_audit_rows_are_ignored(self) -> None:
        for action in ("customer.updated", "message.created", "agent.signed_in"):
            assert delivery.audit_webhook_event({"action": action, "subject_type": "customer",
                                                 "subject_id": "x", "data": {}}) is None


class TestRotation:
    def test_after_a_rotation_both_secrets_sign_for_a_day(
            self, client: Any, hook_runtime: Runtime, hook_worker: Worker,
            workspace_id: uuid.UUID, receiver: Receiver) -> None:
        sub_id, old = subscribe(hook_runtime, workspace_id, receiver.url)
        answer = client.patch(f"/api/v1/webhooks/{sub_id}", json={"rotate_secret": True})
        new = answer.json()["secret"]
        events_of(hook_runtime, workspace_id, [Event("customer.created", {"customer_id": "c"})])
        [got] = pump(hook_worker, receiver, 1)
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        verify = documented_verify()
        assert verify(new, got.headers, got.body) and verify(old, got.headers, got.body)
        with hook_runtime.db.session(write=False) as session:
            row = session.get(WebhookSubscription, sub_id)
            assert row is not None
            later = utcnow() + timedelta(hours=25)
            assert service.signing_secrets(row, now=later) == [new]
