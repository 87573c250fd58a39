"""What an attacker tries on incidents: another workspace's incident ids (404), an agent
declaring, answering or approving (403), approving one's own answer under a holding approval
policy (403 `own_reply`), an answer with personal data (422 `pii_public`) or script in it
(stored as text, shown escaped), oversized titles, texts and id lists (422 naming the field),
a text too long for X in an incident with X posts, and the desktop's forms without the role
or the CSRF token."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.desktop.conftest import desk_for
from tests.factories import text_tag
from tests.incidents.helpers import api_account, incidents, post_texts, supervisor_token
from threadline.conversations.service import SYSTEM
from threadline.incidents.samples import outage_posts
from threadline.outbound.approval_rules import ApprovalPolicy, set_approval_policy
from threadline.workspace import service as workspace_service


def client_for(app: Any, token: str) -> TestClient:
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


@pytest.fixture
def incident_id(runtime: Any, worker: Any, workspace_id: uuid.UUID) -> uuid.UUID:
    account = api_account(runtime, workspace_id)
    post_texts(runtime, account, outage_posts(14, seed=31), prefix=text_tag(6))
    worker.drain()
    [incident] = incidents(runtime, workspace_id)
    return incident.id


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


class TestOtherWorkspace:
    def test_every_route_answers_404_for_another_workspaces_incident(
            self, runtime, app, incident_id) -> None:
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}")
        intruder, _ = supervisor_token(runtime, other.id)
        client = client_for(app, intruder)
        base = f"/api/v1/incidents/{incident_id}"
        assert client.get(base).status_code == 404
        assert client.post(f"{base}/confirm").status_code == 404
        assert client.post(f"{base}/dismiss").status_code == 404
        assert client.put(f"{base}/answer", json={"text": "hi"}).status_code == 404
        assert client.post(f"{base}/answer/approve").status_code == 404
        assert client.post(f"{base}/close", json={"text": "done"}).status_code == 404
        assert client.get("/api/v1/incidents").json()["incidents"] == []

    def test_declaring_with_another_workspaces_conversations_is_a_404(
            self, runtime, app, worker, workspace_id) -> None:
        account = api_account(runtime, workspace_id)
        post_texts(runtime, account, ["@shop my parcel is late"], prefix="own")
        worker.drain()
        from sqlalchemy import select

        from threadline.conversations.models import Conversation
        with runtime.db.session(write=False) as s:
            conv = s.scalar(select(Conversation.id).where(
                Conversation.workspace_id == workspace_id))
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}")
        intruder, _ = supervisor_token(runtime, other.id)
        answer = client_for(app, intruder).post("/api/v1/incidents", json={
            "title": "Not yours", "conversation_ids": [str(conv)]})
        assert answer.status_code == 404


class TestRoles:
    def test_an_agent_may_read_but_not_handle(self, runtime, app, workspace_id,
                                              incident_id) -> None:
        agent = client_for(app, make_token(runtime, workspace_id, "agent"))
        base = f"/api/v1/incidents/{incident_id}"
        assert agent.get(base).status_code == 200
        for method, path, body in (("post", "/api/v1/incidents",
                                    {"title": "x", "conversation_ids": [str(uuid.uuid4())]}),
                                   ("post", f"{base}/confirm", None),
                                   ("put", f"{base}/answer", {"text": "hello"}),
                                   ("post", f"{base}/answer/approve", None),
                                   ("post", f"{base}/close", {"text": "done"})):
            answer = getattr(agent, method)(path, **({"json": body} if body else {}))
            assert answer.status_code == 403, (path, answer.text)
            assert error_code(answer) == "insufficient_role"

    def test_nobody_approves_his_own_answer_under_a_holding_policy(
            self, runtime, app, workspace_id, incident_id) -> None:
        with runtime.db.session() as s:
            set_approval_policy(s, workspace_id, ApprovalPolicy(all=True), SYSTEM)
        writer = client_for(app, supervisor_token(runtime, workspace_id)[0])
        base = f"/api/v1/incidents/{incident_id}"
        assert writer.put(f"{base}/answer", json={"text": "We are on it"}).status_code == 200
        own = writer.post(f"{base}/answer/approve")
        assert own.status_code == 403 and error_code(own) == "own_reply"
        other = client_for(app, supervisor_token(runtime, workspace_id)[0])
        assert other.post(f"{base}/answer/approve").status_code == 200

    def test_the_desktop_forms_need_the_role_and_the_csrf_token(
            self, runtime, app, workspace_id, incident_id) -> None:
        agent = desk_for(app, runtime, workspace_id, "agent")
        assert agent.post(f"/incidents/{incident_id}/confirm").status_code == 403
        boss = desk_for(app, runtime, workspace_id, "supervisor")
        forged = boss.post(f"/incidents/{incident_id}/confirm", csrf=False)
        assert forged.status_code in (400, 403)
        assert boss.post(f"/incidents/{incident_id}/confirm").status_code == 303


class TestHostileText:
    def test_personal_data_in_the_answer_is_refused(self, runtime, app, workspace_id,
                                                     incident_id) -> None:
        boss = client_for(app, supervisor_token(runtime, workspace_id)[0])
        answer = boss.put(f"/api/v1/incidents/{incident_id}/answer",
                          json={"text": "Write to jane.doe@example.com or call +1 415 555 0101"})
        assert answer.status_code == 422 and error_code(answer) == "pii_public"

    def test_script_is_stored_as_text_and_shown_escaped(self, runtime, app, workspace_id,
                                                        incident_id) -> None:
        boss_token = supervisor_token(runtime, workspace_id)[0]
        hostile = "<script>alert(1)</script> we are on it"
        assert client_for(app, boss_token).put(f"/api/v1/incidents/{incident_id}/answer",
                                               json={"text": hostile}).status_code == 200
        desk = desk_for(app, runtime, workspace_id, "supervisor")
        page = desk.get(f"/incidents/{incident_id}").text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_oversized_input_is_a_422_naming_the_field(self, runtime, app, workspace_id,
                                                       incident_id) -> None:
        boss = client_for(app, supervisor_token(runtime, workspace_id)[0])
        base = f"/api/v1/incidents/{incident_id}"
        assert boss.put(f"{base}/answer", json={"text": "x" * 2001}).status_code == 422
        assert boss.post("/api/v1/incidents", json={
            "title": "t" * 201, "conversation_ids": [str(uuid.uuid4())]}).status_code == 422
        assert boss.post("/api/v1/incidents", json={
            "title": "many", "conversation_ids": [str(uuid.uuid4())] * 501}).status_code == 422
        assert boss.put(f"{base}/answer", json={"text": "ok", "extra": 1}).status_code == 422
        assert boss.put("/api/v1/settings/incidents",
                        json={"similarity": 5}).status_code == 403  # admins only
        admin = client_for(app, make_token(runtime, workspace_id, "admin"))
        bad = admin.put("/api/v1/settings/incidents", json={"similarity": 5})
        assert bad.status_code == 422
        assert admin.put("/api/v1/settings/incidents",
                         json={"pace_per_minute": {"email": 10}}).status_code == 422

    def test_an_answer_too_long_for_x_is_refused_when_the_incident_has_x_posts(
            self, runtime, app, workspace_id, incident_id) -> None:
        from sqlalchemy import update

        from threadline.incidents.models import IncidentPost
        with runtime.db.session() as s:  # the API channel's posts stand in for X here
            s.execute(update(IncidentPost).where(IncidentPost.incident_id == incident_id)
                      .values(channel="x"))
        boss = client_for(app, supervisor_token(runtime, workspace_id)[0])
        answer = boss.put(f"/api/v1/incidents/{incident_id}/answer", json={"text": "y" * 281})
        assert answer.status_code == 422 and error_code(answer) == "text_too_long"
        assert answer.json()["error"]["details"]["field"] == "text"
