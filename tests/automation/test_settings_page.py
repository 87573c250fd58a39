"""The automation settings page (admins): add, edit, enable and disable, move, delete; a bad
rule re-renders the form naming the field and stores nothing; forgery without the CSRF token
and other roles are refused."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from tests.desktop.conftest import Desk
from threadline.automation.models import AutomationRule
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import Team
from threadline.workspace.service import create_workspace

PAGE = "/settings/automation"
ACTIONS = json.dumps([{"type": "add_label", "label": "billing"},
                      {"type": "set_priority", "priority": 2}])
CONDITIONS = json.dumps([{"field": "language", "op": "is", "value": "es"}])


def rules(runtime: Runtime, workspace_id: uuid.UUID) -> list[AutomationRule]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(AutomationRule).where(
            AutomationRule.workspace_id == workspace_id).order_by(AutomationRule.position)))


def form(**changes: str) -> dict[str, str]:
    return {"name": "Spanish billing", "trigger": "message_received", "active": "on",
            "conditions": CONDITIONS, "actions": ACTIONS, **changes}


class TestAutomationSettings:
    def test_admin_adds_edits_moves_disables_and_deletes(self, admin_desk: Desk,
                                                        runtime: Runtime,
                                                        workspace_id: uuid.UUID) -> None:
        assert 'href="/settings/automation"' in admin_desk.get("/settings").text
        page = admin_desk.get(PAGE)
        assert page.status_code == 200 and "No automation rules yet" in page.text
        r = admin_desk.post(PAGE, form())
        assert r.status_code == 303, r.text
        assert admin_desk.post(PAGE, form(name="Second", trigger="sla_breach")).status_code \
            == 303
        first, second = rules(runtime, workspace_id)
        assert first.conditions == json.loads(CONDITIONS) and first.active
        page = admin_desk.get(PAGE).text
        assert "Spanish billing" in page and "set_priority priority=2" in page
        edit = admin_desk.get(f"{PAGE}?edit={first.id}").text
        assert f'action="/settings/automation/{first.id}"' in edit and "Edit rule" in edit
        r = admin_desk.post(f"{PAGE}/{first.id}", form(name="Renamed", active=""))
        assert r.status_code == 303
        assert admin_desk.post(f"{PAGE}/{first.id}/move", {"direction": "down"}).status_code \
            == 303
        assert [x.name for x in rules(runtime, workspace_id)] == ["Second", "Renamed"]
        assert not rules(runtime, workspace_id)[1].active
        assert admin_desk.post(f"{PAGE}/{first.id}/active", {"active": "on"}).status_code \
            == 303
        assert rules(runtime, workspace_id)[1].active
        assert admin_desk.post(f"{PAGE}/{second.id}/delete").status_code == 303
        assert [x.name for x in rules(runtime, workspace_id)] == ["Renamed"]

    def test_bad_rules_are_named_and_store_nothing(self, admin_desk: Desk, runtime: Runtime,
                                                  workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
            team = Team(workspace_id=other, name="theirs")
            session.add(team)
            session.flush()
            theirs = team.id
        for changes, field in (
                ({"actions": '[{"type": "set_priority", "priority": 7}]'}, "actions.0.priority"),
                ({"actions": "[{not json"}, "actions"),
                ({"conditions": '[{"field": "shoe_size", "op": "is", "value": "9"}]'},
                 "conditions.0.field"),
                ({"trigger": "message_deleted"}, "trigger"),
                ({"name": "<script>alert(1)</script>" * 10}, "name"),
                ({"actions": json.dumps([{"type": "add_label", "label": "x"}] * 11)}, "actions"),
                ({"actions": "[" + "1," * 30_000 + "1]"}, "actions"),
                ({"actions": json.dumps([{"type": "assign_team", "team_id": str(theirs)}])},
                 "actions.0.team_id")):
            r = admin_desk.post(PAGE, form(**changes))
            assert r.status_code in (404, 422), (field, r.status_code)
            assert f"<code>{field}</code>" in r.text, field
            assert "<script>alert(1)" not in r.text
            assert 'name="name"' in r.text  # the form comes back with what was typed
        assert rules(runtime, workspace_id) == []

    def test_forgery_and_roles_are_refused(self, admin_desk: Desk, agent_desk: Desk,
                                           supervisor_desk: Desk, runtime: Runtime,
                                           workspace_id: uuid.UUID) -> None:
        assert admin_desk.post(PAGE, form()).status_code == 303
        [rule] = rules(runtime, workspace_id)
        assert admin_desk.post(PAGE, form(), csrf=False).status_code == 403
        assert admin_desk.post(f"{PAGE}/{rule.id}/delete", csrf=False).status_code == 403
        for desk in (agent_desk, supervisor_desk):
            assert desk.get(PAGE).status_code == 403
            assert desk.post(PAGE, form()).status_code == 403
            assert desk.post(f"{PAGE}/{rule.id}", form(name="mine")).status_code == 403
            assert desk.post(f"{PAGE}/{rule.id}/delete").status_code == 403
            assert desk.post(f"{PAGE}/{rule.id}/move", {"direction": "up"}).status_code == 403
        assert admin_desk.post(f"{PAGE}/{uuid.uuid4()}/delete").status_code == 404
        assert [r.name for r in rules(runtime, workspace_id)] == ["Spanish billing"]
