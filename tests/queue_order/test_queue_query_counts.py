"""The queue order and the views cost no query more than the inbox did (tests/querycount.py;
tests/desktop/test_query_counts.py holds the inbox's measured counts: 4 per page, 2 per API
list): every order and view, on a small and a larger workspace, counts the same."""

from __future__ import annotations

import random

from tests.desktop.conftest import Desk
from tests.querycount import count_queries
from tests.queue_order.helpers import conversation

URLS = ["", "?sort=recent", "?view=mentions", "?view=chatter", "?relevance=all",
        "?priority=2&sla=24h", "?view=all&assignee=none"]


def _count(runtime, get) -> int:
    with count_queries(runtime) as queries:
        response = get()
    assert response.status_code == 200, response.text
    return queries.count


def test_every_order_and_view_costs_the_same(runtime, workspace_id, client,
                                             agent_desk: Desk) -> None:
    rnd = random.Random(5)

    def measure(n: int) -> list[tuple[int, int]]:
        for _ in range(n):
            conversation(runtime, workspace_id, due=rnd.choice([None, 5, 600]),
                         priority=rnd.choice([1, 2, 3, 4]),
                         relevance=rnd.choice(["direct", "mention", "chatter", None]))
        return [(_count(runtime, lambda u=u: agent_desk.get(f"/inbox/list{u}")),
                 _count(runtime, lambda u=u: client.get(f"/api/v1/conversations{u}")))
                for u in URLS]

    small, large = measure(8), measure(120)
    assert small == large
    assert set(large) == {(4, 2)}, large
