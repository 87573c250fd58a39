"""Routing on the desktop: the teams and routing rules settings pages (admins), the presence
selector and heartbeat (every agent), the supervisor's board. Bad input re-renders naming the
field and stores nothing; forgery without the CSRF token and other roles are refused."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from tests.desktop.conftest import Desk
from tests.routing.helpers import agent
from threadline.db.base import utcnow
from threadline.jobs.runtime import Runtime
from threadline.routing.models import RoutingRule, TeamMember
from threadline.workspace.models import Agent, Team

TEAMS, RULES = "/settings/teams", "/settings/routing"
NEW_TEAM = TEAMS + "/new"
SPANISH = json.dumps([{"field": "language", "op": "is", "value": "es"}])


def teams(runtime: Runtime, workspace_id: uuid.UUID) -> list[Team]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(Team).where(Team.workspace_id == workspace_id)
                                    .order_by(Team.name)))


def rules(runtime: Runtime, workspace_id: uuid.UUID) -> list[RoutingRule]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(RoutingRule).where(
            RoutingRule.workspace_id == workspace_id).order_by(RoutingRule.position)))


def members(runtime: Runtime, team_id: uuid.UUID) -> set[uuid.UUID]:
    with runtime.db.session(write=False) as session:
        return set(session.scalars(select(TeamMember.agent_id).where(
            TeamMember.team_id == team_id)))


def agent_row(runtime: Runtime, agent_id: uuid.UUID) -> Agent:
    with runtime.db.session(write=False) as session:
        row = session.get(Agent, agent_id)
        assert row is not None
        return row


class TestTeamsPage:
    def test_admin_adds_and_edits_a_team_and_an_agents_capacity(self, admin_desk: Desk,
                                                               runtime, workspace_id):
        ana = agent(runtime, workspace_id, "Ana")
        luis = agent(runtime, workspace_id, "Luis")
        assert 'href="/settings/teams"' in admin_desk.get("/settings").text
        page = admin_desk.get(TEAMS)
        assert page.status_code == 200 and "No teams yet" in page.text
        r = admin_desk.post(NEW_TEAM, {"name": "Español", "skills": "es, vip",
                                    "language_required": "on", "members": str(ana)})
        assert r.status_code == 303, r.text
        [team] = teams(runtime, workspace_id)
        assert team.skills == ["es", "vip"] and team.language_required
        assert members(runtime, team.id) == {ana}
        edit = admin_desk.get(f"{TEAMS}?edit={team.id}").text
        assert f'action="/settings/teams/{team.id}"' in edit
        r = admin_desk.client.post(f"{TEAMS}/{team.id}", data={
            "csrf_token": admin_desk.csrf, "name": "Spanish", "skills": "es",
            "members": [str(ana), str(luis)]}, follow_redirects=False)
        assert r.status_code == 303
        assert members(runtime, team.id) == {ana, luis}
        r = admin_desk.post(f"{TEAMS}/agents/{luis}", {"skills": "es en",
                                                       "capacity_realtime": "5",
                                                       "capacity_delayed": "12"})
        assert r.status_code == 303
        row = agent_row(runtime, luis)
        assert (row.skills, row.capacity_realtime, row.capacity_delayed) == (["es", "en"], 5, 12)
        page = admin_desk.get(TEAMS).text
        assert "Spanish" in page and 'value="5"' in page
        assert admin_desk.post(f"{TEAMS}/{team.id}/delete").status_code == 303
        assert teams(runtime, workspace_id) == []

    def test_bad_input_names_the_field_and_stores_nothing(self, admin_desk: Desk, runtime,
                                                          workspace_id):
        r = admin_desk.post(NEW_TEAM, {"name": "Care", "skills": "spanish language!"})
        assert r.status_code == 422
        assert "skills.0" in r.text and 'value="Care"' in r.text
        r = admin_desk.post(NEW_TEAM, {"name": "Care", "members": str(uuid.uuid4())})
        assert r.status_code == 404 and "members.0.agent_id" in r.text
        ana = agent(runtime, workspace_id, "Ana")
        r = admin_desk.post(f"{TEAMS}/agents/{ana}", {"capacity_realtime": "-3"})
        assert r.status_code == 422 and "capacity_realtime" in r.text
        assert teams(runtime, workspace_id) == []
        assert agent_row(runtime, ana).capacity_realtime == 3

    def test_a_team_name_that_is_html_stays_text(self, admin_desk: Desk, runtime,
                                                 workspace_id):
        assert admin_desk.post(NEW_TEAM, {"name": "<img src=x onerror=alert(1)>"}).status_code \
            == 303
        page = admin_desk.get(TEAMS).text
        assert "<img src=x" not in page and "&lt;img src=x" in page


class TestRulesPage:
    def test_admin_adds_moves_edits_and_deletes_rules(self, admin_desk: Desk, runtime,
                                                      workspace_id):
        admin_desk.post(NEW_TEAM, {"name": "Español", "skills": "es"})
        [team] = teams(runtime, workspace_id)
        page = admin_desk.get(RULES)
        assert page.status_code == 200 and "No routing rules yet" in page.text
        for name in ("spanish", "everything"):
            r = admin_desk.post(RULES, {"name": name, "team_id": str(team.id),
                                        "conditions": SPANISH if name == "spanish" else "",
                                        "required_skills": "language", "enabled": "on"})
            assert r.status_code == 303, r.text
        first, second = rules(runtime, workspace_id)
        assert first.required_skills == ["language"] and second.conditions == []
        assert admin_desk.post(f"{RULES}/{first.id}/move", {"direction": "down"}
                               ).status_code == 303
        assert [r.name for r in rules(runtime, workspace_id)] == ["everything", "spanish"]
        r = admin_desk.post(f"{RULES}/{first.id}", {"name": "Spanish", "team_id": str(team.id),
                                                    "conditions": SPANISH})
        assert r.status_code == 303
        assert not rules(runtime, workspace_id)[1].enabled
        assert "Spanish" in admin_desk.get(RULES).text
        assert admin_desk.post(f"{RULES}/{second.id}/delete").status_code == 303
        assert [r.name for r in rules(runtime, workspace_id)] == ["Spanish"]

    def test_bad_rules_name_the_field_and_store_nothing(self, admin_desk: Desk, runtime,
                                                        workspace_id):
        admin_desk.post(NEW_TEAM, {"name": "Care"})
        [team] = teams(runtime, workspace_id)
        for fields, field, status in (
                ({"conditions": '[{"field": "shoe_size", "op": "is", "value": 9}]'},
                 "conditions.0.field", 422),
                ({"conditions": "[{not json"}, "conditions", 422),
                ({"team_id": ""}, "team_id", 422),
                ({"team_id": str(uuid.uuid4())}, "team_id", 404),
                ({"required_skills": "speaks! spanish"}, "required_skills.0", 422)):
            form = {"name": "r", "team_id": str(team.id), "conditions": SPANISH, **fields}
            r = admin_desk.post(RULES, form)
            assert r.status_code == status, (fields, r.status_code)
            assert field in r.text, field
        assert rules(runtime, workspace_id) == []


class TestAttacker:
    def test_forgery_without_csrf_is_refused(self, admin_desk: Desk, runtime, workspace_id):
        for url, form in ((NEW_TEAM, {"name": "Forged"}),
                          (RULES, {"name": "Forged", "conditions": "[]"}),
                          ("/presence", {"presence": "offline"})):
            assert admin_desk.post(url, form, csrf=False).status_code == 403
        assert admin_desk.client.post("/presence/heartbeat").status_code == 403
        assert teams(runtime, workspace_id) == []

    def test_agents_and_supervisors_cannot_change_settings(self, agent_desk: Desk,
                                                           supervisor_desk: Desk, runtime,
                                                           workspace_id):
        for desk in (agent_desk, supervisor_desk):
            assert desk.get(TEAMS).status_code == 403
            assert desk.get(RULES).status_code == 403
            assert desk.post(NEW_TEAM, {"name": "Mine"}).status_code == 403
        assert agent_desk.get("/supervisor/routing").status_code == 403
        assert teams(runtime, workspace_id) == []

    def test_another_workspace_team_is_not_found(self, admin_desk: Desk, runtime,
                                                 workspace_id):
        from threadline.workspace.service import create_workspace
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:8]}").id
            theirs = Team(workspace_id=other, name="Theirs")
            session.add(theirs)
            session.flush()
            theirs_id = theirs.id
        assert admin_desk.post(f"{TEAMS}/{theirs_id}", {"name": "Mine now"}).status_code == 404
        assert admin_desk.post(f"{TEAMS}/{theirs_id}/delete").status_code == 404
        their_agent = agent(runtime, other, "Eve")
        assert admin_desk.post(f"{TEAMS}/agents/{their_agent}",
                               {"capacity_realtime": "0"}).status_code == 404
        assert agent_row(runtime, their_agent).capacity_realtime == 3


class TestPresence:
    def test_the_selector_sets_presence_and_the_heartbeat_marks_the_desktop_seen(
            self, agent_desk: Desk, runtime, workspace_id):
        me = agent_desk.agent.id
        page = agent_desk.get("/inbox").text  # the rail carries the selector, no extra request
        assert 'hx-post="/presence"' in page and '<option value="offline" selected' in page
        assert 'src="/static/desktop/presence.js"' in agent_desk.get("/inbox").text
        widget = agent_desk.get("/presence").text
        assert 'name="presence"' in widget and '<option value="offline" selected' in widget
        r = agent_desk.post("/presence", {"presence": "online"}, htmx=True)
        assert r.status_code == 200 and '<option value="online" selected' in r.text
        assert agent_row(runtime, me).presence == "online"
        assert agent_desk.post("/presence", {"presence": "asleep"}).status_code == 422
        with runtime.db.session() as session:
            session.execute(update(Agent).where(Agent.id == me).values(
                last_seen_at=utcnow() - timedelta(minutes=10)))
        r = agent_desk.client.post("/presence/heartbeat",
                                   headers={"X-CSRF-Token": agent_desk.csrf})
        assert r.status_code == 204
        assert utcnow() - agent_row(runtime, me).last_seen_at < timedelta(seconds=30)
        js = agent_desk.get("/static/desktop/presence.js")
        assert js.status_code == 200 and "/presence/heartbeat" in js.text

    def test_the_supervisor_board_shows_queues_and_presence(self, supervisor_desk: Desk,
                                                            runtime, workspace_id):
        ana = agent(runtime, workspace_id, "Ana Board")
        with runtime.db.session() as session:
            session.add(Team(workspace_id=workspace_id, name="Care Board"))
        assert 'hx-get="/supervisor/routing"' in supervisor_desk.get("/supervisor").text
        board = supervisor_desk.get("/supervisor/routing").text
        assert "Care Board" in board and "Ana Board" in board and "online" in board
        assert str(ana) not in board
