"""The demo's seed for the queue: its tweets go through the X webhook path and triage into the
Mentions, Competitors and Chatter views; the urgent question stays in the queue."""

from __future__ import annotations

from threadline.demo.run import ensure_accounts
from threadline.demo.seed_queue import seed_queue


def test_the_demo_fills_each_view(runtime, workspace_id, client, worker, sandbox) -> None:
    accounts = ensure_accounts(runtime, workspace_id, sandbox.url)
    seed_queue(runtime, workspace_id, accounts)
    worker.drain()

    def listed(**params: str) -> list[tuple[str | None, int]]:
        response = client.get("/api/v1/conversations", params=params)
        assert response.status_code == 200, response.text
        return [(i["relevance"], i["priority"]) for i in response.json()["items"]]

    assert listed(view="mentions") == [("mention", 4)] * 2
    assert listed(view="competitors") == [("competitor", 4)]
    assert listed(view="chatter") == [("chatter", 3)]  # triage reads some urgency in it
    assert listed() == [("direct", 2)]  # the hacked account: urgent, in the queue
