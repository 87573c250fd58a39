"""REST /api/v1/kpis: the groups, the facts list, the CSV export; bad input is a typed 422
and nothing leaks across workspaces (what an attacker would try)."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.dashboards.helpers import add_conversation, at
from threadline.workspace.models import Agent, ChannelAccount, Team

RANGE = {"from": "2026-02-01", "to": "2026-02-10"}


@pytest.fixture
def api(app, runtime, shop):
    with TestClient(app) as c:
        token = make_token(runtime, shop.workspace_id, "supervisor")
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def _foreign(runtime, other_workspace):
    with runtime.db.session() as session:
        team = Team(id=uuid.uuid4(), workspace_id=other_workspace, name="Theirs")
        agent = Agent(id=uuid.uuid4(), workspace_id=other_workspace, email="x@their.example",
                      name="Them", role="agent")
        account = ChannelAccount(id=uuid.uuid4(), workspace_id=other_workspace, kind="x",
                                 name="Their x", config={}, active=True)
        session.add_all([team, agent, account])
    return {"team": str(team.id), "agent": str(agent.id), "account": str(account.id)}


class TestGroups:
    @pytest.mark.parametrize("group", ["quantity", "quality", "feedback", "outcome",
                                       "economics", "journeys"])
    def test_every_group_answers(self, api, group):
        answer = api.get(f"/api/v1/kpis/{group}", params=RANGE)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["group"] == group and body["filters"]["from"] == "2026-02-01"
        assert body["metrics"] and body["charts"]

    def test_quantity_counts_only_this_workspace_and_range(self, api):
        body = api.get("/api/v1/kpis/quantity", params=RANGE).json()
        assert {m["key"]: m["value"] for m in body["metrics"]}["conversations"] == 4

    def test_unknown_group_is_422(self, api):
        assert api.get("/api/v1/kpis/everything", params=RANGE).status_code == 422

    def test_documented_in_openapi(self, api):
        paths = api.get("/api/v1/openapi.json").json()["paths"]
        for path in ("/api/v1/kpis/{group}", "/api/v1/kpis/conversations",
                     "/api/v1/kpis/export.csv", "/api/v1/kpis/settings"):
            assert path in paths
        params = {p["name"] for p in paths["/api/v1/kpis/{group}"]["get"]["parameters"]}
        assert {"from", "to", "team", "agent", "channel", "account", "category"} <= params


class TestBadInput:
    @pytest.mark.parametrize(("params", "code", "field"), [
        ({"from": "2026-02-10", "to": "2026-02-01"}, "bad_range", "from"),
        ({"from": "2025-01-01", "to": "2026-02-01"}, "range_too_long", "to"),
        ({"from": "2026-02-30"}, "invalid_filter", "from"),
        ({"from": "02/01/2026"}, "invalid_filter", "from"),
        ({**RANGE, "channel": "myspace"}, "unknown_filter_value", "channel"),
        ({**RANGE, "category": "zzz-not-one"}, "unknown_filter_value", "category"),
        ({**RANGE, "team": str(uuid.UUID(int=7))}, "unknown_filter_value", "team"),
    ])
    def test_typed_422(self, api, params, code, field):
        answer = api.get("/api/v1/kpis/quality", params=params)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == code and error["details"]["field"] == field

    def test_another_workspaces_ids_are_unknown(self, api, runtime, other_workspace):
        for name, value in _foreign(runtime, other_workspace).items():
            for path in ("/api/v1/kpis/quantity", "/api/v1/kpis/conversations",
                         "/api/v1/kpis/export.csv"):
                answer = api.get(path, params={**RANGE, name: value})
                assert answer.status_code == 422, (path, name)
                assert answer.json()["error"]["code"] == "unknown_filter_value"

    def test_garbage_and_huge_query_strings(self, api):
        for params in ({"team": "not-a-uuid"}, {"channel": "x" * 5000},
                       {"from": "2026-02-01'; DROP TABLE conversation_facts;--"},
                       {"flag": "<script>"}, {"hour": "25"}, {"path": "x:public>" * 10},
                       {"cursor": "AAAA" * 100}, {"limit": "100000"}):
            answer = api.get("/api/v1/kpis/conversations", params={**RANGE, **params})
            assert answer.status_code == 422, params
            assert answer.json()["error"]["code"] in ("validation_failed", "invalid_filter",
                                                       "bad_cursor")
        answer = api.get("/api/v1/kpis/quantity?" + "a=1&" * 3000 + "from=2026-02-01")
        assert answer.status_code in (200, 414, 431)
        assert api.get("/api/v1/kpis/quantity", params=RANGE).status_code == 200

    def test_agent_role_refused(self, app, runtime, shop):
        with TestClient(app) as c:
            token = make_token(runtime, shop.workspace_id, "agent")
            c.headers["Authorization"] = f"Bearer {token}"
            for path in ("/api/v1/kpis/quantity", "/api/v1/kpis/conversations",
                         "/api/v1/kpis/export.csv"):
                answer = c.get(path, params=RANGE)
                assert answer.status_code == 403
                assert answer.json()["error"]["code"] == "insufficient_role"

    def test_no_token(self, app):
        with TestClient(app) as c:
            assert c.get("/api/v1/kpis/quantity").status_code == 401


class TestConversations:
    def test_drill_criteria_and_pages(self, api, shop):
        def ids(**params):
            body = api.get("/api/v1/kpis/conversations", params={**RANGE, **params}).json()
            return {uuid.UUID(i["conversation_id"]) for i in body["items"]}

        s = shop.ids
        assert ids() == {s["A"], s["B"], s["C"], s["D"]}
        assert ids(flag="fcr") == {s["A"]}
        assert ids(hour="9") == {s["A"], s["C"]}
        assert ids(origin="source:store") == {s["C"]}
        assert ids(origin="x:public") == {s["A"], s["B"]}
        assert ids(path="x:public") == {s["A"], s["B"]}
        assert ids(path="x:public>x:private") == {s["A"]}
        assert ids(resolved_on="voice:private") == {s["D"]}
        assert ids(resolved_on="unresolved") == {s["B"]}
        assert ids(sentiment="negative>*") == {s["A"], s["C"]}
        assert ids(sentiment="*>neutral") == {s["B"], s["D"]}
        assert ids(category="none") == {s["D"]}
        assert ids(visibility="public", relevance="awareness") == {s["B"]}
        assert ids(resolved_by=str(shop.agents[0])) == {s["A"], s["D"]}
        assert ids(**{"from": "2026-02-02", "to": "2026-02-02"}) == {s["A"], s["B"]}
        first = api.get("/api/v1/kpis/conversations", params={**RANGE, "limit": 3}).json()
        assert len(first["items"]) == 3 and first["next_cursor"]
        rest = api.get("/api/v1/kpis/conversations",
                       params={**RANGE, "limit": 3, "cursor": first["next_cursor"]}).json()
        assert [i["conversation_id"] for i in rest["items"]] == [str(s["A"])]
        assert rest["next_cursor"] is None
        opened = [i["opened_at"] for i in first["items"]]
        assert opened == sorted(opened, reverse=True)

    def test_origin_recorded_and_checked(self, api, runtime, shop, other_workspace):
        url = f"/api/v1/kpis/conversations/{shop.ids['B']}/origin"
        assert api.put(url, json={"origin_source": "campaign:spring-26"}).json()[
            "origin_source"] == "campaign:spring-26"
        for bad in ("=cmd|' /C calc'!A0", "campaign:", "campaign:" + "a" * 40, "shop floor"):
            answer = api.put(url, json={"origin_source": bad})
            assert answer.status_code == 422 and answer.json()["error"]["code"] in (
                "invalid_origin", "validation_failed")
        assert api.put(url, json={"origin_source": None}).json()["origin_source"] is None
        theirs = f"/api/v1/kpis/conversations/{shop.ids['elsewhere']}/origin"
        assert api.put(theirs, json={"origin_source": "store"}).status_code == 404


class TestCsv:
    def test_facts_streamed_with_formulas_neutralised(self, api, runtime, shop):
        with runtime.db.session() as session:
            session.get(Team, shop.teams[0]).name = "+SUM(A1:A9)"
        add_conversation(runtime, shop.workspace_id, origin_channel="x",
                         origin_visibility="public", opened_at=at(6, 8),
                         origin_source="=HYPERLINK(\"http://evil.example\")",
                         journey="@x:public", team_id=shop.teams[0])
        answer = api.get("/api/v1/kpis/export.csv", params=RANGE)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        table = list(csv.DictReader(io.StringIO(answer.text)))
        assert len(table) == 5
        evil = next(r for r in table if r["journey"].startswith("'@"))
        assert evil["origin_source"] == "'=HYPERLINK(\"http://evil.example\")"
        assert evil["team"] == "'+SUM(A1:A9)"
        a = next(r for r in table if r["conversation_id"] == str(shop.ids["A"]))
        assert a["first_response_s"] == "60.0" and a["fcr"] == "true"
        assert a["assignee"] == "Ana" and a["journey"] == "x:public>x:private>x:public"
        for row in table:
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@")), value

    def test_a_dashboard_table(self, api, runtime, shop):
        with runtime.db.session() as session:
            session.get(ChannelAccount, shop.accounts["x"]).name = "-2+3 @brand"
        answer = api.get("/api/v1/kpis/export.csv",
                         params={**RANGE, "table": "quantity.by_account"})
        assert answer.status_code == 200
        lines = list(csv.reader(io.StringIO(answer.text)))
        assert lines[0] == ["By account", "Conversations"]
        assert ["'-2+3 @brand", "2"] in lines
        assert api.get("/api/v1/kpis/export.csv", params={
            **RANGE, "table": "quantity.nothing"}).status_code == 404
        assert api.get("/api/v1/kpis/export.csv", params={
            **RANGE, "table": "../etc"}).status_code == 404

    def test_drill_criteria_apply_to_the_export(self, api, shop):
        answer = api.get("/api/v1/kpis/export.csv", params={**RANGE, "flag": "resolved"})
        assert len(list(csv.DictReader(io.StringIO(answer.text)))) == 3


class TestCosts:
    def test_admin_sets_supervisor_reads(self, app, runtime, shop, api):
        with TestClient(app) as admin:
            admin.headers["Authorization"] = f"Bearer {make_token(runtime, shop.workspace_id)}"
            assert admin.put("/api/v1/kpis/settings", json={
                "hourly_cost": 28.5, "currency": "gbp"}).json() == {"hourly_cost": 28.5,
                                                                     "currency": "GBP"}
            for bad in ({"hourly_cost": -1}, {"hourly_cost": 1e9}, {"currency": "EURO"},
                        {"hourly_cost": "NaN"}):
                assert admin.put("/api/v1/kpis/settings", json=bad).status_code == 422, bad
        assert api.get("/api/v1/kpis/settings").json()["currency"] == "GBP"
        assert api.put("/api/v1/kpis/settings", json={"hourly_cost": 1}).status_code == 403
