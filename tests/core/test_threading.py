"""Threading rules of docs/threading.md, in order, through the real ingest path and worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import api_account, message_event, post_events
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import SYSTEM, set_status
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent
from threadline.hops.records.links import create_short_link


def conv_of(runtime, account, pid):
    with runtime.db.session(write=False) as s:
        return s.scalar(select(Message.conversation_id).where(
            Message.channel_account_id == account.id, Message.provider_id == pid))


def deliver(client, worker, account, *events):
    assert post_events(client, account, list(events)).status_code == 200
    worker.drain()


class TestReplyChain:
    def test_reply_joins_parent(self, runtime, workspace_id, client, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("p1", author="c1"))
        deliver(client, worker, acc, message_event("b1", author="brand", is_self=True,
                                                   in_reply_to="p1", minutes=1))
        deliver(client, worker, acc, message_event("c2", author="c1", in_reply_to="b1",
                                                   minutes=2))
        assert conv_of(runtime, acc, "p1") == conv_of(runtime, acc, "b1") == conv_of(
            runtime, acc, "c2")

    def test_reply_before_parent_is_rethreaded_when_parent_arrives(self, runtime, workspace_id,
                                                                   client, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("child", author="c1", in_reply_to="root",
                                                   minutes=5))
        deliver(client, worker, acc, message_event("sibling", author="c2",
                                                   in_reply_to="root", minutes=6))
        assert conv_of(runtime, acc, "child") == conv_of(runtime, acc, "sibling")
        deliver(client, worker, acc, message_event("other", author="c1", minutes=7))
        deliver(client, worker, acc, message_event("root", author="brand", is_self=True,
                                                   in_reply_to="other", minutes=0))
        ids = {conv_of(runtime, acc, p) for p in ("child", "sibling", "root", "other")}
        assert len(ids) == 1
        with runtime.db.session(write=False) as s:
            merged = s.scalars(select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "conversation.merged")).all()
        assert merged, "the system merge is audited"

    def test_new_top_level_post_is_a_new_conversation(self, runtime, workspace_id, client,
                                                      worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("t1", author="c1"))
        deliver(client, worker, acc, message_event("t2", author="c1", minutes=3))
        assert conv_of(runtime, acc, "t1") != conv_of(runtime, acc, "t2")


class TestLinkToken:
    def test_message_with_link_token_joins_bound_conversation(self, runtime, workspace_id,
                                                              client, worker):
        public = api_account(runtime, workspace_id, name="public")
        chat = api_account(runtime, workspace_id, name="chat", identity_kind="webchat")
        deliver(client, worker, public, message_event("pub1", author="c1"))
        conv_id = conv_of(runtime, public, "pub1")
        with runtime.db.session() as s:
            # The private link a chat link's taker gets; a public `chat` code threads
            # nothing (docs/decisions/0103).
            _, code = create_short_link(s, workspace_id, purpose="chat_session",
                                        conversation_id=conv_id, customer_id=None)
        deliver(client, worker, chat, message_event("chat1", author="visitor-9",
                                                    visibility="private", link_token=code,
                                                    thread_key="visitor-9", minutes=1))
        assert conv_of(runtime, chat, "chat1") == conv_id


class TestPrivateThread:
    def test_same_thread_continues_and_reopens_within_window(self, runtime, workspace_id,
                                                             client, worker):
        acc = api_account(runtime, workspace_id)
        now = utcnow()
        first = message_event("dm1", author="c1", visibility="private", thread_key="dm:c1")
        first["message"]["created_at"] = now.isoformat()
        deliver(client, worker, acc, first)
        conv_id = conv_of(runtime, acc, "dm1")
        with runtime.db.session() as s:
            set_status(s, s.get(Conversation, conv_id), "resolved", SYSTEM)
        again = message_event("dm2", author="c1", visibility="private", thread_key="dm:c1")
        again["message"]["created_at"] = (now + timedelta(hours=1)).isoformat()
        deliver(client, worker, acc, again)
        assert conv_of(runtime, acc, "dm2") == conv_id
        with runtime.db.session(write=False) as s:
            conv = s.get(Conversation, conv_id)
            assert conv.status == "open" and conv.reopen_count == 1

    def test_thread_after_reopen_window_starts_new_conversation(self, runtime, workspace_id,
                                                                client, worker):
        acc = api_account(runtime, workspace_id)
        now = utcnow()
        first = message_event("dmA", author="c1", visibility="private", thread_key="dm:c1")
        first["message"]["created_at"] = (now - timedelta(days=30)).isoformat()
        deliver(client, worker, acc, first)
        conv_id = conv_of(runtime, acc, "dmA")
        with runtime.db.session() as s:
            set_status(s, s.get(Conversation, conv_id), "resolved", SYSTEM)
        later = message_event("dmB", author="c1", visibility="private", thread_key="dm:c1")
        later["message"]["created_at"] = (now + timedelta(days=30)).isoformat()
        deliver(client, worker, acc, later)
        assert conv_of(runtime, acc, "dmB") != conv_id


class TestCrossChannel:
    def test_same_customer_on_another_channel_joins_open_conversation(self, runtime,
                                                                     workspace_id, client,
                                                                     worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("pubX", author="c7"))
        deliver(client, worker, acc, message_event("dmX", author="c7", visibility="private",
                                                   thread_key="dm:c7", minutes=10))
        assert conv_of(runtime, acc, "dmX") == conv_of(runtime, acc, "pubX")

    def test_outside_window_starts_new_conversation(self, runtime, workspace_id, client,
                                                    worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("pubY", author="c8"))
        deliver(client, worker, acc, message_event("dmY", author="c8", visibility="private",
                                                   thread_key="dm:c8", minutes=60 * 24 * 10))
        assert conv_of(runtime, acc, "dmY") != conv_of(runtime, acc, "pubY")

    def test_other_customer_never_joins(self, runtime, workspace_id, client, worker):
        acc = api_account(runtime, workspace_id)
        deliver(client, worker, acc, message_event("pubZ", author="c9"))
        deliver(client, worker, acc, message_event("dmZ", author="c10", visibility="private",
                                                   thread_key="dm:c10", minutes=1))
        assert conv_of(runtime, acc, "dmZ") != conv_of(runtime, acc, "pubZ")


class TestEditsDeletesStatuses:
    def test_edit_and_delete_before_original_apply_once_it_lands(self, runtime, workspace_id,
                                                                 client, worker):
        acc = api_account(runtime, workspace_id)
        at = "2026-11-01T12:05:00+00:00"
        edit = {"id": "e-edit", "type": "edit",
                "edit": {"message_id": "late", "text": "edited text", "at": at}}
        assert post_events(client, acc, [edit]).status_code == 200
        worker.drain()
        assert conv_of(runtime, acc, "late") is None
        deliver(client, worker, acc, message_event("late", author="c1", text="original"))
        import time

        time.sleep(0.3)  # the retry backoff in tests is 0.05-0.2 s
        worker.drain()
        with runtime.db.session(write=False) as s:
            msg = s.scalar(select(Message).where(Message.channel_account_id == acc.id,
                                                 Message.provider_id == "late"))
        assert msg.text == "edited text" and msg.edited_at is not None
        delete = {"id": "e-del", "type": "delete", "delete": {"message_id": "late", "at": at}}
        deliver(client, worker, acc, delete)
        with runtime.db.session(write=False) as s:
            msg = s.scalar(select(Message).where(Message.id == msg.id))
        assert msg.deleted_at is not None


class TestServiceLevels:
    def test_customer_message_starts_the_clock_and_an_answer_stops_it(
            self, runtime, workspace_id, client, worker, sandbox):
        acc = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
        deliver(client, worker, acc, message_event("sla-1", author="c1", text="where is it?"))
        conv_id = conv_of(runtime, acc, "sla-1")
        with runtime.db.session(write=False) as s:
            conv = s.get(Conversation, conv_id)
            msg_at = s.scalar(select(Message.created_at).where(Message.provider_id == "sla-1",
                                                               Message.channel_account_id
                                                               == acc.id))
        assert conv.sla_due_at is not None
        minutes = (conv.sla_due_at - msg_at).total_seconds() / 60
        assert minutes == runtime.settings.sla_public_minutes * (
            runtime.settings.sla_urgent_factor if conv.priority <= 2 else 1)  # P1, P2
        assert client.post(f"/api/v1/conversations/{conv_id}/messages",
                           json={"text": "Checking now.", "visibility": "public"}
                           ).status_code == 201
        with runtime.db.session(write=False) as s:
            assert s.get(Conversation, conv_id).sla_due_at is None
        deliver(client, worker, acc, message_event("sla-2", author="c1", in_reply_to="sla-1",
                                                   text="any news?", minutes=5))
        with runtime.db.session(write=False) as s:
            assert s.get(Conversation, conv_id).sla_due_at is not None
        client.patch(f"/api/v1/conversations/{conv_id}", json={"status": "resolved"})
        with runtime.db.session(write=False) as s:
            assert s.get(Conversation, conv_id).sla_due_at is None
