"""Awareness mentions, competitor mentions and chatter are never in the agents' queue by
default: they have their own views (desktop tabs, API `view=` and `relevance=`). Direct
questions and private messages stay in the queue. Relevance and priority come from triage."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from tests.desktop.conftest import Desk
from tests.factories import api_account, message_event, post_events
from tests.queue_order.helpers import conversation, page_ids
from threadline.conversations.models import Conversation, Message
from threadline.inbound.enrich import priority_for
from threadline.workspace.models import ChannelAccount

TEXTS = {
    "direct": "@acme where is my order 123? it is late",
    "mention": "love the new @acme store, great job",
    "competitor": "@rivalco has better prices honestly",
    "chatter": "nice weather today",
}


def brand_account(runtime, workspace_id):
    account = api_account(runtime, workspace_id)
    with runtime.db.session() as s:
        stored = s.get(ChannelAccount, account.id)
        stored.config = {**stored.config, "brand_handles": ["acme"],
                         "competitor_handles": ["rivalco"]}
    return account


def deliver(client, worker, account, *events) -> None:
    assert post_events(client, account, list(events)).status_code == 200
    worker.drain()


def conv_of(runtime, workspace_id, provider_id: str) -> Conversation:
    """The conversation of this workspace's message `provider_id` (other tests on the same
    database use the same provider ids in their own workspaces)."""
    with runtime.db.session(write=False) as s:
        conv = s.scalar(select(Conversation).join(Message, Message.conversation_id
                                                  == Conversation.id)
                        .where(Message.workspace_id == workspace_id,
                               Message.provider_id == provider_id))
        assert conv is not None
        return conv


@pytest.fixture
def four(runtime, workspace_id, client, worker) -> dict[str, str]:
    """One conversation of each relevance, through the webhook and triage."""
    account = brand_account(runtime, workspace_id)
    deliver(client, worker, account, *[
        message_event(f"{kind}-{workspace_id}", author=f"a-{kind}", text=text,
                      thread_key=f"t-{kind}") for kind, text in TEXTS.items()])
    return {kind: str(conv_of(runtime, workspace_id, f"{kind}-{workspace_id}").id)
            for kind in TEXTS}


class TestRelevanceFromTriage:
    def test_each_conversation_carries_its_messages_relevance(self, runtime, four):
        for kind, conv_id in four.items():
            with runtime.db.session(write=False) as s:
                assert s.get(Conversation, uuid.UUID(conv_id)).relevance == kind

    def test_a_direct_question_is_at_least_p3(self, runtime, four):
        assert priority_for(0.0, "direct") == 3
        assert priority_for(0.0, "chatter") == 4
        assert priority_for(0.9, "chatter") == 1
        assert priority_for(0.6, "mention") == 2
        with runtime.db.session(write=False) as s:
            assert s.get(Conversation, uuid.UUID(four["direct"])).priority <= 3
            assert s.get(Conversation, uuid.UUID(four["mention"])).priority == 4

    def test_a_conversation_keeps_its_most_relevant_and_most_urgent_message(
            self, runtime, workspace_id, client, worker):
        account = brand_account(runtime, workspace_id)
        deliver(client, worker, account,
                message_event("m1", author="ann", text=TEXTS["mention"]),
                message_event("m2", author="ann", minutes=1, in_reply_to="m1",
                              text="@acme my account was hacked, urgent help!!"),
                message_event("m3", author="ann", minutes=2, in_reply_to="m2",
                              text=TEXTS["chatter"]))
        conv = conv_of(runtime, workspace_id, "m1")
        assert conv_of(runtime, workspace_id, "m3").id == conv.id
        assert conv.relevance == "direct"
        assert conv.priority == 2  # the hacked account's urgency; the later chatter keeps it

    def test_a_private_message_is_direct_whatever_it_says(self, runtime, workspace_id,
                                                          client, worker):
        account = brand_account(runtime, workspace_id)
        deliver(client, worker, account, message_event(
            "dm-1", author="bo", text=TEXTS["chatter"], visibility="private",
            thread_key="dm-bo"))
        conv = conv_of(runtime, workspace_id, "dm-1")
        assert conv.relevance == "direct" and conv.priority == 3
        items = client.get("/api/v1/conversations").json()["items"]
        assert [i["id"] for i in items] == [str(conv.id)]


class TestViewsInTheApi:
    def test_the_default_list_is_the_queue(self, client, four):
        items = client.get("/api/v1/conversations").json()["items"]
        assert [i["id"] for i in items] == [four["direct"]]
        assert items[0]["relevance"] == "direct"

    @pytest.mark.parametrize(("view", "kind"), [("mentions", "mention"),
                                                ("competitors", "competitor"),
                                                ("chatter", "chatter")])
    def test_each_relevance_has_its_view(self, client, four, view, kind):
        items = client.get("/api/v1/conversations", params={"view": view}).json()["items"]
        assert [(i["id"], i["relevance"]) for i in items] == [(four[kind], kind)]
        items = client.get("/api/v1/conversations", params={"relevance": kind}).json()["items"]
        assert [i["id"] for i in items] == [four[kind]]

    def test_relevance_all_and_a_customers_history_show_every_one(self, runtime, client,
                                                                  four):
        items = client.get("/api/v1/conversations", params={"relevance": "all"}).json()
        assert sorted(i["id"] for i in items["items"]) == sorted(four.values())
        with runtime.db.session(write=False) as s:
            customer = s.get(Conversation, uuid.UUID(four["mention"])).customer_id
        items = client.get("/api/v1/conversations",
                           params={"customer_id": str(customer)}).json()["items"]
        assert [i["id"] for i in items] == [four["mention"]]
        detail = client.get(f"/api/v1/customers/{customer}").json()
        assert [c["id"] for c in detail["conversations"]] == [four["mention"]]

    @pytest.mark.parametrize(("param", "value"), [("view", "everything"),
                                                  ("relevance", "spam"),
                                                  ("sort", "oldest"), ("priority", "0"),
                                                  ("priority", "5"), ("priority", "P1")])
    def test_a_bad_filter_is_a_422_naming_it(self, client, param, value):
        response = client.get("/api/v1/conversations", params={param: value})
        assert response.status_code == 422, response.text
        assert param in response.text


class TestViewsInTheDesktop:
    def test_the_inbox_holds_the_queue_and_the_tabs_count_the_views(self, agent_desk: Desk,
                                                                     four):
        page = agent_desk.get("/inbox").text
        assert page_ids(page) == [four["direct"]]
        for view in ("mentions", "competitors", "chatter"):
            assert re.search(rf'href="/inbox\?view={view}">\w+ <span class="count" '
                             rf'id="count-{view}" data-count="{view}">1</span>', page), view
        assert 'data-count="active">1<' in page
        # a refreshed list brings the counts along, out of band (the tabs follow it live)
        listed = agent_desk.get("/inbox/list").text
        for view in ("active", "mentions", "competitors", "chatter"):
            assert (f'id="count-{view}" data-count="{view}" hx-swap-oob="true">1<'
                    in listed), view
        assert "hx-swap-oob" not in agent_desk.get("/inbox/list?cursor=x").text

    @pytest.mark.parametrize(("view", "kind"), [("mentions", "mention"),
                                                ("competitors", "competitor"),
                                                ("chatter", "chatter")])
    def test_each_view_lists_its_relevance(self, agent_desk: Desk, four, view, kind):
        page = agent_desk.get(f"/inbox?view={view}").text
        assert page_ids(page) == [four[kind]]
        assert page_ids(agent_desk.get(f"/inbox/list?view={view}").text) == [four[kind]]

    def test_mine_and_unassigned_count_only_the_queue(self, runtime, workspace_id,
                                                      agent_desk: Desk):
        me = agent_desk.agent.id
        conversation(runtime, workspace_id, relevance="mention", assignee_id=me)
        conversation(runtime, workspace_id, relevance="chatter")
        mine = conversation(runtime, workspace_id, relevance="direct", assignee_id=me)
        conversation(runtime, workspace_id, relevance=None)  # started by an agent: queued
        page = agent_desk.get("/inbox").text
        assert "Mine (1)" in page and "Unassigned (1)" in page
        assert page_ids(agent_desk.get("/inbox/list?assignee=me").text) == [str(mine)]

    @pytest.mark.parametrize("query", ["view=everything", "relevance=spam", "sort=oldest",
                                       "priority=0", "priority=5", "priority=-1",
                                       "priority=high"])
    def test_a_bad_filter_is_a_422(self, agent_desk: Desk, query):
        assert agent_desk.get(f"/inbox/list?{query}").status_code == 422
