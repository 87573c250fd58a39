"""Statements per page and per API list: a count that grows with the rows shown is an N+1
query. Each case measures the same request on a small and on a larger data set (more
conversations, messages, identities) and asserts the counts are equal and exactly the expected count
(the count measured when the test was written: a change to it is reviewed)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select

from tests.desktop.conftest import Desk
from tests.factories import api_account, message_event, post_events
from tests.querycount import count_queries
from threadline.conversations.models import Conversation, Message


def _ingest(client, account, worker, events) -> None:
    assert post_events(client, account, events).status_code == 200
    worker.drain()


def _queries(runtime, request: Callable[[], object]) -> int:
    with count_queries(runtime) as queries:
        response = request()
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return queries.count


class TestListsDoNotGrowWithRows:
    def test_inbox_and_api_conversation_list(self, agent_desk: Desk, client, runtime,
                                             workspace_id, worker):
        account = api_account(runtime, workspace_id)

        def measure(n: int) -> tuple[int, int]:
            _ingest(client, account, worker, [
                message_event(f"l{n}-{i}", author=f"l{n}-{i}", text=f"order {i} is late")
                for i in range(n)])
            return (_queries(runtime, lambda: agent_desk.get("/inbox/list")),
                    _queries(runtime, lambda: client.get("/api/v1/conversations?limit=50")))

        small, large = measure(3), measure(40)
        assert small == large, (small, large)
        inbox, api = large
        assert (inbox, api) == (4, 2), large

    def test_timeline_and_api_conversation(self, agent_desk: Desk, client, runtime,
                                           workspace_id, worker):
        account = api_account(runtime, workspace_id)

        def measure(author: str, n: int) -> tuple[int, int]:
            _ingest(client, account, worker, [
                message_event(f"{author}-{i}", author=author, text=f"message {i}",
                              visibility="private", thread_key=f"dm-{author}", minutes=i)
                for i in range(n)])
            with runtime.db.session(write=False) as session:
                conv_id = session.scalar(select(Message.conversation_id).where(
                    Message.workspace_id == workspace_id, Message.provider_id == f"{author}-0"))
            assert conv_id is not None
            return (_queries(runtime, lambda: agent_desk.get(
                        f"/conversations/{conv_id}/timeline")),
                    _queries(runtime, lambda: client.get(f"/api/v1/conversations/{conv_id}")))

        small, large = measure("few", 2), measure("many", 25)
        assert small == large, (small, large)
        timeline, api = large
        assert (timeline, api) == (10, 4), large  # + the KPI marks (episodes, segments)

    def test_customer_page_and_api_customer(self, agent_desk: Desk, client, runtime,
                                            workspace_id, worker):
        def measure(author: str, accounts: int) -> tuple[int, int]:
            # the same person on several accounts (identity kinds), several conversations each
            customer_id: uuid.UUID | None = None
            for a in range(accounts):
                account = api_account(runtime, workspace_id, name=f"{author}-{a}",
                                      identity_kind="x")
                _ingest(client, account, worker, [
                    message_event(f"{author}-{a}-{i}", author=author, text=f"case {i}",
                                  thread_key=f"{author}-{a}-{i}") for i in range(3)])
            with runtime.db.session(write=False) as session:
                customer_id = session.scalar(select(Conversation.customer_id).join(
                    Message, Message.conversation_id == Conversation.id).where(
                    Message.workspace_id == workspace_id,
                    Message.provider_id == f"{author}-0-0"))
            assert customer_id is not None
            return (_queries(runtime, lambda: agent_desk.get(f"/customers/{customer_id}")),
                    _queries(runtime, lambda: client.get(f"/api/v1/customers/{customer_id}")))

        small, large = measure("solo", 1), measure("busy", 4)
        assert small == large, (small, large)
        page, api = large
        assert (page, api) == (10, 7), large

    def test_api_channel_accounts_and_dead_letters(self, client, runtime, workspace_id):
        def measure(n: int) -> tuple[int, int]:
            for i in range(n):
                api_account(runtime, workspace_id, name=f"acc-{n}-{i}")
            return (_queries(runtime, lambda: client.get("/api/v1/channel-accounts")),
                    _queries(runtime, lambda: client.get("/api/v1/dead-letters")))

        small, large = measure(1), measure(12)
        assert small == large, (small, large)
        assert large == (2, 3), large
