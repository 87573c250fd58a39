"""REST API: conversations, messages, policy errors, split/merge, customers, roles."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

from sqlalchemy import event, select

from tests.conftest import make_token
from tests.factories import api_account, message_event, post_events
from threadline.conversations.models import Message


def deliver(client, worker, account, *events):
    assert post_events(client, account, list(events)).status_code == 200
    worker.drain()


def conv_id_of(client, pid_text):
    items = client.get("/api/v1/conversations", params={"limit": 200}).json()["items"]
    for item in items:
        detail = client.get(f"/api/v1/conversations/{item['id']}").json()
        if any(m["provider_id"] == pid_text for m in detail["messages"]):
            return item["id"]
    raise AssertionError(f"no conversation holds {pid_text}")


@contextmanager
def count_queries(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK",
                                                      "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


class TestConversationView:
    def test_500_messages_across_3_channels_in_at_most_4_queries(self, runtime, workspace_id,
                                                                 client, worker):
        accounts = [api_account(runtime, workspace_id, name=f"ch{i}") for i in range(3)]
        deliver(client, worker, accounts[0], message_event("root-0", author="cust"))
        events_by_acc: list[list[dict]] = [[], [], []]
        for i in range(1, 500):
            acc = i % 3
            events_by_acc[acc].append(message_event(
                f"r-{i}", author="cust", in_reply_to="root-0" if acc == 0 else None,
                visibility="public" if acc == 0 else "private",
                thread_key=None if acc == 0 else f"t-{acc}", minutes=i))
        for acc, events in zip(accounts, events_by_acc, strict=True):
            for start in range(0, len(events), 200):
                assert post_events(client, acc, events[start:start + 200]).status_code == 200
        worker.drain()
        with runtime.db.session(write=False) as s:
            conv_ids = set(s.scalars(select(Message.conversation_id).where(
                Message.workspace_id == workspace_id)))
        assert len(conv_ids) == 1
        conv_id = conv_ids.pop()
        with count_queries(runtime.db.engine) as statements:
            resp = client.get(f"/api/v1/conversations/{conv_id}")
        assert resp.status_code == 200
        body = resp.json()
        assert len(body["messages"]) == 500
        assert {m["channel_account_id"] for m in body["messages"]} == {
            str(a.id) for a in accounts}
        first = body["messages"][0]
        for key in ("id", "channel", "visibility", "direction", "text", "provider_id",
                    "created_at", "delivery"):
            assert key in first
        # token, conversation + customer, messages, link takers (their unverified marks)
        assert len(statements) <= 4, statements


class TestListing:
    def test_filters_and_keyset_pagination(self, runtime, workspace_id, client, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, *[message_event(f"top-{i}", author=f"a{i}", minutes=i)
                                       for i in range(7)])
        page = client.get("/api/v1/conversations", params={"limit": 3}).json()
        seen = [c["id"] for c in page["items"]]
        while page["next"]:
            page = client.get("/api/v1/conversations",
                              params={"limit": 3, "cursor": page["next"]}).json()
            seen += [c["id"] for c in page["items"]]
        assert len(seen) == len(set(seen)) == 7
        assert client.get("/api/v1/conversations",
                          params={"status": "resolved"}).json()["items"] == []
        assert len(client.get("/api/v1/conversations",
                              params={"visibility": "public"}).json()["items"]) == 7
        bad = client.get("/api/v1/conversations", params={"cursor": "garbage!"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"

    def test_other_workspace_sees_nothing(self, runtime, workspace_id, client, worker, app):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("secret", author="a1"))
        cid = conv_id_of(client, "secret")
        from fastapi.testclient import TestClient

        from threadline.workspace.service import create_workspace

        with runtime.db.session() as s:
            other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}").id
        with TestClient(app) as c2:
            c2.headers["Authorization"] = f"Bearer {make_token(runtime, other)}"
            assert c2.get(f"/api/v1/conversations/{cid}").status_code == 404
            assert c2.get("/api/v1/conversations").json()["items"] == []


class TestReplies:
    def test_public_reply_is_sent_through_the_channel(self, runtime, workspace_id, client,
                                                      worker, sandbox):
        acc = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
        deliver(client, worker, acc, message_event("q1", author="c1",
                                                   text="Is the store open on Sunday?"))
        cid = conv_id_of(client, "q1")
        resp = client.post(f"/api/v1/conversations/{cid}/messages",
                           json={"text": "Yes, 10:00 to 16:00.", "visibility": "public"})
        assert resp.status_code == 201, resp.text
        assert resp.json()["delivery"] == "pending"
        worker.drain()
        detail = client.get(f"/api/v1/conversations/{cid}").json()
        out = [m for m in detail["messages"] if m["direction"] == "outbound"][0]
        assert out["delivery"] == "sent" and out["provider_id"].startswith("api-")
        calls = __import__("httpx").get(f"{sandbox.url}/_sandbox/calls",
                                        params={"provider": "api"}).json()["calls"]
        sent = [c for c in calls if c["json"] and c["json"].get("id") == out["id"]]
        assert sent and sent[0]["json"]["in_reply_to"] == "q1"
        assert sent[0]["json"]["visibility"] == "public"

    def test_provider_4xx_marks_message_failed_with_reason(self, runtime, workspace_id, client,
                                                          worker, sandbox):
        import httpx

        acc = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
        deliver(client, worker, acc, message_event("q2", author="c2"))
        cid = conv_id_of(client, "q2")
        httpx.post(f"{sandbox.url}/_sandbox/faults",
                   json={"provider": "api", "path_contains": "/outbound", "status": 400,
                         "body": {"error": "recipient blocked"}})
        mid = client.post(f"/api/v1/conversations/{cid}/messages",
                          json={"text": "Thanks!", "visibility": "public"}).json()["id"]
        worker.drain()
        msg = [m for m in client.get(f"/api/v1/conversations/{cid}").json()["messages"]
               if m["id"] == mid][0]
        assert msg["delivery"] == "failed" and "recipient blocked" in msg["delivery_error"]

    def test_5xx_and_429_are_retried(self, runtime, workspace_id, client, worker, sandbox):
        import httpx

        acc = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
        deliver(client, worker, acc, message_event("q3", author="c3"))
        cid = conv_id_of(client, "q3")
        httpx.post(f"{sandbox.url}/_sandbox/faults",
                   json={"provider": "api", "path_contains": "/outbound", "status": 503})
        httpx.post(f"{sandbox.url}/_sandbox/faults",
                   json={"provider": "api", "path_contains": "/outbound", "status": 429,
                         "retry_after": 0.1})
        mid = client.post(f"/api/v1/conversations/{cid}/messages",
                          json={"text": "On it.", "visibility": "public"}).json()["id"]
        deadline = time.monotonic() + 10
        state = "pending"
        while time.monotonic() < deadline and state == "pending":
            worker.drain()
            state = [m for m in client.get(f"/api/v1/conversations/{cid}").json()["messages"]
                     if m["id"] == mid][0]["delivery"]
            time.sleep(0.05)
        assert state == "sent"

    def test_public_reply_asking_for_date_of_birth_is_refused(self, runtime, workspace_id,
                                                              client, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("q4", author="c4"))
        cid = conv_id_of(client, "q4")
        resp = client.post(f"/api/v1/conversations/{cid}/messages",
                           json={"text": "Please reply with your date of birth so we can check.",
                                 "visibility": "public"})
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "pii_public"
        ok = client.post(f"/api/v1/conversations/{cid}/messages",
                         json={"text": "Please reply with your date of birth so we can check.",
                               "visibility": "private"})
        assert ok.status_code == 201

    def test_note_is_never_sent(self, runtime, workspace_id, client, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("q5", author="c5"))
        cid = conv_id_of(client, "q5")
        resp = client.post(f"/api/v1/conversations/{cid}/messages",
                           json={"text": "customer is a VIP", "kind": "note"})
        assert resp.status_code == 201 and resp.json()["channel"] == "note"

    def test_invalid_body_is_typed_422(self, client, runtime, workspace_id, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("q6", author="c6"))
        cid = conv_id_of(client, "q6")
        resp = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": 5})
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_failed"
        missing = client.post(f"/api/v1/conversations/{uuid.uuid4()}/messages",
                              json={"text": "hi"})
        assert missing.status_code == 404


class TestStateSplitMerge:
    def test_resolve_split_merge_are_audited(self, runtime, workspace_id, client, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("s1", author="c1"),
                message_event("s2", author="c1", in_reply_to="s1", minutes=1),
                message_event("s3", author="c1", in_reply_to="s2", minutes=2),
                message_event("other", author="c1", minutes=3))
        cid = conv_id_of(client, "s1")
        other = conv_id_of(client, "other")
        detail = client.get(f"/api/v1/conversations/{cid}").json()
        s3 = [m["id"] for m in detail["messages"] if m["provider_id"] == "s3"]
        new = client.post(f"/api/v1/conversations/{cid}/split", json={"message_ids": s3})
        assert new.status_code == 201
        assert client.get(f"/api/v1/conversations/{cid}").json()["message_count"] == 2
        merged = client.post(f"/api/v1/conversations/{cid}/merge", json={"other_id": other})
        assert merged.status_code == 200 and merged.json()["message_count"] == 3
        assert client.get(f"/api/v1/conversations/{other}").json()["merged_into_id"] == cid
        resolved = client.patch(f"/api/v1/conversations/{cid}", json={"status": "resolved"})
        assert resolved.json()["status"] == "resolved"
        from threadline.events.models import AuditEvent

        with runtime.db.session(write=False) as s:
            actions = set(s.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id)))
        assert {"conversation.split", "conversation.merged", "conversation.resolved",
                "message.received"} <= actions


class TestCustomers:
    def test_identities_merge_suggestion_merge_and_undo(self, runtime, workspace_id, client,
                                                        worker):
        x = api_account(runtime, workspace_id, name="x", identity_kind="x")
        chat = api_account(runtime, workspace_id, name="chat", identity_kind="webchat")
        deliver(client, worker, x, message_event("xm", author="111", email="Ann@Example.com"))
        deliver(client, worker, chat, message_event("cm", author="visitor-1",
                                                    visibility="private",
                                                    thread_key="v1",
                                                    email="ann@example.com", minutes=1))
        a = client.get(f"/api/v1/conversations/{conv_id_of(client, 'xm')}").json()
        b = client.get(f"/api/v1/conversations/{conv_id_of(client, 'cm')}").json()
        ca, cb = a["customer_id"], b["customer_id"]
        assert ca != cb, "nothing is linked by guess"
        cust_a = client.get(f"/api/v1/customers/{ca}").json()
        assert {(i["kind"], i["address"]) for i in cust_a["identities"]} == {
            ("x", "111"), ("email", "ann@example.com")}
        assert cust_a["suggestions"], "the shared email yields a merge suggestion"
        merge = client.post(f"/api/v1/customers/{ca}/merge", json={"other_id": cb})
        assert merge.status_code == 201
        merged = client.get(f"/api/v1/customers/{ca}").json()
        assert len(merged["identities"]) == 3 and len(merged["conversations"]) == 2
        undo = client.post(f"/api/v1/customers/merges/{merge.json()['id']}/undo")
        assert undo.status_code == 200
        assert len(client.get(f"/api/v1/customers/{ca}").json()["identities"]) == 2
        assert len(client.get(f"/api/v1/customers/{cb}").json()["conversations"]) == 1
        again = client.post(f"/api/v1/customers/merges/{merge.json()['id']}/undo")
        assert again.status_code == 422


class TestRoles:
    def test_agent_token_cannot_use_supervisor_and_admin_apis(self, runtime, workspace_id,
                                                              app):
        from fastapi.testclient import TestClient

        with TestClient(app) as c:
            c.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, 'agent')}"
            assert c.get("/api/v1/conversations").status_code == 200
            assert c.get("/api/v1/dead-letters").status_code == 403
            assert c.post("/api/v1/channel-accounts",
                          json={"kind": "api", "name": "n"}).status_code == 403
            c.headers["Authorization"] = "Bearer nope"
            assert c.get("/api/v1/conversations").status_code == 401
            del c.headers["Authorization"]
            assert c.get("/api/v1/conversations").json()["error"]["code"] == "missing_token"

    def test_openapi_is_served_offline(self, client):
        spec = client.get("/api/v1/openapi.json").json()
        assert "/api/v1/conversations/{conversation_id}" in spec["paths"]
        docs = client.get("/api/v1/docs").text
        assert "cdn" not in docs.lower()


class TestChannelAccounts:
    def test_rename_rotate_and_deactivate(self, runtime, workspace_id, client, worker):
        from threadline.events.models import AuditEvent

        acc = api_account(runtime, workspace_id)
        resp = client.patch(f"/api/v1/channel-accounts/{acc.id}",
                            json={"name": "CRM", "config": {"secret": "rotated"}})
        assert resp.status_code == 200 and resp.json()["name"] == "CRM"
        acc.config["secret"] = "rotated"
        assert post_events(client, acc, [message_event("after-rotate")]).status_code == 200
        assert client.patch(f"/api/v1/channel-accounts/{acc.id}",
                            json={"active": False}).status_code == 200
        assert post_events(client, acc, [message_event("inactive")]).status_code == 404
        with runtime.db.session(write=False) as s:
            rows = list(s.scalars(select(AuditEvent).where(
                AuditEvent.subject_id == str(acc.id),
                AuditEvent.action == "channel_account.updated").order_by(
                AuditEvent.created_at)))  # the rotation, then the deactivation
        assert rows and all("rotated" not in str(r.data) for r in rows)
        assert rows[0].data["config_keys"] == ["secret"]
        bad = client.patch(f"/api/v1/channel-accounts/{acc.id}", json={"name": ""})
        assert bad.status_code == 422
