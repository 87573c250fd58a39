"""Dead letters with their reason, retried through the API; SSE with Last-Event-ID replay."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import func, select

from tests.factories import api_account, message_event, post_events
from threadline.conversations.models import Message
from threadline.inbound import batch as batch_module


class TestDeadLetters:
    def test_failing_event_is_dead_lettered_then_retried_after_a_fix(
            self, runtime, workspace_id, client, worker, monkeypatch: pytest.MonkeyPatch):
        acc = api_account(runtime, workspace_id)
        original = batch_module.BatchContext.add_message

        def broken(self, account, item):  # a bug that hits one kind of message
            if "poison" in item.text:
                raise RuntimeError("threading bug")
            return original(self, account, item)

        monkeypatch.setattr(batch_module.BatchContext, "add_message", broken)
        assert post_events(client, acc, [message_event("ok1", text="fine"),
                                         message_event("bad1", text="poison pill")]
                           ).status_code == 200
        deadline = time.monotonic() + 10
        items: list = []
        while time.monotonic() < deadline and not items:
            worker.drain()
            items = client.get("/api/v1/dead-letters").json()["items"]
            time.sleep(0.05)
        assert len(items) == 1
        dead = items[0]
        assert dead["kind"] == "inbound" and dead["name"] == "evt-bad1"
        assert "RuntimeError: threading bug" in dead["reason"]
        with runtime.db.session(write=False) as s:
            pids = set(s.scalars(select(Message.provider_id).where(
                Message.channel_account_id == acc.id)))
        assert pids == {"ok1"}, "the good event of the same batch is not held back"

        monkeypatch.setattr(batch_module.BatchContext, "add_message", original)  # the fix
        resp = client.post(f"/api/v1/dead-letters/inbound/{dead['id']}/retry")
        assert resp.status_code == 202
        worker.drain()
        assert client.get("/api/v1/dead-letters").json()["items"] == []
        with runtime.db.session(write=False) as s:
            count = s.scalar(select(func.count()).select_from(Message).where(
                Message.channel_account_id == acc.id))
        assert count == 2
        again = client.post(f"/api/v1/dead-letters/inbound/{dead['id']}/retry")
        assert again.status_code == 422


def read_sse(url: str, token: str, last_event_id: str | None, want: int,
             timeout: float = 10.0) -> list[dict]:
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    events: list[dict] = []
    current: dict = {}
    with httpx.Client(timeout=timeout) as http:
        with http.stream("GET", f"{url}/api/v1/stream", headers=headers) as resp:
            assert resp.status_code == 200
            for line in resp.iter_lines():
                if line.startswith("id:"):
                    current["id"] = line[3:].strip()
                elif line.startswith("event:"):
                    current["event"] = line[6:].strip()
                elif line.startswith("data:"):
                    current["data"] = json.loads(line[5:].strip())
                elif line == "" and current:
                    events.append(current)
                    current = {}
                    if len(events) >= want:
                        break
    return events


class TestStream:
    def test_live_events_and_last_event_id_replay(self, runtime, workspace_id, token,
                                                  live_server):
        acc = api_account(runtime, workspace_id)
        got: list[dict] = []

        import threading

        def listen() -> None:
            got.extend(read_sse(live_server.url, token, "0", want=1))

        t = threading.Thread(target=listen)
        t.start()
        time.sleep(0.5)
        from tests.factories import body, signed_headers

        raw = body([message_event("live-1", author="s1")])
        assert httpx.post(f"{live_server.url}/webhooks/api/{acc.id}", content=raw,
                          headers=signed_headers(acc, raw)).status_code == 200
        t.join(timeout=15)
        names = [e["event"] for e in got]
        assert "message.created" in names
        first_id = got[0]["id"]
        replay = read_sse(live_server.url, token, str(int(first_id) - 1), want=1)
        assert replay[0]["id"] == first_id

    def test_bad_last_event_id_is_400(self, token, live_server):
        r = httpx.get(f"{live_server.url}/api/v1/stream",
                      headers={"Authorization": f"Bearer {token}", "Last-Event-ID": "abc"})
        assert r.status_code == 400


class TestBusAfterCommit:
    def test_wake_ups_wait_for_the_outer_commit(self, runtime):
        from threadline.db.engine import Database
        from threadline.events.service import notify_after_commit
        from threadline.jobs.bus import install_bus

        published: list[str] = []

        class Recorder:
            def publish(self, topic: str) -> None:
                published.append(topic)

        db = Database(runtime.settings.database_url)
        install_bus(db, Recorder())  # type: ignore[arg-type]
        with db.session() as session:
            notify_after_commit(session, "t1")
            with session.begin_nested():
                pass
            assert published == [], "a savepoint commit is not the commit"
        assert published == ["t1"]
        db.dispose()
