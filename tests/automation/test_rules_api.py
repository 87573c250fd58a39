"""The rules API: CRUD, order, runs; every bad rule is a typed 422 naming the field and stores
nothing; other workspaces' ids are 404s naming the field; roles are enforced."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.automation.helpers import conversation_of, deliver, rule
from tests.conftest import make_token
from tests.desktop.conftest import PASSWORD
from tests.factories import api_account, message_event
from threadline.automation.models import AutomationRule
from threadline.events.models import AuditEvent
from threadline.workspace.models import Team
from threadline.workspace.service import create_agent, create_workspace
from threadline.workspace.templates import create_template

LABEL = [{"type": "add_label", "label": "vip"}]


def stored(runtime, workspace_id) -> int:
    with runtime.db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(AutomationRule)
                                  .where(AutomationRule.workspace_id == workspace_id)) or 0)


def body(**changes):
    return {"name": "r", "trigger": "message_received", "conditions": [], "actions": LABEL,
            **changes}


class TestCrud:
    def test_create_read_update_reorder_delete_audited(self, runtime, workspace_id, client):
        first = rule(client, "message_received", LABEL, name="first")
        second = rule(client, "conversation_created", [{"type": "set_priority", "priority": 1}],
                      conditions=[{"field": "channel", "op": "in", "value": ["x", "api"]}],
                      name="second")
        listed = client.get("/api/v1/automation/rules").json()["rules"]
        assert [(r["name"], r["position"]) for r in listed] == [("first", 0), ("second", 1)]
        got = client.get(f"/api/v1/automation/rules/{second}").json()
        assert got["actions"] == [{"type": "set_priority", "priority": 1}]
        assert got["conditions"][0]["value"] == ["x", "api"]
        updated = client.put(f"/api/v1/automation/rules/{first}", json=body(
            name="first, renamed", trigger="sla_warning", active=False))
        assert updated.status_code == 200, updated.text
        assert (updated.json()["trigger"], updated.json()["active"],
                updated.json()["position"]) == ("sla_warning", False, 0)
        order = client.put("/api/v1/automation/order", json={"rule_ids": [second, first]})
        assert [r["id"] for r in order.json()["rules"]] == [second, first]
        assert client.get(f"/api/v1/automation/rules/{first}/runs").json() == {"runs": []}
        assert client.delete(f"/api/v1/automation/rules/{first}").status_code == 204
        assert client.get(f"/api/v1/automation/rules/{first}").status_code == 404
        with runtime.db.session(write=False) as session:
            actions = list(session.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action.like("automation.%")).order_by(AuditEvent.id)))
        assert actions == ["automation.rule_created", "automation.rule_created",
                           "automation.rule_updated", "automation.rules_reordered",
                           "automation.rule_deleted"]

    def test_runs_of_a_rule_newest_first(self, runtime, workspace_id, client, worker):
        rule_id = rule(client, "message_received", LABEL)
        account = api_account(runtime, workspace_id)
        deliver(client, worker, account, message_event("r-1", author="a", text="one"))
        deliver(client, worker, account, message_event("r-2", author="b", text="two"))
        runs = client.get(f"/api/v1/automation/rules/{rule_id}/runs").json()["runs"]
        assert [r["conversation_id"] for r in runs] == [
            str(conversation_of(runtime, workspace_id, "r-2").id),
            str(conversation_of(runtime, workspace_id, "r-1").id)]
        assert all(r["status"] == "fired" and r["error"] is None for r in runs)


class TestBadRules:
    @pytest.mark.parametrize(("changes", "field"), [
        ({"trigger": "message_deleted"}, "trigger"),
        ({"conditions": [{"field": "shoe_size", "op": "is", "value": "9"}]},
         "conditions.0.field"),
        ({"conditions": [{"field": "priority", "op": "is", "value": 9}]},
         "conditions.0.value"),
        ({"actions": [{"type": "set_priority", "priority": 7}]}, "actions.0.priority"),
        ({"actions": [{"type": "delete_everything"}]}, "actions.0"),
        ({"actions": [{"type": "snooze", "minutes": 0}]}, "actions.0.minutes"),
        ({"actions": [{"type": "add_label", "label": "<script>"}]}, "actions.0.label"),
        ({"actions": [{"type": "add_label", "label": "x" * 65}]}, "actions.0.label"),
        ({"actions": [{"type": "assign_team", "team_id": "not-a-uuid"}]},
         "actions.0.team_id"),
        ({"actions": [{"type": "send_template", "template_id": str(uuid.uuid4()),
                       "visibility": "secret"}]}, "actions.0.visibility"),
        ({"actions": []}, "actions"),
        ({"actions": LABEL * 11}, "actions"),
        ({"conditions": [{"field": "language", "op": "is", "value": "es"}] * 21},
         "conditions"),
        ({"name": ""}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"owner": "me"}, "owner"),
    ])
    def test_invalid_rule_is_a_422_naming_the_field(self, runtime, workspace_id, client,
                                                    changes, field):
        response = client.post("/api/v1/automation/rules", json=body(**changes))
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        locs = [".".join(e["loc"][1:]) for e in error["details"]["errors"]]
        assert any(loc == field or loc.startswith(field + ".") or
                   loc.replace(".assign_team", "").replace(".send_template", "")
                   .replace(".set_priority", "").replace(".snooze", "")
                   .replace(".add_label", "") == field for loc in locs), locs
        assert stored(runtime, workspace_id) == 0

    def test_reorder_must_name_every_rule_once(self, runtime, workspace_id, client):
        a = rule(client, "message_received", LABEL)
        b = rule(client, "message_received", LABEL)
        for ids in ([a], [a, a, b], [a, b, str(uuid.uuid4())]):
            response = client.put("/api/v1/automation/order", json={"rule_ids": ids})
            assert response.status_code == 422
            assert response.json()["error"]["details"]["field"] == "rule_ids"

    def test_at_most_200_rules(self, runtime, workspace_id, client):
        with runtime.db.session() as session:
            session.add_all(AutomationRule(workspace_id=workspace_id, name=f"r{i}", position=i,
                                           trigger="message_received", conditions=[],
                                           actions=LABEL) for i in range(200))
        response = client.post("/api/v1/automation/rules", json=body())
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "too_many_rules"
        assert stored(runtime, workspace_id) == 200


class TestAttacker:
    def test_other_workspaces_ids_are_404_naming_the_field(self, runtime, workspace_id,
                                                           client):
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
            team = Team(workspace_id=other, name="theirs")
            session.add(team)
            agent, _ = create_agent(session, other, email=f"x{uuid.uuid4().hex[:6]}@o.example",
                                    role="agent", name="Theirs", password=PASSWORD)
            template = create_template(session, other, name="theirs", body="hello")
            session.flush()
            ids = {"team": team.id, "agent": agent.id, "template": template.id}
        for kind, action in (
                ("team", {"type": "assign_team", "team_id": str(ids["team"])}),
                ("agent", {"type": "assign_agent", "agent_id": str(ids["agent"])}),
                ("template", {"type": "send_template", "template_id": str(ids["template"])})):
            response = client.post("/api/v1/automation/rules",
                                   json=body(actions=[*LABEL, action]))
            assert response.status_code == 404, response.text
            error = response.json()["error"]
            assert error["code"] == f"{kind}_not_found"
            assert error["details"]["field"] == f"actions.1.{kind}_id"
        mine = rule(client, "message_received", LABEL)
        response = client.put(f"/api/v1/automation/rules/{mine}", json=body(
            actions=[{"type": "assign_team", "team_id": str(ids["team"])}]))
        assert response.status_code == 404
        assert client.get(f"/api/v1/automation/rules/{mine}").json()["actions"] == LABEL
        assert stored(runtime, workspace_id) == 1

    def test_another_workspace_cannot_see_or_touch_my_rules(self, runtime, workspace_id,
                                                            client, app):
        mine = rule(client, "message_received", LABEL)
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
        with TestClient(app) as intruder:
            intruder.headers["Authorization"] = f"Bearer {make_token(runtime, other)}"
            assert intruder.get(f"/api/v1/automation/rules/{mine}").status_code == 404
            assert intruder.get(f"/api/v1/automation/rules/{mine}/runs").status_code == 404
            assert intruder.put(f"/api/v1/automation/rules/{mine}",
                                json=body()).status_code == 404
            assert intruder.delete(f"/api/v1/automation/rules/{mine}").status_code == 404
            assert intruder.put("/api/v1/automation/order",
                                json={"rule_ids": [mine]}).status_code == 422
            assert intruder.get("/api/v1/automation/rules").json() == {"rules": []}
        assert client.get(f"/api/v1/automation/rules/{mine}").status_code == 200

    def test_agents_cannot_read_or_write_rules_supervisors_only_read(self, runtime,
                                                                     workspace_id, client,
                                                                     app):
        mine = rule(client, "message_received", LABEL)
        for role, can_read in (("agent", False), ("supervisor", True)):
            with TestClient(app) as c:
                c.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, role)}"
                assert c.get("/api/v1/automation/rules").status_code == (200 if can_read
                                                                         else 403)
                response = c.post("/api/v1/automation/rules", json=body())
                assert response.status_code == 403
                assert response.json()["error"]["code"] == "insufficient_role"
                assert c.delete(f"/api/v1/automation/rules/{mine}").status_code == 403
                assert c.put(f"/api/v1/automation/rules/{mine}/active",
                             json={"active": False}).status_code == 403
        assert stored(runtime, workspace_id) == 1
