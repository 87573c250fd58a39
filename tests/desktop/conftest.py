"""Desktop fixtures: agents with a known password, and signed-in HTTP clients."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.log_scan import remember
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import create_agent

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple"
remember(PASSWORD)


@dataclass
class DeskAgent:
    id: uuid.UUID
    email: str
    password: str
    role: str


def make_agent(runtime: Runtime, workspace_id: uuid.UUID, role: str = "agent",
               name: str | None = None) -> DeskAgent:
    email = f"{role}-{uuid.uuid4().hex[:10]}@desk.example"
    with runtime.db.session() as session:
        agent, _ = create_agent(session, workspace_id, email=email, role=role, name=name,
                                password=PASSWORD)
        return DeskAgent(agent.id, email, PASSWORD, role)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: TestClient, agent: DeskAgent, password: str | None = None) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"email": agent.email, "password": password or
                                       agent.password, "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


class Desk:
    """A signed-in browser-like client: keeps cookies and the session's CSRF token."""

    def __init__(self, client: TestClient, agent: DeskAgent) -> None:
        self.client = client
        self.agent = agent
        response = sign_in(client, agent)
        assert response.status_code == 303, response.text
        self.csrf = self._csrf()

    def _csrf(self) -> str:
        page = self.client.get("/inbox")
        match = re.search(r'data-csrf="([^"]+)"', page.text)
        assert match
        return match.group(1)

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False,
             csrf: bool = True, **kw: Any) -> Any:
        payload = dict(data or {})
        if csrf:
            payload["csrf_token"] = self.csrf
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(url, data=payload, headers=headers, follow_redirects=False,
                                **kw)


def desk_for(app: Any, runtime: Runtime, workspace_id: uuid.UUID, role: str,
             name: str | None = None) -> Desk:
    client = TestClient(app)
    return Desk(client, make_agent(runtime, workspace_id, role, name))


@pytest.fixture
def agent_desk(app: Any, runtime: Runtime, workspace_id: uuid.UUID) -> Desk:
    return desk_for(app, runtime, workspace_id, "agent", "Ada Agent")


@pytest.fixture
def admin_desk(app: Any, runtime: Runtime, workspace_id: uuid.UUID) -> Desk:
    return desk_for(app, runtime, workspace_id, "admin", "Alma Admin")


@pytest.fixture
def supervisor_desk(app: Any, runtime: Runtime, workspace_id: uuid.UUID) -> Desk:
    return desk_for(app, runtime, workspace_id, "supervisor", "Sam Supervisor")
