"""The service-level API: calendars and policies CRUD and order, a conversation's clocks;
every bad calendar or policy is a typed 422 naming the field and stores nothing; another
workspace's ids are 404s; roles are enforced; a change recomputes the open conversations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import make_token
from tests.factories import api_account
from tests.sla.helpers import (
    WEEKDAYS_9_TO_5,
    calendar,
    clock_of,
    conversation_of,
    customer_writes,
    policy,
)
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent
from threadline.sla.models import SlaCalendar, SlaPolicy
from threadline.workspace.models import Team
from threadline.workspace.service import create_workspace


def count(runtime, model, workspace_id) -> int:
    with runtime.db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)
                                  .where(model.workspace_id == workspace_id)) or 0)


def team(runtime, workspace_id, name: str = "Billing") -> uuid.UUID:
    with runtime.db.session() as session:
        row = Team(workspace_id=workspace_id, name=f"{name} {uuid.uuid4().hex[:4]}")
        session.add(row)
        session.flush()
        return row.id


class TestCrud:
    def test_calendars_and_policies_round_trip_and_are_audited(self, runtime, workspace_id,
                                                               client):
        billing = team(runtime, workspace_id)
        cal = calendar(client, name="Madrid office", time_zone="Europe/Madrid",
                       hours={"mon": [["14:00", "18:00"], ["09:00", "13:00"]]},
                       holidays=["2026-12-25", "2026-12-08", "2026-12-25"],
                       team_ids=[str(billing)], is_default=True)
        got = client.get(f"/api/v1/sla/calendars/{cal}").json()
        assert got["hours"] == {"mon": [["09:00", "13:00"], ["14:00", "18:00"]]}  # sorted
        assert got["holidays"] == ["2026-12-08", "2026-12-25"]
        assert got["team_ids"] == [str(billing)] and got["is_default"] is True
        other = calendar(client, name="New York", time_zone="America/New_York",
                         hours=WEEKDAYS_9_TO_5, is_default=True)
        listed = {c["id"]: c for c in client.get("/api/v1/sla/calendars").json()["calendars"]}
        assert listed[cal]["is_default"] is False and listed[other]["is_default"] is True
        first = policy(client, name="P1 public", priorities=[1], visibilities=["public"],
                       first_response_minutes=15, resolution_minutes=240, warn_percent=80,
                       escalation=["notify", "raise_priority"])
        second = policy(client, name="everything else", first_response_minutes=240)
        order = client.put("/api/v1/sla/order", json={"policy_ids": [second, first]})
        assert [p["id"] for p in order.json()["policies"]] == [second, first]
        updated = client.put(f"/api/v1/sla/policies/{first}", json={
            "name": "P1 public", "priorities": [2, 1, 1], "first_response_minutes": 10})
        assert updated.status_code == 200, updated.text
        assert updated.json()["priorities"] == [1, 2] and updated.json()["position"] == 1
        assert updated.json()["escalation"] == ["notify"]
        assert client.delete(f"/api/v1/sla/policies/{second}").status_code == 204
        assert client.get(f"/api/v1/sla/policies/{second}").status_code == 404
        assert client.delete(f"/api/v1/sla/calendars/{cal}").status_code == 204
        with runtime.db.session(write=False) as session:
            actions = set(session.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id, AuditEvent.action.like("sla.%"))))
        assert {"sla.calendar_created", "sla.policy_created", "sla.policy_updated",
                "sla.policies_reordered", "sla.policy_deleted",
                "sla.calendar_deleted"} <= actions


BAD_CALENDARS = [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "../../etc/passwd"}, "time_zone"),
    ({"hours": {"mon": [["18:00", "09:00"]]}}, "hours"),
    ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "14:00"]]}}, "hours"),
    ({"hours": {"caturday": [["09:00", "13:00"]]}}, "hours"),
    ({"holidays": ["2026-13-01"]}, "holidays"),
    ({"name": ""}, "name"),
    ({"name": "<script>"}, "name"),
    ({"hours": {}}, "hours"),
    ({"surprise": 1}, "surprise"),
]
BAD_POLICIES = [
    ({}, "body"),  # no target at all
    ({"first_response_minutes": 0}, "first_response_minutes"),
    ({"first_response_minutes": 10 ** 9}, "first_response_minutes"),
    ({"first_response_minutes": 5, "priorities": [0]}, "priorities"),
    ({"first_response_minutes": 5, "visibilities": ["secret"]}, "visibilities"),
    ({"first_response_minutes": 5, "escalation": ["fire_everyone"]}, "escalation"),
    ({"first_response_minutes": 5, "warn_percent": 120}, "warn_percent"),
    ({"first_response_minutes": 5, "channels": ["x" * 500]}, "channels"),
]


class TestValidation:
    @pytest.mark.parametrize(("changes", "field"), BAD_CALENDARS)
    def test_a_bad_calendar_is_a_422_naming_the_field_and_nothing_is_stored(
            self, runtime, workspace_id, client, changes, field):
        body = {"name": "hours", "time_zone": "Europe/Madrid", "hours": WEEKDAYS_9_TO_5,
                **changes}
        response = client.post("/api/v1/sla/calendars", json=body)
        assert response.status_code == 422, response.text
        assert field in [part for e in response.json()["error"]["details"]["errors"]
                         for part in e["loc"]]
        assert count(runtime, SlaCalendar, workspace_id) == 0

    @pytest.mark.parametrize(("changes", "field"), BAD_POLICIES)
    def test_a_bad_policy_is_a_422_naming_the_field_and_nothing_is_stored(
            self, runtime, workspace_id, client, changes, field):
        response = client.post("/api/v1/sla/policies", json={"name": "p", **changes})
        assert response.status_code == 422, response.text
        assert field in [part for e in response.json()["error"]["details"]["errors"]
                         for part in e["loc"]]
        assert count(runtime, SlaPolicy, workspace_id) == 0

    def test_a_bad_update_changes_nothing(self, runtime, workspace_id, client):
        cal = calendar(client, name="kept", time_zone="Europe/Madrid")
        response = client.put(f"/api/v1/sla/calendars/{cal}", json={
            "name": "kept", "time_zone": "Europe/Atlantis", "hours": WEEKDAYS_9_TO_5})
        assert response.status_code == 422
        assert client.get(f"/api/v1/sla/calendars/{cal}").json()["time_zone"] == \
            "Europe/Madrid"

    def test_an_incomplete_order_is_refused(self, runtime, workspace_id, client):
        first = policy(client, first_response_minutes=5)
        policy(client, first_response_minutes=6)
        response = client.put("/api/v1/sla/order", json={"policy_ids": [first]})
        assert response.status_code == 422
        assert response.json()["error"]["details"]["field"] == "policy_ids"


class TestIsolation:
    def test_another_workspaces_team_is_a_404_naming_the_field(self, runtime, workspace_id,
                                                               client):
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
        theirs = team(runtime, other)
        for path, body in (("/api/v1/sla/calendars", {"name": "c", "time_zone": "UTC",
                                                      "hours": WEEKDAYS_9_TO_5}),
                           ("/api/v1/sla/policies", {"name": "p",
                                                     "first_response_minutes": 5})):
            response = client.post(path, json={**body, "team_ids": [str(theirs)]})
            assert response.status_code == 404, response.text
            assert response.json()["error"]["details"]["field"] == "team_ids.0"
        assert count(runtime, SlaCalendar, workspace_id) == 0
        assert count(runtime, SlaPolicy, workspace_id) == 0

    def test_another_workspace_cannot_see_or_touch_mine(self, runtime, workspace_id, client,
                                                        worker, app):
        cal = calendar(client)
        pol = policy(client, first_response_minutes=30)
        customer_writes(client, worker, api_account(runtime, workspace_id), "iso-1")
        conv = conversation_of(runtime, workspace_id, "iso-1")
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
        with TestClient(app) as intruder:
            intruder.headers["Authorization"] = f"Bearer {make_token(runtime, other)}"
            for path in (f"/api/v1/sla/calendars/{cal}", f"/api/v1/sla/policies/{pol}",
                         f"/api/v1/conversations/{conv.id}/sla"):
                assert intruder.get(path).status_code == 404
            assert intruder.put(f"/api/v1/sla/policies/{pol}", json={
                "name": "mine now", "first_response_minutes": 1}).status_code == 404
            assert intruder.delete(f"/api/v1/sla/calendars/{cal}").status_code == 404
            assert intruder.put("/api/v1/sla/order", json={"policy_ids": [pol]}).status_code \
                == 422
        assert client.get(f"/api/v1/sla/policies/{pol}").json()["first_response_minutes"] == 30


class TestRoles:
    def test_agents_read_clocks_supervisors_read_settings_admins_write(
            self, runtime, workspace_id, client, worker, app):
        cal = calendar(client)
        pol = policy(client, first_response_minutes=30)
        customer_writes(client, worker, api_account(runtime, workspace_id), "role-1")
        conv = conversation_of(runtime, workspace_id, "role-1")
        for role in ("agent", "supervisor"):
            with TestClient(app) as c:
                c.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, role)}"
                assert c.get(f"/api/v1/conversations/{conv.id}/sla").status_code == 200
                read = c.get("/api/v1/sla/policies").status_code
                assert read == (403 if role == "agent" else 200)
                assert c.get(f"/api/v1/sla/calendars/{cal}").status_code == \
                    (403 if role == "agent" else 200)
                assert c.post("/api/v1/sla/policies", json={
                    "name": "x", "first_response_minutes": 1}).status_code == 403
                assert c.put(f"/api/v1/sla/calendars/{cal}", json={
                    "name": "x", "time_zone": "UTC", "hours": WEEKDAYS_9_TO_5}).status_code \
                    == 403
                assert c.delete(f"/api/v1/sla/policies/{pol}").status_code == 403
                assert c.put("/api/v1/sla/order", json={"policy_ids": [pol]}).status_code \
                    == 403


class TestRecompute:
    def test_a_changed_policy_or_calendar_recomputes_open_conversations(
            self, runtime, workspace_id, client, worker):
        pol = policy(client, name="all", first_response_minutes=60)
        start = utcnow() - timedelta(minutes=10)
        customer_writes(client, worker, api_account(runtime, workspace_id), "re-1", at=start)
        conv = conversation_of(runtime, workspace_id, "re-1")
        assert abs((clock_of(runtime, conv.id).response_due_at
                    - (start + timedelta(minutes=60))).total_seconds()) < 0.01
        client.put(f"/api/v1/sla/policies/{pol}", json={"name": "all",
                                                        "first_response_minutes": 120})
        worker.drain()
        due = start + timedelta(minutes=120)
        assert abs((clock_of(runtime, conv.id).response_due_at - due).total_seconds()) < 0.01
        after = conversation_of(runtime, workspace_id, "re-1")
        assert abs((after.sla_due_at - due).total_seconds()) < 0.01
        view = client.get(f"/api/v1/conversations/{conv.id}/sla").json()
        assert view["policy_name"] == "all" and view["calendar"] == "24x7"
        [target] = [t for t in view["targets"] if t["target"] == "first_response"]
        assert target["minutes"] == 120 and target["running"] is True
        # a default calendar open round the clock but for a holiday today and the next three
        # days: the clock stops counting until the holidays end
        today = utcnow().date()
        always = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                   "sun")}
        calendar(client, name="holidays", time_zone="UTC", hours=always, is_default=True,
                 holidays=[(today + timedelta(days=n)).isoformat() for n in range(4)])
        worker.drain()
        assert client.get(f"/api/v1/conversations/{conv.id}/sla").json()["calendar"] == \
            "holidays"
        clock = clock_of(runtime, conv.id)
        reopen = datetime.combine(today + timedelta(days=4), time(0, 0), tzinfo=UTC)
        left = timedelta(minutes=120) - timedelta(seconds=clock.response_used)
        assert abs((clock.response_due_at - (reopen + left)).total_seconds()) < 0.01
        client.delete(f"/api/v1/sla/policies/{pol}")
        worker.drain()
        assert clock_of(runtime, conv.id) is None  # no policy: the legacy target applies
