"""The sandbox's Discourse answers like the forum (TestClient), and its webhook builders are
signed and shaped so that the adapter takes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from threadline.channels.base import AccountConfig, InboundMessage, WebhookRequest
from threadline.channels.discourse.adapter import DiscourseAdapter
from threadline.sandbox.core import create_app
from threadline.sandbox.providers import discourse as sd

HEADERS = {"Api-Key": "sandbox-key", "Api-Username": "acme_support"}
CONFIG: dict[str, Any] = {"api_base_url": "http://sandbox/discourse", "api_key": "k",
                          "api_username": "acme_support", "webhook_secret": "s3cret-hook"}
ACCOUNT = AccountConfig(id="acct", kind="discourse", name="forum", config=CONFIG)


@pytest.fixture
def forum() -> Iterator[TestClient]:
    with TestClient(create_app(["discourse"])) as client:
        client.post("/discourse/_sandbox/limit", json={"per_minute": 60})
        yield client


def test_reply_as_staff(forum: TestClient) -> None:
    topic = sd.new_topic_id()
    answer = forum.post("/discourse/posts.json", headers=HEADERS,
                        json={"topic_id": topic, "raw": "Thanks, we are looking into it now."})
    assert answer.status_code == 200
    post = answer.json()
    assert post["topic_id"] == topic and post["post_number"] == 2
    found = forum.get(f"/discourse/posts/by_number/{topic}/2.json", headers=HEADERS)
    assert found.json()["id"] == post["id"]
    calls = forum.get("/_sandbox/calls", params={"provider": "discourse"}).json()["calls"]
    [sent] = [c for c in calls if c["path"] == "/posts.json"]
    assert sent["headers"]["api-key"] == "sandbox-key"


def test_errors_like_the_forum(forum: TestClient) -> None:
    refused = forum.post("/discourse/posts.json", json={"topic_id": 1, "raw": "x" * 30})
    assert refused.status_code == 403 and refused.json()["error_type"] == "invalid_access"
    short = forum.post("/discourse/posts.json", headers=HEADERS,
                       json={"topic_id": 1, "raw": "too short"})
    assert short.status_code == 422 and short.json()["error_type"] == "record_invalid"
    forum.post("/discourse/_sandbox/limit", json={"per_minute": 1})
    forum.post("/discourse/posts.json", headers=HEADERS, json={"topic_id": 1, "raw": "y" * 30})
    limited = forum.post("/discourse/posts.json", headers=HEADERS,
                         json={"topic_id": 1, "raw": "z" * 30})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["discourse-rate-limit-error-code"] == "admin_api_key_rate_limit"
    assert limited.json()["extras"]["wait_seconds"] >= 1


def test_accept_solution(forum: TestClient) -> None:
    assert forum.post("/discourse/solution/accept.json", headers=HEADERS,
                      json={"id": 123}).json()["success"] == "OK"
    assert forum.post("/discourse/solution/accept.json", headers=HEADERS,
                      json={}).status_code == 400


def _request(hook: Any) -> WebhookRequest:
    return WebhookRequest("POST", "http://t" + hook.path, hook.headers, {}, hook.body)


def test_builders_are_signed_and_taken_by_the_adapter() -> None:
    adapter = DiscourseAdapter()
    topic, hooks = sd.topic_webhooks("acct", CONFIG, "alice", "My order never arrived",
                                     email="alice@example.com")
    post, reply = sd.post_webhook("acct", CONFIG, topic, "bob", "Ask the carrier.")
    items = []
    for hook in [*hooks, reply, sd.solution_webhook("acct", CONFIG, post),
                 sd.ping_webhook("acct", CONFIG)]:
        adapter.verify(ACCOUNT, _request(hook))
        for event in adapter.split(ACCOUNT, _request(hook)):
            items += adapter.normalize(ACCOUNT, json.loads(json.dumps(event.payload)))
    messages = [i for i in items if isinstance(i, InboundMessage)]
    assert [m.provider_id for m in messages][:2] == [f"{topic}:1", f"{topic}:2"]
    assert messages[0].author.coordinates[0].address == "alice@example.com"
    assert messages[2].meta["discourse_event"] == "accepted_solution"
