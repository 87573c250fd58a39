"""The agents' queue order (docs/queues.md): SLA due time (none last), then priority (P1
first), then direct questions before awareness mentions, then longest waiting; `sort=recent`
keeps the older order. Keyset pages neither lose nor repeat a conversation."""

from __future__ import annotations

import html
import itertools
import random
import re
import uuid

from tests.desktop.conftest import Desk
from tests.queue_order.helpers import api_walk, at, conversation, page_ids
from threadline.conversations import inbox, queue
from threadline.conversations.inbox import InboxFilter
from threadline.conversations.models import Conversation
from threadline.workspace.service import create_workspace

MORE = re.compile(r'hx-get="(/inbox/list\?[^"]*cursor=[^"]+)"')


def hand_made(runtime, ws) -> list[uuid.UUID]:
    """Eight conversations, each pair differing on one key only; in the queue's order."""
    return [
        conversation(runtime, ws, due=10, priority=4, waiting=50),  # the earliest due first
        conversation(runtime, ws, due=20, priority=1, relevance="mention", waiting=0),
        # same due time: priority
        conversation(runtime, ws, due=30, priority=2, relevance="mention", waiting=5),
        # same due and priority: the direct question before the mention
        conversation(runtime, ws, due=30, priority=3, relevance="direct", waiting=9),
        conversation(runtime, ws, due=30, priority=3, relevance="mention", waiting=1),
        # no deadline: after every due one, P1 first, then longest waiting
        conversation(runtime, ws, due=None, priority=1, waiting=40),
        conversation(runtime, ws, due=None, priority=4, waiting=-30),
        conversation(runtime, ws, due=None, priority=4, waiting=-20),
    ]


class TestQueueOrder:
    def test_api_lists_the_hand_made_set_in_queue_order(self, runtime, workspace_id, client):
        expected = [str(i) for i in hand_made(runtime, workspace_id)]
        items = client.get("/api/v1/conversations",
                           params={"relevance": "all"}).json()["items"]
        assert [i["id"] for i in items] == expected
        assert [i["priority"] for i in items] == [4, 1, 2, 3, 3, 1, 4, 4]
        assert [i["priority_label"] for i in items][:3] == ["P4", "P1", "P2"]

    def test_desktop_inbox_lists_it_in_the_same_order(self, runtime, workspace_id,
                                                      agent_desk: Desk):
        expected = [str(i) for i in hand_made(runtime, workspace_id)]
        assert page_ids(agent_desk.get("/inbox/list?relevance=all").text) == expected
        # the mentions leave the default queue; the order of the rest is kept
        direct = [expected[i] for i in (0, 3, 5, 6, 7)]
        assert page_ids(agent_desk.get("/inbox/list").text) == direct
        assert page_ids(agent_desk.get("/inbox").text) == direct

    def test_recent_keeps_the_older_order(self, runtime, workspace_id, client,
                                          agent_desk: Desk):
        ids = hand_made(runtime, workspace_id)
        with runtime.db.session(write=False) as s:
            convs = [s.get(Conversation, i) for i in ids]
        newest = [str(c.id) for c in sorted(convs, key=lambda c: (c.last_message_at, c.id),
                                            reverse=True)]
        items = client.get("/api/v1/conversations",
                           params={"sort": "recent", "relevance": "all"}).json()["items"]
        assert [i["id"] for i in items] == newest
        assert page_ids(agent_desk.get("/inbox/list?sort=recent&relevance=all").text) == newest

    def test_a_snoozed_or_resolved_one_is_ordered_the_same_way_in_its_view(
            self, runtime, workspace_id, client):
        late = conversation(runtime, workspace_id, due=50, status="resolved")
        soon = conversation(runtime, workspace_id, due=5, status="resolved")
        items = client.get("/api/v1/conversations", params={"status": "resolved"}).json()
        assert [i["id"] for i in items["items"]] == [str(soon), str(late)]


def random_set(runtime, ws, n: int, seed: int) -> list[uuid.UUID]:
    """Many ties on every key (a few due times, priorities, waits): the id decides last."""
    rnd = random.Random(seed)
    return [conversation(runtime, ws, due=rnd.choice([None, None, 5, 10, 15]),
                         priority=rnd.choice([1, 2, 3, 4]),
                         relevance=rnd.choice(["direct", None]),
                         waiting=rnd.choice([None, 0, 3, 3, 7]))
            for _ in range(n)]


def expected_order(runtime, ids: list[uuid.UUID]) -> list[str]:
    with runtime.db.session(write=False) as s:
        convs = [s.get(Conversation, i) for i in ids]

    def key(c: Conversation) -> tuple:
        due = c.sla_due_at
        return (due is None, due or at(0), c.priority, 0,
                c.last_inbound_at or c.created_at, c.id)
    return [str(c.id) for c in sorted(convs, key=key)]


class TestPagination:
    def test_api_pages_neither_lose_nor_repeat(self, runtime, workspace_id, client):
        expected = expected_order(runtime, random_set(runtime, workspace_id, 90, seed=12))
        for limit in (1, 7, 50, 200):
            assert api_walk(client, limit) == expected, limit
        recent = api_walk(client, 200, sort="recent")
        assert sorted(recent) == sorted(expected) and len(set(recent)) == 90
        assert api_walk(client, 6, sort="recent") == recent

    def test_desktop_load_more_walks_the_whole_queue(self, runtime, workspace_id,
                                                     agent_desk: Desk):
        expected = expected_order(runtime, random_set(runtime, workspace_id, 130, seed=3))
        response = agent_desk.get("/inbox/list?view=all")
        seen = page_ids(response.text)
        while (more := MORE.search(response.text)) is not None:
            response = agent_desk.get(html.unescape(more.group(1)))
            assert response.status_code == 200
            seen.extend(page_ids(response.text))
        assert seen == expected

    def test_a_conversation_changing_keys_between_pages_is_not_repeated(
            self, runtime, workspace_id, client):
        ids = [conversation(runtime, workspace_id, due=i, priority=4) for i in range(6)]
        first = client.get("/api/v1/conversations", params={"limit": 3}).json()
        assert [i["id"] for i in first["items"]] == [str(i) for i in ids[:3]]
        # the first one is raised to P1 and answered later: it stays behind the cursor
        assert client.patch(f"/api/v1/conversations/{ids[0]}",
                            json={"priority": 1}).status_code == 200
        rest = client.get("/api/v1/conversations",
                          params={"limit": 3, "cursor": first["next"]}).json()
        assert [i["id"] for i in rest["items"]] == [str(i) for i in ids[3:]]

    def test_cursors_belong_to_their_order(self, runtime, workspace_id, client):
        for _ in range(3):
            conversation(runtime, workspace_id, due=1)
        queue_next = client.get("/api/v1/conversations", params={"limit": 1}).json()["next"]
        recent_next = client.get("/api/v1/conversations",
                                 params={"limit": 1, "sort": "recent"}).json()["next"]
        for params in ({"cursor": recent_next}, {"cursor": queue_next, "sort": "recent"},
                       {"cursor": "garbage!"}, {"cursor": "WyJxIiwxLDIsM10="}):  # ["q",1,2,3]
            response = client.get("/api/v1/conversations", params=params)
            assert response.status_code == 400, params
            assert response.json()["error"]["code"] == "invalid_cursor"

    def test_another_workspace_is_never_listed(self, runtime, workspace_id, client):
        with runtime.db.session() as s:
            other = create_workspace(s, name="Other", slug=f"o-{uuid.uuid4().hex[:8]}").id
        theirs = conversation(runtime, other, due=0, priority=1)
        ours = conversation(runtime, workspace_id, due=1)
        assert api_walk(client, 1, relevance="all") == [str(ours)]
        assert client.get(f"/api/v1/conversations/{theirs}").status_code == 404


class TestNeighbours:
    def test_j_and_k_follow_the_queue_order(self, runtime, workspace_id, agent_desk: Desk):
        ids = [str(i) for i in hand_made(runtime, workspace_id)]
        direct = [ids[i] for i in (0, 3, 5, 6, 7)]
        for before, after in itertools.pairwise(direct):
            step = agent_desk.get(f"/conversations/{before}/next", follow_redirects=False)
            assert step.headers["location"].startswith(f"/conversations/{after}")
            back = agent_desk.get(f"/conversations/{after}/next?step=-1",
                                  follow_redirects=False)
            assert back.headers["location"].startswith(f"/conversations/{before}")

    def test_another_workspaces_conversation_is_404(self, runtime, workspace_id,
                                                    agent_desk: Desk):
        with runtime.db.session() as s:
            other = create_workspace(s, name="Other", slug=f"o-{uuid.uuid4().hex[:8]}").id
        theirs = conversation(runtime, other, due=0)
        assert agent_desk.get(f"/conversations/{theirs}/next",
                              follow_redirects=False).status_code == 404


class TestIndexReadMatchesTheOrder:
    """`queue.candidates` (branches read from the index) gives exactly the rows the plain
    keyset condition (`queue.seek`, sorting every row) gives, forwards and backwards."""

    def test_from_every_row_in_both_directions(self, runtime, workspace_id):
        rnd = random.Random(8)
        for _ in range(40):
            conversation(runtime, workspace_id, due=rnd.choice([None, 5, 10]),
                         priority=rnd.choice([1, 4]),
                         relevance=rnd.choice(["direct", "mention", None]),
                         waiting=rnd.choice([None, 0, 3]),
                         status=rnd.choice(["open", "pending", "resolved"]))
        now = inbox.utcnow()
        with runtime.db.session(write=False) as s:
            for flt in (InboxFilter(), InboxFilter(view="all", relevance="all"),
                        InboxFilter(view="mentions")):
                rows = [c for c, _ in s.execute(inbox._filtered(workspace_id, flt, now))]
                for conv in rows:
                    values = queue.sort_values("queue", conv)
                    for reverse in (False, True):
                        plain = [c.id for c, _ in s.execute(
                            inbox._filtered(workspace_id, flt, now)
                            .where(queue.seek("queue", values, later=not reverse))
                            .order_by(*queue.order_by("queue", reverse=reverse)).limit(4))]
                        read = [c.id for c, _ in s.execute(
                            inbox._in_order(workspace_id, flt, values, 4, reverse=reverse))]
                        assert read == plain, (flt, reverse)
