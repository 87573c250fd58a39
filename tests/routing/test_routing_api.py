"""The routing API: teams with members and skills, agents' profiles and presence, rules in
order. Bad input is a typed 422 naming the field and stores nothing; another workspace's ids
are 404s; roles are enforced."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import make_token
from tests.routing.helpers import agent, rule, team
from threadline.routing.models import RoutingRule, TeamMember
from threadline.workspace.models import Team
from threadline.workspace.service import create_token, create_workspace

SPANISH = [{"field": "language", "op": "is", "value": "es"}]


def stored(runtime, workspace_id) -> tuple[int, int, int]:
    with runtime.db.session(write=False) as session:
        return tuple(int(session.scalar(select(func.count()).select_from(model).where(
            model.workspace_id == workspace_id)) or 0)
            for model in (Team, TeamMember, RoutingRule))  # type: ignore[return-value]


def error_fields(response) -> list[str]:
    error = response.json()["error"]
    fields = [".".join(str(p) for p in e["loc"][1:]) for e in
              error.get("details", {}).get("errors", [])]
    if error.get("details", {}).get("field"):
        fields.append(error["details"]["field"])
    return fields


class TestTeams:
    def test_crud_with_members_and_skills(self, runtime, workspace_id, client):
        ana = agent(runtime, workspace_id, "Ana", skills=("es",))
        bob = agent(runtime, workspace_id, "Bob")
        response = client.post("/api/v1/teams", json={
            "name": "Español", "skills": ["es", "VIP", "channel:whatsapp", "es"],
            "language_required": True,
            "members": [{"agent_id": str(ana)}, {"agent_id": str(bob), "skills": ["es"]}]})
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["skills"] == ["es", "vip", "channel:whatsapp"]
        assert [(m["name"], m["skills"]) for m in body["members"]] == [("Ana", []),
                                                                        ("Bob", ["es"])]
        team_id = body["id"]
        response = client.put(f"/api/v1/teams/{team_id}", json={
            "name": "Spanish", "skills": ["es"], "members": [{"agent_id": str(bob)}]})
        assert response.status_code == 200, response.text
        assert [m["name"] for m in response.json()["members"]] == ["Bob"]
        assert client.get("/api/v1/teams").json()["teams"][0]["name"] == "Spanish"
        profile = client.get(f"/api/v1/routing/agents/{bob}").json()
        assert profile["teams"] == [team_id] and profile["capacity_realtime"] == 3
        assert profile["capacity_delayed"] == 10
        assert client.delete(f"/api/v1/teams/{team_id}").status_code == 204
        assert stored(runtime, workspace_id) == (0, 0, 0)

    @pytest.mark.parametrize(("body", "field"), [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "T", "skills": ["spanish language"]}, "skills.0"),
        ({"name": "T", "skills": ["channel:<script>"]}, "skills.0"),
        ({"name": "T", "skills": ["es"] * 51}, "skills"),
        ({"name": "T", "members": [{"agent_id": "nope"}]}, "members.0.agent_id"),
        ({"name": "T", "colour": "red"}, "colour"),
    ])
    def test_bad_team_is_a_422_naming_the_field(self, runtime, workspace_id, client, body,
                                                field):
        response = client.post("/api/v1/teams", json=body)
        assert response.status_code == 422, response.text
        assert any(f == field or f.startswith(field + ".") for f in error_fields(response)), \
            error_fields(response)
        assert stored(runtime, workspace_id) == (0, 0, 0)

    def test_same_name_is_a_conflict(self, runtime, workspace_id, client):
        team(client, "Care", [])
        response = client.post("/api/v1/teams", json={"name": "Care"})
        assert response.status_code == 409
        assert response.json()["error"]["details"]["field"] == "name"


class TestRules:
    def test_crud_and_order(self, runtime, workspace_id, client):
        es = team(client, "Español", [])
        care = team(client, "Care", [])
        a = rule(client, "spanish", es, SPANISH, ["language", "vip"])
        b = rule(client, "billing", care, [{"field": "keywords", "op": "contains",
                                             "value": ["invoice", "factura"]}])
        rules = client.get("/api/v1/routing/rules").json()["rules"]
        assert [r["name"] for r in rules] == ["spanish", "billing"]
        assert rules[0]["required_skills"] == ["language", "vip"]
        response = client.put("/api/v1/routing/order", json={"rule_ids": [b, a]})
        assert [r["name"] for r in response.json()["rules"]] == ["billing", "spanish"]
        for ids in ([a], [a, a, b], [a, b, str(uuid.uuid4())]):
            response = client.put("/api/v1/routing/order", json={"rule_ids": ids})
            assert response.status_code == 422
            assert response.json()["error"]["details"]["field"] == "rule_ids"
        response = client.put(f"/api/v1/routing/rules/{a}", json={
            "name": "spanish", "team_id": es, "conditions": SPANISH, "enabled": False})
        assert response.status_code == 200 and response.json()["enabled"] is False
        assert response.json()["position"] == 1
        assert client.delete(f"/api/v1/routing/rules/{a}").status_code == 204
        assert stored(runtime, workspace_id)[2] == 1

    @pytest.mark.parametrize(("changes", "field"), [
        ({"conditions": [{"field": "shoe_size", "op": "is", "value": "9"}]},
         "conditions.0.field"),
        ({"conditions": [{"field": "language", "op": "gte", "value": "es"}]},
         "conditions.0.value"),
        ({"conditions": [{"field": "priority", "op": "is", "value": 9}]},
         "conditions.0.value"),
        ({"conditions": "language is es"}, "conditions"),
        ({"required_skills": ["speaks spanish"]}, "required_skills.0"),
        ({"team_id": "not-a-uuid"}, "team_id"),
        ({"name": ""}, "name"),
        ({"weight": 3}, "weight"),
    ])
    def test_bad_rule_is_a_422_naming_the_field(self, runtime, workspace_id, client,
                                                changes, field):
        body = {"name": "r", "team_id": team(client, "Care", []), "conditions": SPANISH,
                **changes}
        response = client.post("/api/v1/routing/rules", json=body)
        assert response.status_code == 422, response.text
        assert any(f == field or f.startswith(field + ".") for f in error_fields(response)), \
            error_fields(response)
        assert stored(runtime, workspace_id)[2] == 0

    def test_unknown_team_is_a_404_naming_the_field(self, runtime, workspace_id, client):
        response = client.post("/api/v1/routing/rules", json={
            "name": "r", "team_id": str(uuid.uuid4()), "conditions": SPANISH})
        assert response.status_code == 404
        assert response.json()["error"]["details"]["field"] == "team_id"
        assert stored(runtime, workspace_id)[2] == 0

    def test_bad_json_is_a_422(self, runtime, workspace_id, client):
        response = client.post("/api/v1/routing/rules", content=b'{"name": "r", "team_',
                               headers={"content-type": "application/json"})
        assert response.status_code == 422
        assert stored(runtime, workspace_id)[2] == 0


class TestProfiles:
    def test_skills_capacity_presence(self, runtime, workspace_id, client):
        ana = agent(runtime, workspace_id, "Ana", presence="offline")
        response = client.patch(f"/api/v1/routing/agents/{ana}", json={
            "skills": ["es", "category:billing"], "capacity_realtime": 5,
            "presence": "online"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["skills"] == ["es", "category:billing"]
        assert body["capacity_realtime"] == 5 and body["capacity_delayed"] == 10
        assert body["presence"] == "online" and body["last_seen_at"]
        for bad, field in (({"capacity_realtime": -1}, "capacity_realtime"),
                           ({"capacity_delayed": 10_000}, "capacity_delayed"),
                           ({"presence": "asleep"}, "presence"),
                           ({"skills": ["x" * 70]}, "skills.0")):
            response = client.patch(f"/api/v1/routing/agents/{ana}", json=bad)
            assert response.status_code == 422
            assert any(f.startswith(field) for f in error_fields(response))
        assert client.get(f"/api/v1/routing/agents/{ana}").json()["capacity_realtime"] == 5


class TestAttacker:
    def test_another_workspace_ids_are_404(self, runtime, workspace_id, client, app):
        ana = agent(runtime, workspace_id, "Ana")
        mine = team(client, "Care", [ana])
        my_rule = rule(client, "all", mine, [])
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
        theirs_agent = agent(runtime, other, "Eve")
        with TestClient(app) as intruder:
            intruder.headers["Authorization"] = f"Bearer {make_token(runtime, other)}"
            for method, url, body in (
                    ("get", f"/api/v1/teams/{mine}", None),
                    ("put", f"/api/v1/teams/{mine}", {"name": "mine now"}),
                    ("delete", f"/api/v1/teams/{mine}", None),
                    ("get", f"/api/v1/routing/rules/{my_rule}", None),
                    ("put", f"/api/v1/routing/rules/{my_rule}",
                     {"name": "x", "team_id": mine}),
                    ("delete", f"/api/v1/routing/rules/{my_rule}", None),
                    ("get", f"/api/v1/routing/agents/{ana}", None),
                    ("patch", f"/api/v1/routing/agents/{ana}", {"capacity_realtime": 0}),
                    ("put", f"/api/v1/routing/agents/{ana}/presence", {"presence": "offline"})):
                response = intruder.request(method, url, json=body)
                assert response.status_code == 404, (method, url, response.text)
            # their own team with my agent, their rule to my team: 404 naming the field
            response = intruder.post("/api/v1/teams", json={
                "name": "T", "members": [{"agent_id": str(ana)}]})
            assert response.status_code == 404
            assert response.json()["error"]["details"]["field"] == "members.0.agent_id"
            response = intruder.post("/api/v1/routing/rules", json={"name": "x",
                                                                   "team_id": mine})
            assert response.status_code == 404
            assert intruder.get("/api/v1/teams").json() == {"teams": []}
        # and mine with their agent
        response = client.put(f"/api/v1/teams/{mine}", json={
            "name": "Care", "members": [{"agent_id": str(theirs_agent)}]})
        assert response.status_code == 404
        assert client.get(f"/api/v1/routing/agents/{ana}").json()["presence"] == "online"
        assert [m["name"] for m in client.get(f"/api/v1/teams/{mine}").json()["members"]] == [
            "Ana"]

    def test_roles(self, runtime, workspace_id, client, app):
        ana = agent(runtime, workspace_id, "Ana")
        bob = agent(runtime, workspace_id, "Bob")
        mine = team(client, "Care", [ana])
        with runtime.db.session() as session:
            _, ana_token = create_token(session, workspace_id, role="agent", agent_id=ana)
        supervisor = make_token(runtime, workspace_id, role="supervisor")
        with TestClient(app) as c:
            c.headers["Authorization"] = f"Bearer {ana_token}"
            assert c.get("/api/v1/teams").status_code == 403
            assert c.get("/api/v1/routing/rules").status_code == 403
            assert c.post("/api/v1/teams", json={"name": "x"}).status_code == 403
            assert c.patch(f"/api/v1/routing/agents/{ana}",
                           json={"capacity_realtime": 99}).status_code == 403
            # her own presence, not Bob's
            assert c.put(f"/api/v1/routing/agents/{ana}/presence",
                         json={"presence": "away"}).status_code == 200
            assert c.put(f"/api/v1/routing/agents/{bob}/presence",
                         json={"presence": "offline"}).status_code == 403
            c.headers["Authorization"] = f"Bearer {supervisor}"
            assert c.get("/api/v1/teams").status_code == 200
            assert c.put(f"/api/v1/teams/{mine}", json={"name": "x"}).status_code == 403
            assert c.post("/api/v1/routing/rules", json={
                "name": "x", "team_id": mine}).status_code == 403
            assert c.put(f"/api/v1/routing/agents/{bob}/presence",
                         json={"presence": "away"}).status_code == 200
