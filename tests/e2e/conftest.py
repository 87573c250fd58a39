"""End to end through real HTTP: the sandbox's signed webhooks are POSTed to Threadline running
under uvicorn (with its embedded worker), the REST API is read and written over HTTP, and the
sender's provider calls land on the sandbox (also uvicorn), whose recorder the tests read."""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from threadline.sandbox.core import SignedWebhook

T = TypeVar("T")
WAIT_SECONDS = 30.0  # a failure bound: on a loaded 2-core CI run a worker may first finish
# the jobs that earlier tests left in the same database (15 s was missed there)


def tag() -> str:
    """Ten random letters: unique, and never mistaken for a phone number by the PII guard."""
    return "".join(random.choices(string.ascii_lowercase, k=10))


def wait_for(probe: Callable[[], T | None], timeout: float = WAIT_SECONDS,
             what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class E2E:
    """Threadline (live) + the provider sandbox (live), as seen from outside."""

    def __init__(self, server: Any, sandbox: Any, token: str) -> None:
        self.server = server
        self.sandbox = sandbox
        self.api = httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
        self.http = httpx.Client(timeout=30)
        self.tag = tag()  # makes texts unique across tests (sandbox state)

    def close(self) -> None:
        self.api.close()
        self.http.close()

    # --- accounts and webhooks --------------------------------------------------------------

    def sandbox_url(self, prefix: str) -> str:
        return self.sandbox.url + prefix

    def account(self, kind: str, config: dict[str, Any], name: str | None = None) -> str:
        answer = self.api.post("/channel-accounts", json={"kind": kind, "name": name or kind,
                                                          "config": config})
        assert answer.status_code == 201, answer.text
        account_id: str = answer.json()["id"]
        # The 201 can leave before the commit (FastAPI closes yield-dependencies after the
        # response): wait until the account is visible before providers post to it.
        wait_for(lambda: self.api.get(f"/channel-accounts/{account_id}/traits")
                 .status_code == 200, what="account commit")
        return account_id

    def post(self, hook: SignedWebhook, *, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> httpx.Response:
        return self.http.request(hook.method, self.server.url + hook.path,
                                 content=hook.body if body is None else body,
                                 headers=hook.headers if headers is None else headers)

    # --- conversations ----------------------------------------------------------------------

    def conversations(self, **params: Any) -> list[dict[str, Any]]:
        answer = self.api.get("/conversations", params=params)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        answer = self.api.get(f"/conversations/{conversation_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def wait_message(self, provider_id: str, **params: Any) -> tuple[dict[str, Any],
                                                                     dict[str, Any]]:
        """Wait until a message with `provider_id` is visible; (conversation, message)."""
        def probe() -> tuple[dict[str, Any], dict[str, Any]] | None:
            for item in self.conversations(**params):
                conv = self.conversation(item["id"])
                for message in conv["messages"]:
                    if message["provider_id"] == provider_id:
                        return conv, message
            return None
        return wait_for(probe, what=f"message {provider_id}")

    def reply(self, conversation_id: str, text: str, **body: Any) -> httpx.Response:
        return self.api.post(f"/conversations/{conversation_id}/messages",
                             json={"text": text, **body})

    def sent(self, conversation_id: str, text: str, visibility: str = "public",
             **body: Any) -> dict[str, Any]:
        answer = self.reply(conversation_id, text, visibility=visibility, **body)
        assert answer.status_code == 201, answer.text
        message: dict[str, Any] = answer.json()
        return message

    def message(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        conv = self.conversation(conversation_id)
        found = [m for m in conv["messages"] if m["id"] == message_id]
        assert found, f"message {message_id} not in conversation {conv}"
        return found[0]

    def wait_delivery(self, conversation_id: str, message_id: str,
                      states: tuple[str, ...] = ("sent",)) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            # The REST answer may reach us a moment before its commit (FastAPI closes
            # yield-dependencies after sending the response), so "not there yet" is waited.
            conv = self.conversation(conversation_id)
            found = [m for m in conv["messages"] if m["id"] == message_id]
            return found[0] if found and found[0]["delivery"] in states else None
        return wait_for(probe, what=f"delivery {states} of {message_id}")

    # --- the sandbox ------------------------------------------------------------------------

    def calls(self, provider: str, *, method: str | None = None,
              path_contains: str = "", text: str | None = None) -> list[dict[str, Any]]:
        answer = self.http.get(self.sandbox.url + "/_sandbox/calls",
                               params={"provider": provider})
        found: list[dict[str, Any]] = [
            c for c in answer.json()["calls"]
            if (method is None or c["method"] == method) and path_contains in c["path"]
            and (text is None or text in c["body"])]
        return found

    def fault(self, provider: str, path_contains: str, status: int, *, count: int = 1,
              retry_after: float | None = None, body: Any = None) -> None:
        answer = self.http.post(self.sandbox.url + "/_sandbox/faults", json={
            "provider": provider, "path_contains": path_contains, "status": status,
            "count": count, "retry_after": retry_after, "body": body})
        assert answer.status_code == 200


@pytest.fixture
def e2e(live_server: Any, sandbox: Any, token: str) -> Iterator[E2E]:
    harness = E2E(live_server, sandbox, token)
    yield harness
    harness.close()
