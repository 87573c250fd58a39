"""Durable ingest: store then acknowledge; every bad input is a typed 4xx storing nothing."""

from __future__ import annotations

import threading
import uuid

import httpx
from sqlalchemy import func, select

from tests.factories import api_account, body, message_event, post_events, signed_headers
from threadline.conversations.models import Message
from threadline.events.models import InboundEvent
from threadline.ingest.service import storable


def _stored(runtime, account) -> int:
    with runtime.db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(InboundEvent)
                            .where(InboundEvent.channel_account_id == account.id)) or 0)


class TestIngest:
    def test_valid_event_is_stored_then_processed(self, runtime, workspace_id, client, worker):
        account = api_account(runtime, workspace_id)
        resp = post_events(client, account, [message_event("m1", text="my order is late")])
        assert resp.status_code == 200
        assert _stored(runtime, account) == 1
        worker.drain()
        with runtime.db.session(write=False) as s:
            msg = s.scalar(select(Message).where(Message.channel_account_id == account.id))
        assert msg is not None and msg.text == "my order is late"

    def test_text_the_database_cannot_store_is_kept_readable(self, runtime, workspace_id,
                                                             client, worker):
        """A signed delivery is never refused for its content: a NUL character, an unpaired
        surrogate (PostgreSQL refuses both) and an integer beyond 64 bits are stored as
        U+FFFD and as text, and the message reaches its conversation."""
        account = api_account(runtime, workspace_id)
        event = message_event("nul-1", text="refund\u0000 please now")
        event["message"]["author"]["followers"] = 2**70
        raw = body([event])
        assert b"\\u0000" in raw
        resp = client.post(f"/webhooks/api/{account.id}", content=raw,
                           headers=signed_headers(account, raw))
        assert resp.status_code == 200, resp.text
        assert worker.drain() >= 1
        with runtime.db.session(write=False) as s:
            msg = s.scalar(select(Message).where(Message.channel_account_id == account.id))
            stored = s.scalar(select(InboundEvent).where(
                InboundEvent.channel_account_id == account.id))
        assert msg is not None and msg.text == "refund\ufffd please now"
        assert stored is not None and stored.status == "done"

    def test_storable_replaces_what_postgresql_refuses(self):
        value = {"a\x00": ["x\ud800y", 2**64, -(2**63), True, None, 1.5, {"n": "\x00"}]}
        assert storable(value) == {"a\ufffd": ["x\ufffdy", str(2**64), -(2**63), True, None,
                                                  1.5, {"n": "\ufffd"}]}

    def test_redelivery_stores_once(self, runtime, workspace_id, client, worker):
        account = api_account(runtime, workspace_id)
        for _ in range(3):
            assert post_events(client, account, [message_event("dup")]).status_code == 200
        worker.drain()
        assert _stored(runtime, account) == 1
        with runtime.db.session(write=False) as s:
            count = s.scalar(select(func.count()).select_from(Message)
                             .where(Message.channel_account_id == account.id))
        assert count == 1


class TestBadInput:
    def _check(self, runtime, account, resp, status, code):
        assert resp.status_code == status, resp.text
        assert resp.json()["error"]["code"] == code
        assert _stored(runtime, account) == 0

    def test_malformed_json(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        raw = b'{"events": [ {"id": '
        resp = client.post(f"/webhooks/api/{account.id}", content=raw,
                           headers=signed_headers(account, raw))
        self._check(runtime, account, resp, 400, "bad_payload")

    def test_schema_violation(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        raw = b'{"events": [{"id": "x", "type": "message"}]}'
        resp = client.post(f"/webhooks/api/{account.id}", content=raw,
                           headers=signed_headers(account, raw))
        self._check(runtime, account, resp, 400, "bad_payload")

    def test_wrong_signature(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        raw = body([message_event("m1")])
        resp = client.post(f"/webhooks/api/{account.id}", content=raw,
                           headers={"content-type": "application/json",
                                    "x-threadline-signature": "sha256=" + "0" * 64})
        self._check(runtime, account, resp, 401, "bad_signature")

    def test_missing_signature(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        resp = client.post(f"/webhooks/api/{account.id}", content=body([message_event("m1")]),
                           headers={"content-type": "application/json"})
        self._check(runtime, account, resp, 401, "missing_signature")

    def test_unknown_account(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        raw = body([message_event("m1")])
        resp = client.post(f"/webhooks/api/{uuid.uuid4()}", content=raw,
                           headers=signed_headers(account, raw))
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "unknown_account"
        resp = client.post("/webhooks/api/not-a-uuid", content=raw,
                           headers=signed_headers(account, raw))
        assert resp.status_code == 404
        assert _stored(runtime, account) == 0

    def test_wrong_kind_for_account(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        raw = body([message_event("m1")])
        resp = client.post(f"/webhooks/x/{account.id}", content=raw,
                           headers=signed_headers(account, raw))
        self._check(runtime, account, resp, 404, "unknown_account")

    def test_body_over_one_mib(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        raw = body([message_event("big", text="x" * 90_000)] * 12)
        assert len(raw) > 1024 * 1024
        resp = client.post(f"/webhooks/api/{account.id}", content=raw,
                           headers=signed_headers(account, raw))
        self._check(runtime, account, resp, 413, "payload_too_large")

    def test_wrong_content_type(self, runtime, workspace_id, client):
        account = api_account(runtime, workspace_id)
        raw = body([message_event("m1")])
        headers = signed_headers(account, raw) | {"content-type": "application/xml"}
        resp = client.post(f"/webhooks/api/{account.id}", content=raw, headers=headers)
        self._check(runtime, account, resp, 415, "unsupported_media_type")


class TestConcurrentDuplicates:
    def test_same_event_delivered_concurrently_yields_one_message(self, runtime, workspace_id,
                                                                  live_server):
        account = api_account(runtime, workspace_id)
        raw = body([message_event("race-1", text="hello twice")])
        headers = signed_headers(account, raw)
        results: list[int] = []
        barrier = threading.Barrier(8)

        def deliver() -> None:
            with httpx.Client(base_url=live_server.url, timeout=30) as http:
                barrier.wait()
                results.append(http.post(f"/webhooks/api/{account.id}", content=raw,
                                         headers=headers).status_code)

        threads = [threading.Thread(target=deliver) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200] * 8
        deadline = __import__("time").monotonic() + 10
        count = 0
        while __import__("time").monotonic() < deadline:
            with runtime.db.session(write=False) as s:
                count = s.scalar(select(func.count()).select_from(Message)
                                 .where(Message.channel_account_id == account.id)) or 0
            if count:
                break
            __import__("time").sleep(0.05)
        __import__("time").sleep(0.3)
        with runtime.db.session(write=False) as s:
            count = s.scalar(select(func.count()).select_from(Message)
                             .where(Message.channel_account_id == account.id))
        assert count == 1
        assert _stored(runtime, account) == 1
