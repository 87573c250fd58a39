"""CSAT fixtures: the e2e harness (Threadline and the provider sandbox over real HTTP) with
the survey helpers: turn surveys on, resolve, wait for the survey and its answer."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.desktop.conftest import admin_desk, agent_desk, supervisor_desk  # noqa: F401
from tests.e2e.conftest import E2E, wait_for
from tests.factories import BASE_TIME, api_account, message_event, post_events, text_tag
from threadline.conversations.models import Conversation
from threadline.csat.models import CsatSurvey
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent, OutboxJob
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker

PAGE_ID = "1234567890"
PHONE_ID = "106540352242922"


def some_id(digits: int = 15) -> str:
    return str(random.randrange(10 ** (digits - 1), 10**digits))


class Csat(E2E):
    def __init__(self, server: Any, sandbox: Any, token: str, runtime: Runtime,
                 workspace_id: uuid.UUID) -> None:
        super().__init__(server, sandbox, token)
        self.runtime = runtime
        self.workspace_id = workspace_id

    def enable(self, **settings: Any) -> dict[str, Any]:
        body = {"enabled": True, "delay_minutes": 0, **settings}
        answer = self.api.put("/csat/settings", json=body)
        assert answer.status_code == 200, answer.text
        saved: dict[str, Any] = answer.json()
        return saved

    def meta_config(self, **extra: Any) -> dict[str, Any]:
        return {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                "access_token": "EAAG-token", "api_base_url": self.sandbox_url("/meta"),
                **extra}

    def resolve(self, conversation_id: str) -> None:
        answer = self.api.patch(f"/conversations/{conversation_id}",
                                json={"status": "resolved"})
        assert answer.status_code == 200, answer.text

    def surveys(self, conversation_id: str) -> list[dict[str, Any]]:
        answer = self.api.get("/csat/surveys", params={"conversation_id": conversation_id})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    def wait_survey(self, conversation_id: str, status: str = "sent") -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            found = [s for s in self.surveys(conversation_id) if s["status"] == status]
            return found[0] if found else None
        return wait_for(probe, what=f"a {status} survey of {conversation_id}")

    def survey_message(self, conversation_id: str) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            found = [m for m in self.conversation(conversation_id)["messages"]
                     if (m.get("meta") or {}).get("csat") and m["delivery"] != "pending"]
            return found[0] if found else None
        return wait_for(probe, what="the survey message sent")

    def audits(self, action: str) -> list[dict[str, Any]]:
        from threadline.events.models import AuditEvent

        with self.runtime.db.session(write=False) as s:
            return [{"subject_id": a.subject_id, "data": a.data} for a in s.scalars(
                select(AuditEvent).where(AuditEvent.workspace_id == self.workspace_id,
                                         AuditEvent.action == action)
                .order_by(AuditEvent.id))]

    def conversation_count(self) -> int:
        with self.runtime.db.session(write=False) as s:
            return int(s.scalar(select(func.count()).select_from(Conversation).where(
                Conversation.workspace_id == self.workspace_id)) or 0)


@pytest.fixture
def csat(live_server: Any, sandbox: Any, token: str, runtime: Runtime,
         workspace_id: uuid.UUID) -> Iterator[Csat]:
    harness = Csat(live_server, sandbox, token, runtime, workspace_id)
    yield harness
    harness.close()


# --- the generic API channel, in process, with the worker driven by the test ---------------

PUBLIC_URL = "https://support.example"


@pytest.fixture
def linked(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(
        update={"public_url": PUBLIC_URL}))


class Flow:
    def __init__(self, runtime: Runtime, client: TestClient, worker: Worker, sandbox: Any,
                 workspace_id: uuid.UUID) -> None:
        self.runtime, self.client, self.worker = runtime, client, worker
        self.workspace_id = workspace_id
        self.sandbox = sandbox
        self.tag = text_tag()
        self.account = api_account(runtime, workspace_id,
                                   outbound_url=f"{sandbox.url}/api/outbound")
        self.minutes = (utcnow() - BASE_TIME).total_seconds() / 60  # messages written now

    def enable(self, **settings: Any) -> None:
        answer = self.client.put("/api/v1/csat/settings",
                                 json={"enabled": True, "delay_minutes": 0, **settings})
        assert answer.status_code == 200, answer.text

    def writes(self, text: str, *, author: str = "cust-1", visibility: str = "private",
               in_reply_to: str | None = None) -> str:
        pid = f"m-{uuid.uuid4().hex[:10]}"
        event = message_event(pid, author=author, text=text, visibility=visibility,
                              thread_key=f"dm:{author}" if visibility == "private" else None,
                              in_reply_to=in_reply_to, minutes=self.minutes)
        assert post_events(self.client, self.account, [event]).status_code == 200
        self.worker.drain()
        return pid

    def conversation_of(self, pid: str) -> dict[str, Any]:
        for item in self.client.get("/api/v1/conversations").json()["items"]:
            conv: dict[str, Any] = self.client.get(f"/api/v1/conversations/{item['id']}").json()
            if any(m["provider_id"] == pid for m in conv["messages"]):
                return conv
        raise AssertionError(f"no conversation holds {pid}")

    def reply(self, conversation_id: str, text: str, visibility: str = "private") -> None:
        answer = self.client.post(f"/api/v1/conversations/{conversation_id}/messages",
                                  json={"text": text, "visibility": visibility})
        assert answer.status_code == 201, answer.text
        self.worker.drain()

    def resolve(self, conversation_id: str) -> None:
        answer = self.client.patch(f"/api/v1/conversations/{conversation_id}",
                                   json={"status": "resolved"})
        assert answer.status_code == 200, answer.text
        self.worker.drain()

    def surveys(self, conversation_id: str | None = None) -> list[CsatSurvey]:
        with self.runtime.db.session(write=False) as s:
            stmt = select(CsatSurvey).where(CsatSurvey.workspace_id == self.workspace_id)
            if conversation_id:
                stmt = stmt.where(CsatSurvey.conversation_id == uuid.UUID(conversation_id))
            return list(s.scalars(stmt.order_by(CsatSurvey.sent_at)))

    def skipped(self) -> list[str]:
        with self.runtime.db.session(write=False) as s:
            return [a.data["reason"] for a in s.scalars(select(AuditEvent).where(
                AuditEvent.workspace_id == self.workspace_id,
                AuditEvent.action == "csat.skipped").order_by(AuditEvent.id))]

    def outbound(self) -> list[dict[str, Any]]:
        calls = httpx.get(f"{self.sandbox.url}/_sandbox/calls", params={"provider": "api"})
        return [c["json"] for c in calls.json()["calls"]
                if c["json"] and str(c["json"].get("recipient", "")).endswith(self.tag)]

    def jobs(self, name: str) -> list[OutboxJob]:
        with self.runtime.db.session(write=False) as s:
            return list(s.scalars(select(OutboxJob).where(
                OutboxJob.workspace_id == self.workspace_id, OutboxJob.name == name)))

    def due_now(self, name: str) -> None:
        """A timer's time has come (the clock moved on)."""
        with self.runtime.db.session() as s:
            s.execute(update(OutboxJob).where(OutboxJob.workspace_id == self.workspace_id,
                                              OutboxJob.name == name,
                                              OutboxJob.status == "pending")
                      .values(due_at=utcnow() - timedelta(seconds=1)))
        self.worker.drain()


@pytest.fixture
def flow(runtime: Runtime, client: TestClient, worker: Worker, sandbox: Any,
         workspace_id: uuid.UUID) -> Flow:
    return Flow(runtime, client, worker, sandbox, workspace_id)



__all__ = ["PAGE_ID", "PHONE_ID", "PUBLIC_URL", "Csat", "Flow", "some_id", "wait_for"]
