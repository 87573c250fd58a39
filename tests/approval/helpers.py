"""Shared steps of the approval tests: a public conversation on an API account whose
outbound URL is the provider sandbox, agents with tokens of their own, and what the sandbox
received."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests import log_scan
from tests.factories import api_account, message_event, post_events
from threadline.conversations.models import Conversation, Message
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import create_agent, create_token


@dataclass
class Person:
    id: uuid.UUID
    token: str
    role: str


def person(runtime: Runtime, workspace_id: uuid.UUID, role: str, *, name: str | None = None,
           in_training: bool = False, may_post_public: bool = True) -> Person:
    with runtime.db.session() as session:
        agent, _ = create_agent(session, workspace_id, role=role, name=name or role.title(),
                                email=f"{role}-{uuid.uuid4().hex[:8]}@approval.example",
                                password="correct horse battery staple")
        agent.in_training = in_training
        agent.may_post_public = may_post_public
        _, plain = create_token(session, workspace_id, role=role, agent_id=agent.id)
    log_scan.remember(plain)
    return Person(agent.id, plain, role)


def as_(client: TestClient, who: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.token}"}


def sandbox_calls(sandbox: Any, marker: str | None = None) -> list[dict[str, Any]]:
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "api"}).json()["calls"]
    if marker is None:
        return list(calls)
    return [c for c in calls if c["json"] and marker in str(c["json"].get("text", ""))]


def public_conversation(runtime: Runtime, workspace_id: uuid.UUID, client: TestClient,
                        worker: Any, sandbox: Any, *, pid: str | None = None,
                        text: str = "When do you open on Sunday?") -> Conversation:
    account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
    pid = pid or f"p-{uuid.uuid4().hex[:10]}"
    assert post_events(client, account, [message_event(pid, author=f"c-{pid}",
                                                       text=text)]).status_code == 200
    worker.drain()
    with runtime.db.session(write=False) as session:
        conv = session.scalar(select(Conversation).join(
            Message, Message.conversation_id == Conversation.id)
            .where(Message.provider_id == pid))
        assert conv is not None
        return conv


def reply(client: TestClient, who: Person, conv_id: uuid.UUID, text: str,
          visibility: str = "public") -> Any:
    return client.post(f"/api/v1/conversations/{conv_id}/messages", headers=as_(client, who),
                       json={"text": text, "visibility": visibility})


def set_policy(client: TestClient, **parts: Any) -> None:
    response = client.put("/api/v1/settings/approval-policy", json=parts)
    assert response.status_code == 200, response.text


def pending(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/approvals")
    assert response.status_code == 200, response.text
    return list(response.json()["approvals"])
