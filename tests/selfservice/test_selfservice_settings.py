"""The bot's settings, figures and try-out over the REST API and the desktop's settings page:
admins write, supervisors read, agents neither; bad values are typed 422s naming the field and
store nothing; another workspace's account ids are 404; the page renders what was typed back
escaped."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.desktop.conftest import Desk
from tests.selfservice.conftest import make_kb
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import create_channel_account, create_workspace


def account(runtime: Runtime, workspace_id: uuid.UUID, kind: str = "webchat") -> str:
    with runtime.db.session() as session:
        return str(create_channel_account(session, workspace_id, kind=kind, name=kind,
                                          config={}).id)


def api(app: Any, runtime: Runtime, workspace_id: uuid.UUID, role: str) -> TestClient:
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, role)}"
    return client


class TestApi:
    def test_admins_write_supervisors_read_agents_neither(
            self, app: Any, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        chat = account(runtime, workspace_id)
        admin = api(app, runtime, workspace_id, "admin")
        answer = admin.put("/api/v1/selfservice/settings", json={
            "enabled": True, "threshold": 0.6, "deflect_after_minutes": 15,
            "accounts": {chat: False}})
        assert answer.status_code == 200, answer.text
        supervisor = api(app, runtime, workspace_id, "supervisor")
        read = supervisor.get("/api/v1/selfservice/settings").json()
        assert read == {"enabled": True, "threshold": 0.6, "deflect_after_minutes": 15,
                        "accounts": {chat: False}}
        assert supervisor.put("/api/v1/selfservice/settings",
                              json={"enabled": False}).status_code == 403
        agent = api(app, runtime, workspace_id, "agent")
        assert agent.get("/api/v1/selfservice/settings").status_code == 403
        assert agent.get("/api/v1/selfservice/figures").status_code == 403

    def test_bad_values_are_typed_and_store_nothing(self, app: Any, runtime: Runtime,
                                                    workspace_id: uuid.UUID) -> None:
        admin = api(app, runtime, workspace_id, "admin")
        for body, field in (({"threshold": 2}, "threshold"), ({"threshold": "high"}, "threshold"),
                            ({"deflect_after_minutes": 0}, "deflect_after_minutes"),
                            ({"accounts": {"not-an-id": True}}, "accounts"),
                            ({"enabled": "yes"}, "enabled"), ({"surprise": 1}, "surprise")):
            answer = admin.put("/api/v1/selfservice/settings", json=body)
            assert answer.status_code == 422, body
            assert field in str(answer.json()["error"]["details"]), answer.text
        sms = account(runtime, workspace_id, "sms")
        answer = admin.put("/api/v1/selfservice/settings", json={"accounts": {sms: True}})
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "channel_not_supported"
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:6]}").id
        foreign = account(runtime, other)
        answer = admin.put("/api/v1/selfservice/settings", json={"accounts": {foreign: True}})
        assert answer.status_code == 404
        assert admin.get("/api/v1/selfservice/settings").json()["enabled"] is False

    def test_try_and_figures(self, app: Any, runtime: Runtime,
                             workspace_id: uuid.UUID) -> None:
        ids = make_kb(runtime, workspace_id)
        supervisor = api(app, runtime, workspace_id, "supervisor")
        tried = supervisor.post("/api/v1/selfservice/try", json={"text": "where is my order"})
        assert tried.status_code == 200, tried.text
        body = tried.json()
        assert body["article_id"] == str(ids["track"]) and body["would_answer"] is True
        assert body["title"] == "Tracking your order" and body["threshold"] == 0.5
        assert supervisor.post("/api/v1/selfservice/try",
                               json={"text": "x" * 4001}).status_code == 422
        assert supervisor.post("/api/v1/selfservice/try", json={"text": ""}).status_code == 422
        figures = supervisor.get("/api/v1/selfservice/figures", params={"days": 7}).json()
        assert figures["sessions"] == 0 and figures["deflection_rate"] is None
        assert supervisor.get("/api/v1/selfservice/figures",
                              params={"days": 0}).status_code == 422


class TestDesktopPage:
    def test_the_page_switches_the_bot_on_per_account(
            self, admin_desk: Desk, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        chat = account(runtime, workspace_id)
        telegram = account(runtime, workspace_id, "telegram")
        page = admin_desk.get("/settings/self-service")
        assert page.status_code == 200
        assert f'name="account-{chat}" checked' in page.text  # web chat: on by default
        assert f'name="account-{telegram}" >' in page.text  # Telegram: off by default
        saved = admin_desk.post("/settings/self-service", {
            "enabled": "on", "threshold": "0.55", "deflect_after_minutes": "20",
            f"account-{telegram}": "on"})
        assert saved.status_code == 303
        page = admin_desk.get("/settings/self-service?notice=settings-saved")
        assert f'name="account-{telegram}" checked' in page.text
        assert f'name="account-{chat}" >' in page.text  # left unticked: switched off
        assert 'value="0.55"' in page.text

    def test_a_bad_value_names_the_field_and_script_is_escaped(
            self, admin_desk: Desk) -> None:
        answer = admin_desk.post("/settings/self-service", {
            "enabled": "on", "threshold": "<script>alert(1)</script>",
            "deflect_after_minutes": "20"})
        assert answer.status_code == 422
        assert "<script>alert(1)</script>" not in answer.text
        assert "threshold" in answer.text
        tried = admin_desk.post("/settings/self-service/try",
                                {"text": "<img src=x onerror=alert(1)>"})
        assert tried.status_code == 200
        assert "<img src=x" not in tried.text and "&lt;img src=x" in tried.text

    def test_agents_cannot_open_it(self, agent_desk: Desk) -> None:
        assert agent_desk.get("/settings/self-service").status_code == 403
