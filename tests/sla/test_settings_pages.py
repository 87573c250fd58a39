"""The business-hours and service-level settings pages (admins): add, edit, move, delete; a
bad calendar or policy re-renders the form naming the field and stores nothing; forgery
without the CSRF token and other roles are refused; the supervisor's breaches panel."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from tests.desktop.conftest import Desk
from tests.factories import api_account
from tests.sla.helpers import customer_writes, policy
from threadline.db.base import utcnow
from threadline.jobs.runtime import Runtime
from threadline.sla.engine import scan
from threadline.sla.models import SlaCalendar, SlaCalendarTeam, SlaPolicy
from threadline.workspace.models import Team

HOURS = "/settings/business-hours"
POLICIES = "/settings/service-levels"


def calendars(runtime: Runtime, workspace_id: uuid.UUID) -> list[SlaCalendar]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(SlaCalendar).where(
            SlaCalendar.workspace_id == workspace_id).order_by(SlaCalendar.name)))


def policies(runtime: Runtime, workspace_id: uuid.UUID) -> list[SlaPolicy]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(SlaPolicy).where(
            SlaPolicy.workspace_id == workspace_id).order_by(SlaPolicy.position)))


def hours_form(**changes: str) -> dict[str, str]:
    return {"name": "Madrid office", "time_zone": "Europe/Madrid",
            "hours_mon": "09:00-13:00, 14:00-18:00", "hours_tue": "9:00-13:00",
            "hours_fri": "09:00-15:00", "holidays": "2026-12-25\n2026-12-08",
            "is_default": "on", **changes}


def policy_form(**changes: object) -> dict[str, object]:
    return {"name": "P1 public", "priorities": ["1"], "visibilities": ["public"],
            "channels": "x, facebook", "first_response_minutes": "15",
            "resolution_minutes": "240", "warn_percent": "80",
            "escalation": ["notify", "raise_priority"], "active": "on", **changes}


class TestBusinessHoursPage:
    def test_admin_adds_edits_and_deletes_a_calendar(self, admin_desk: Desk, runtime,
                                                    workspace_id) -> None:
        with runtime.db.session() as session:
            team = Team(workspace_id=workspace_id, name="Billing")
            session.add(team)
            session.flush()
            team_id = team.id
        assert 'href="/settings/business-hours"' in admin_desk.get("/settings").text
        page = admin_desk.get(HOURS)
        assert page.status_code == 200 and "No calendars" in page.text
        r = admin_desk.post(HOURS, hours_form(team_ids=str(team_id)))
        assert r.status_code == 303, r.text
        [cal] = calendars(runtime, workspace_id)
        assert cal.hours == {"mon": [["09:00", "13:00"], ["14:00", "18:00"]],
                             "tue": [["09:00", "13:00"]], "fri": [["09:00", "15:00"]]}
        assert cal.holidays == ["2026-12-08", "2026-12-25"] and cal.is_default
        with runtime.db.session(write=False) as session:
            assert session.get(SlaCalendarTeam, team_id).calendar_id == cal.id
        page = admin_desk.get(HOURS).text
        assert "Madrid office" in page and "Billing" in page and "Europe/Madrid" in page
        edit = admin_desk.get(f"{HOURS}?edit={cal.id}").text
        assert "09:00-13:00, 14:00-18:00" in edit and "Edit calendar" in edit
        r = admin_desk.post(f"{HOURS}/{cal.id}", hours_form(name="Madrid", hours_sat="10-14"))
        assert r.status_code == 422 and "<code>hours.sat.0</code>" in r.text
        r = admin_desk.post(f"{HOURS}/{cal.id}", hours_form(name="Madrid",
                                                            hours_sat="10:00-14:00"))
        assert r.status_code == 303
        assert calendars(runtime, workspace_id)[0].hours["sat"] == [["10:00", "14:00"]]
        assert admin_desk.post(f"{HOURS}/{cal.id}/delete").status_code == 303
        assert calendars(runtime, workspace_id) == []

    def test_bad_calendars_are_named_and_store_nothing(self, admin_desk: Desk, runtime,
                                                      workspace_id) -> None:
        for changes, field in (({"time_zone": "Mars/Olympus"}, "time_zone"),
                               ({"time_zone": "../../../etc/passwd"}, "time_zone"),
                               ({"hours_mon": "18:00-09:00"}, "hours"),
                               ({"hours_wed": "nine to five"}, "hours.wed.0"),
                               ({"holidays": "2026-02-30"}, "holidays"),
                               ({"name": "<script>alert(1)</script>"}, "name"),
                               ({"hours_mon": "", "hours_tue": "", "hours_fri": ""}, "hours")):
            r = admin_desk.post(HOURS, hours_form(**changes))
            assert r.status_code == 422, (field, r.status_code)
            assert f"<code>{field}</code>" in r.text, field
            assert "<script>alert(1)" not in r.text
            assert 'name="time_zone"' in r.text  # the form comes back with what was typed
        assert calendars(runtime, workspace_id) == []


class TestServiceLevelsPage:
    def test_admin_adds_edits_moves_and_deletes_policies(self, admin_desk: Desk, runtime,
                                                        workspace_id) -> None:
        assert 'href="/settings/service-levels"' in admin_desk.get("/settings").text
        assert "No policies yet" in admin_desk.get(POLICIES).text
        assert admin_desk.post(POLICIES, policy_form()).status_code == 303
        assert admin_desk.post(POLICIES, policy_form(
            name="Everything else", priorities=[], visibilities=[], channels="",
            first_response_minutes="240", warn_percent="", warn_minutes="30")).status_code \
            == 303
        first, second = policies(runtime, workspace_id)
        assert first.priorities == [1] and first.channels == ["x", "facebook"]
        assert first.escalation == ["notify", "raise_priority"] and first.warn_percent == 80
        page = admin_desk.get(POLICIES).text
        assert "P1 public" in page and "15 min" in page and "30 min before" in page
        assert admin_desk.post(f"{POLICIES}/{first.id}/move",
                               {"direction": "down"}).status_code == 303
        assert [p.name for p in policies(runtime, workspace_id)] == ["Everything else",
                                                                    "P1 public"]
        edit = admin_desk.get(f"{POLICIES}?edit={first.id}").text
        assert "Edit policy" in edit and 'value="x, facebook"' in edit
        r = admin_desk.post(f"{POLICIES}/{first.id}", policy_form(name="P1", active=""))
        assert r.status_code == 303
        assert not policies(runtime, workspace_id)[1].active
        assert admin_desk.post(f"{POLICIES}/{second.id}/delete").status_code == 303
        assert [p.name for p in policies(runtime, workspace_id)] == ["P1"]

    def test_bad_policies_are_named_and_store_nothing(self, admin_desk: Desk, runtime,
                                                     workspace_id) -> None:
        with runtime.db.session() as session:
            from threadline.workspace.service import create_workspace
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
            team = Team(workspace_id=other, name="theirs")
            session.add(team)
            session.flush()
            theirs = str(team.id)
        for changes, field in (
                ({"first_response_minutes": "", "resolution_minutes": ""}, ""),
                ({"first_response_minutes": "-5"}, "first_response_minutes"),
                ({"first_response_minutes": "soon"}, "first_response_minutes"),
                ({"priorities": ["9"]}, "priorities.0"),
                ({"escalation": ["fire_everyone"]}, "escalation.0"),
                ({"warn_percent": "150"}, "warn_percent"),
                ({"team_ids": [theirs]}, "team_ids.0"),
                ({"name": "<img src=x onerror=alert(1)>"}, "name")):
            r = admin_desk.post(POLICIES, policy_form(**changes))
            assert r.status_code in (404, 422), (field, r.status_code, r.text[-300:])
            if field:
                assert f"<code>{field}</code>" in r.text, field
            assert "<img src=x" not in r.text
        assert policies(runtime, workspace_id) == []

    def test_forgery_and_roles_are_refused(self, admin_desk: Desk, agent_desk: Desk,
                                           supervisor_desk: Desk, runtime,
                                           workspace_id) -> None:
        assert admin_desk.post(POLICIES, policy_form()).status_code == 303
        assert admin_desk.post(HOURS, hours_form()).status_code == 303
        [pol] = policies(runtime, workspace_id)
        [cal] = calendars(runtime, workspace_id)
        assert admin_desk.post(POLICIES, policy_form(), csrf=False).status_code == 403
        assert admin_desk.post(HOURS, hours_form(), csrf=False).status_code == 403
        assert admin_desk.post(f"{POLICIES}/{pol.id}/delete", csrf=False).status_code == 403
        assert admin_desk.post(f"{HOURS}/{cal.id}/delete", csrf=False).status_code == 403
        for desk in (agent_desk, supervisor_desk):
            for page in (HOURS, POLICIES):
                assert desk.get(page).status_code == 403
            assert desk.post(POLICIES, policy_form()).status_code == 403
            assert desk.post(f"{POLICIES}/{pol.id}", policy_form(name="x")).status_code == 403
            assert desk.post(f"{POLICIES}/{pol.id}/move", {"direction": "up"}).status_code \
                == 403
            assert desk.post(f"{HOURS}/{cal.id}", hours_form()).status_code == 403
            assert desk.post(f"{HOURS}/{cal.id}/delete").status_code == 403
        assert admin_desk.post(f"{POLICIES}/{uuid.uuid4()}/delete").status_code == 404
        assert admin_desk.post(f"{HOURS}/{uuid.uuid4()}/delete").status_code == 404
        assert len(policies(runtime, workspace_id)) == 1
        assert len(calendars(runtime, workspace_id)) == 1


class TestSupervisorPanel:
    def test_breaches_and_warnings_panel(self, supervisor_desk: Desk, agent_desk: Desk,
                                         runtime, workspace_id, client, worker) -> None:
        page = supervisor_desk.get("/supervisor").text
        assert 'id="sla-panel"' in page and 'hx-get="/supervisor/sla-panel"' in page
        assert "No breaches or warnings" in supervisor_desk.get("/supervisor/sla-panel").text
        policy(client, first_response_minutes=60)
        customer_writes(client, worker, api_account(runtime, workspace_id), "panel-1",
                        at=utcnow() - timedelta(hours=2))
        scan(runtime)
        panel = supervisor_desk.get("/supervisor/sla-panel").text
        assert "breached" in panel and "first response" in panel
        assert agent_desk.get("/supervisor/sla-panel").status_code == 403
        assert 'src="/static/desktop/sla.js"' in page
        assert agent_desk.get("/static/desktop/sla.js").status_code == 200
