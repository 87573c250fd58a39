"""Fixtures of the web chat tests: Threadline over real HTTP (uvicorn with its embedded worker),
a web chat account, and a visitor's and an agent's HTTP clients."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import func, select

from threadline.events.models import InboundEvent
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import create_channel_account

T = TypeVar("T")
ORIGIN = "https://shop.example"


def wait_for(probe: Callable[[], T | None], timeout: float = 15.0,
             what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class SseReader:
    """Reads a server-sent event stream in a thread; tests wait for the events they expect."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.headers = headers
        self.events: list[dict[str, Any]] = []
        self.status: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SseReader:
        self._thread.start()
        wait_for(lambda: any(e["event"] == "ready" for e in self.events), 10, "stream ready")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        """Reads until stopped; a short read timeout lets it notice the stop, and it then
        reconnects with Last-Event-ID as a browser would (which also exercises replay)."""
        last_id: str | None = None
        while not self._stop.is_set():
            headers = dict(self.headers)
            if last_id:
                headers["last-event-id"] = last_id
            current: dict[str, Any] = {}
            try:
                with httpx.Client(timeout=httpx.Timeout(5.0, read=0.5)) as http, \
                        http.stream("GET", self.url, headers=headers) as resp:
                    self.status = resp.status_code
                    for line in resp.iter_lines():
                        if line.startswith("id:"):
                            current["id"] = last_id = line[3:].strip()
                        elif line.startswith("event:"):
                            current["event"] = line[6:].strip()
                        elif line.startswith("data:"):
                            current["data"] = json.loads(line[5:].strip())
                        elif line == "" and current:
                            current.setdefault("event", "message")
                            self.events.append(current)
                            current = {}
                        if self._stop.is_set():
                            return
            except httpx.ReadTimeout:
                continue

    def messages(self) -> list[dict[str, Any]]:
        return [e["data"] for e in self.events if e["event"] == "message"]

    def wait_message(self, predicate: Callable[[dict[str, Any]], bool],
                     timeout: float = 15.0) -> dict[str, Any]:
        return wait_for(lambda: next((m for m in self.messages() if predicate(m)), None),
                        timeout, "a stream message")


class Chat:
    """One web chat account on a live Threadline, seen by visitors and by an agent."""

    def __init__(self, runtime: Runtime, server: Any, workspace_id: uuid.UUID, token: str,
                 config: dict[str, Any]) -> None:
        self.runtime = runtime
        self.server = server
        self.workspace_id = workspace_id
        with runtime.db.session() as session:
            self.account = create_channel_account(session, workspace_id, kind="webchat",
                                                  name="Acme chat", config=config)
        self.id = str(self.account.id)
        self.base = f"{server.url}/webchat/{self.id}"
        self.http = httpx.Client(timeout=10)
        self.root = httpx.Client(base_url=server.url, timeout=10)
        self.api = httpx.Client(base_url=server.url + "/api/v1", timeout=10,
                                headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self.http.close()
        self.root.close()
        self.api.close()

    # --- visitor side -----------------------------------------------------------------------

    def session(self, body: dict[str, Any] | None = None, *, token: str | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        extra = dict(headers or {})
        if token:
            extra["x-visitor-token"] = token
        return self.http.post(f"{self.base}/session", json=body or {}, headers=extra)

    def start(self, body: dict[str, Any] | None = None) -> str:
        answer = self.session(body)
        assert answer.status_code == 201, answer.text
        token: str = answer.json()["token"]
        return token

    def say(self, token: str, text: str, echo_id: str | None = None,
            **extra: Any) -> httpx.Response:
        return self.http.post(f"{self.base}/messages",
                              json={"text": text, "echo_id": echo_id or secrets.token_hex(8),
                                    **extra},
                              headers={"x-visitor-token": token})

    def history(self, token: str) -> httpx.Response:
        return self.http.get(f"{self.base}/history", headers={"x-visitor-token": token})

    def stream(self, token: str) -> SseReader:
        return SseReader(f"{self.base}/stream", {"x-visitor-token": token})

    # --- agent side -------------------------------------------------------------------------

    def conversation_with(self, text: str) -> dict[str, Any]:
        """Wait until a conversation of this workspace holds a message with `text`."""

        def probe() -> dict[str, Any] | None:
            for item in self.api.get("/conversations").json()["items"]:
                detail = self.api.get(f"/conversations/{item['id']}").json()
                if any(m["text"] == text for m in detail["messages"]):
                    return detail  # type: ignore[no-any-return]
            return None

        return wait_for(probe, what=f"a conversation with {text!r}")

    def reply(self, conversation_id: str, text: str, **extra: Any) -> httpx.Response:
        return self.api.post(f"/conversations/{conversation_id}/messages",
                             json={"text": text, "visibility": "private", **extra})

    def stored_events(self) -> int:
        with self.runtime.db.session(write=False) as session:
            return int(session.scalar(select(func.count()).select_from(InboundEvent).where(
                InboundEvent.channel_account_id == self.account.id)) or 0)


HMAC_SECRET = "host-site-shared-secret"


@pytest.fixture
def chat_config() -> dict[str, Any]:
    return {"hmac_secret": HMAC_SECRET, "allowed_origins": [ORIGIN]}


@pytest.fixture
def chat(runtime: Runtime, live_server: Any, workspace_id: uuid.UUID, token: str,
         chat_config: dict[str, Any]) -> Iterator[Chat]:
    c = Chat(runtime, live_server, workspace_id, token, chat_config)
    yield c
    c.close()
