"""The demo's listening seed: the search finds its three public posts through the sandbox, one
of them a competitor's customer waiting 40 minutes (an opportunity), and the retweet and the
promotion it delivers by webhook are filtered, not in the queue."""

from __future__ import annotations

from typing import Any

from threadline.demo.run import ensure_accounts
from threadline.demo.seed_listening import seed_listening


def test_the_demo_shows_listening_an_opportunity_and_noise(runtime: Any, workspace_id: Any,
                                                           client: Any, worker: Any,
                                                           sandbox: Any) -> None:
    accounts = ensure_accounts(runtime, workspace_id, sandbox.url)
    seed_listening(runtime, workspace_id, accounts)
    worker.drain()
    worker.drain()  # the search's events are processed after the search job stored them

    def items(path: str, **params: str) -> list[dict[str, Any]]:
        response = client.get(f"/api/v1/listening/{path}", params=params)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["items"]
        return found

    heard = items("posts")
    assert sorted(p["author_handle"] for p in heard) == ["@dana_flies", "@gus_travels",
                                                         "@lea_m"]
    assert [o["post"]["author_handle"] for o in items("opportunities")] == ["@dana_flies"]
    assert sorted(p["noise_reason"] for p in items("posts", view="filtered")) == [
        "promotion", "retweet"]
    queue = client.get("/api/v1/conversations", params={"relevance": "all"}).json()["items"]
    assert queue == []  # nothing of it reached a conversation
