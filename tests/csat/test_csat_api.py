"""The CSAT API and settings page: the settings (validated, role-checked, nothing stored on a
bad value), the summary against hand-computed figures (response rate, average, share
satisfied, per channel, filters), the typed 422s of a bad range or filter, the surveys list
scoped to the workspace, and the closed sets of the API matching their sources."""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.desktop.conftest import Desk
from threadline.conversations.models import Conversation
from threadline.csat import report
from threadline.csat.models import CsatSurvey, Method, SurveyStatus
from threadline.csat.schemas import MethodName, SurveyStatusName
from threadline.jobs.runtime import Runtime
from threadline.workspace import service as workspace_service
from threadline.workspace.models import ChannelAccount, Team

T0 = datetime(2026, 3, 1, tzinfo=UTC)
RANGE = {"since": "2026-03-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}


def seed(runtime: Runtime, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Seven surveys: six in March (WhatsApp: 5, 3, expired, failed; web chat: 4, waiting),
    one in February (web chat: 1), outside the range."""
    with runtime.db.session() as s:
        team = Team(workspace_id=workspace_id, name=f"t-{uuid.uuid4().hex[:6]}")
        wa = ChannelAccount(workspace_id=workspace_id, kind="whatsapp", name="wa", config={})
        s.add_all([team, wa])
        s.flush()
        rows = [("whatsapp", SurveyStatus.ANSWERED, 5, 1), ("whatsapp", SurveyStatus.ANSWERED,
                                                            3, 2),
                ("whatsapp", SurveyStatus.EXPIRED, None, 3),
                ("whatsapp", SurveyStatus.FAILED, None, 4),
                ("webchat", SurveyStatus.ANSWERED, 4, 5), ("webchat", SurveyStatus.SENT,
                                                           None, 6),
                ("webchat", SurveyStatus.ANSWERED, 1, -5)]
        for channel, status, score, day in rows:
            conv = Conversation(workspace_id=workspace_id, status="resolved",
                                team_id=team.id if channel == "whatsapp" else None)
            s.add(conv)
            s.flush()
            s.add(CsatSurvey(workspace_id=workspace_id, conversation_id=conv.id,
                             channel=channel, channel_account_id=wa.id
                             if channel == "whatsapp" else None,
                             method=Method.BUTTONS if channel == "whatsapp" else Method.INLINE,
                             status=status, sent_at=T0 + timedelta(days=day), score=score,
                             answered_at=T0 + timedelta(days=day, hours=1) if score else None))
        return {"team": str(team.id), "account": str(wa.id)}


class TestSummary:
    def test_hand_computed_figures(self, client: TestClient, runtime: Runtime,
                                   workspace_id: uuid.UUID) -> None:
        ids = seed(runtime, workspace_id)
        body = client.get("/api/v1/csat/summary", params=RANGE).json()
        assert body["total"] == {
            "sent": 6, "answered": 3, "expired": 1, "failed": 1, "waiting": 1, "delivered": 5,
            "response_rate": 0.6, "average": 4.0, "satisfied": 0.6667,
            "scores": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}}
        assert body["by_channel"]["whatsapp"] == {
            "sent": 4, "answered": 2, "expired": 1, "failed": 1, "waiting": 0,
            "delivered": 3, "response_rate": 0.6667, "average": 4.0, "satisfied": 0.5,
            "scores": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}}
        assert body["by_channel"]["webchat"]["response_rate"] == 0.5
        only_chat = client.get("/api/v1/csat/summary",
                               params={**RANGE, "channel": "webchat"}).json()
        assert list(only_chat["by_channel"]) == ["webchat"] and only_chat["total"]["sent"] == 2
        by_team = client.get("/api/v1/csat/summary",
                             params={**RANGE, "team_id": ids["team"]}).json()
        assert by_team["total"]["sent"] == 4
        by_account = client.get("/api/v1/csat/summary",
                                params={**RANGE, "channel_account_id": ids["account"]}).json()
        assert by_account["total"]["answered"] == 2
        february = client.get("/api/v1/csat/summary", params={
            "since": "2026-02-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}).json()
        assert february["total"]["scores"]["1"] == 1 and february["total"]["satisfied"] == 0
        # the function the dashboards call gives the same numbers
        with runtime.db.session(write=False) as s:
            direct = report.summary(s, workspace_id, report.Filters(
                since=T0, until=T0 + timedelta(days=31)))
        assert (direct.total.response_rate, direct.total.average) == (0.6, 4.0)

    def test_an_empty_range_has_no_rates(self, client: TestClient) -> None:
        body = client.get("/api/v1/csat/summary").json()
        assert body["total"]["sent"] == 0 and body["total"]["response_rate"] is None

    @pytest.mark.parametrize(("params", "code"), [
        ({"since": "2026-04-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "invalid_range"),
        ({"since": "2025-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "range_too_long"),
        ({"since": "2026-03-01T00:00:00", "until": "2026-03-02T00:00:00"},
         "validation_failed"),
        ({"until": "1700000000"}, "validation_failed"), ({"since": "2026-03-01"},
                                                        "validation_failed"),
        ({"channel": "fax"}, "validation_failed"),
        ({"team_id": str(uuid.uuid4())}, "unknown_filter"),
        ({"agent_id": "not-an-id"}, "validation_failed"),
        ({"since": "yesterday"}, "validation_failed")])
    def test_bad_ranges_and_filters_are_typed_422s(self, client: TestClient,
                                                   params: dict[str, str], code: str) -> None:
        answer = client.get("/api/v1/csat/summary", params=params)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == code

    def test_another_workspaces_rows_are_neither_filters_nor_listed(
            self, client: TestClient, runtime: Runtime) -> None:
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}")
            other_id = other.id
        ids = seed(runtime, other_id)
        for key in ("team_id", "channel_account_id"):
            answer = client.get("/api/v1/csat/summary", params={key: ids[key.replace(
                "_id", "").replace("channel_", "")]})
            assert answer.status_code == 422
            assert answer.json()["error"]["details"]["field"] == key
        with runtime.db.session(write=False) as s:
            theirs = s.query(CsatSurvey).filter(CsatSurvey.workspace_id == other_id).first()
            assert theirs is not None
            conv_id = str(theirs.conversation_id)
        answer = client.get("/api/v1/csat/surveys", params={"conversation_id": conv_id})
        assert answer.status_code == 200 and answer.json()["items"] == []
        assert client.get("/api/v1/csat/summary", params=RANGE).json()["total"]["sent"] == 0

    def test_the_surveys_behind_the_numbers(self, client: TestClient, runtime: Runtime,
                                            workspace_id: uuid.UUID) -> None:
        seed(runtime, workspace_id)
        items = client.get("/api/v1/csat/surveys", params={
            **RANGE, "status": "answered"}).json()["items"]
        assert [i["score"] for i in items] == [4, 3, 5]  # newest first
        assert client.get("/api/v1/csat/surveys", params={"limit": 0}).status_code == 422
        assert client.get("/api/v1/csat/surveys",
                          params={"status": "lost"}).status_code == 422


class TestSettings:
    def test_read_write_and_refuse(self, client: TestClient, runtime: Runtime,
                                   workspace_id: uuid.UUID) -> None:
        default = client.get("/api/v1/csat/settings").json()
        assert default["enabled"] is False and default["period_days"] == 30
        assert default["delay_minutes"] == 10 and default["whatsapp_style"] == "buttons"
        saved = client.put("/api/v1/csat/settings", json={
            "enabled": True, "question": "  Did we help?\u202e ", "period_days": 14})
        assert saved.status_code == 200
        assert saved.json()["question"] == "Did we help?"
        for bad in ({"enabled": "yes"}, {"delay_minutes": -1}, {"delay_minutes": "5"},
                    {"period_days": 366}, {"question": ""}, {"question": "q" * 301},
                    {"question": "\u200b"}, {"whatsapp_style": "grid"}, {"colour": "red"},
                    {"expire_days": 0}, {"text_reply_hours": 169}):
            answer = client.put("/api/v1/csat/settings", json=bad)
            assert answer.status_code == 422, bad
        assert client.get("/api/v1/csat/settings").json()["question"] == "Did we help?"

    def test_roles(self, app: Any, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        with TestClient(app) as c:
            for role, read, write in (("agent", 403, 403), ("supervisor", 200, 403),
                                      ("admin", 200, 200)):
                c.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, role)}"
                assert c.get("/api/v1/csat/settings").status_code == read
                assert c.get("/api/v1/csat/summary").status_code == read
                assert c.put("/api/v1/csat/settings",
                             json={"enabled": False}).status_code == write
            del c.headers["Authorization"]
            assert c.get("/api/v1/csat/summary").status_code == 401

    def test_the_settings_page(self, admin_desk: Desk, agent_desk: Desk) -> None:
        assert 'href="/settings/csat"' in admin_desk.get("/settings").text
        page = admin_desk.get("/settings/csat")
        assert page.status_code == 200 and "Surveys sent" in page.text
        form = {"enabled": "on", "question": "Happy with us?", "delay_minutes": "5",
                "period_days": "7", "expire_days": "3", "text_reply_hours": "12",
                "whatsapp_style": "list"}
        saved = admin_desk.post("/settings/csat", form)
        assert saved.status_code == 303
        page = admin_desk.get("/settings/csat").text
        assert 'value="Happy with us?"' in page and 'value="list" checked' in page
        bad = admin_desk.post("/settings/csat", {**form, "period_days": "-3",
                                                 "question": "Kept as typed"})
        assert bad.status_code == 422 and "<code>period_days</code>" in bad.text
        assert 'value="Kept as typed"' in bad.text
        assert 'value="Happy with us?"' in admin_desk.get("/settings/csat").text
        assert admin_desk.post("/settings/csat", form, csrf=False).status_code == 403
        assert agent_desk.get("/settings/csat").status_code == 403


def test_the_api_sets_match_their_sources() -> None:
    assert set(typing.get_args(SurveyStatusName)) == set(SurveyStatus.ALL)
    assert set(typing.get_args(MethodName)) == set(Method.ALL)
