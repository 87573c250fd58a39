"""The desktop's dashboards: every tab, the drill-down behind a number, the exports, the
hourly cost form, a customer's journey and the conversation's origin card."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from html import unescape

import pytest

from tests.dashboards.helpers import add_conversation, at
from tests.desktop.conftest import desk_for
from threadline.contacts.models import Customer
from threadline.kpis.models import ConversationSegment

RANGE = "from=2026-02-01&to=2026-02-10"
GROUPS = ("quantity", "quality", "feedback", "outcome", "economics", "journeys")


@pytest.fixture
def boss(app, runtime, shop):
    return desk_for(app, runtime, shop.workspace_id, "supervisor", "Sam Supervisor")


@pytest.fixture
def agent(app, runtime, shop):
    return desk_for(app, runtime, shop.workspace_id, "agent", "Ada Agent")


def _links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(/dashboards/conversations\?[^"]+)"', html)]


class TestPages:
    @pytest.mark.parametrize("group", GROUPS)
    def test_every_tab_renders_its_charts_as_data(self, boss, group):
        page = boss.get(f"/dashboards/{group}?{RANGE}")
        assert page.status_code == 200, page.text
        assert 'id="dashboard-data"' in page.text and "/static/vendor/echarts/" in page.text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
        assert [attrs for attrs, body in scripts if body.strip() or "src=" not in attrs] == []
        data = json.loads(unescape(re.search(
            r'id="dashboard-data" hidden data-dashboard="([^"]*)"', page.text).group(1)))
        assert data["charts"] and data["filters"]["from"] == "2026-02-01"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert f'id="tab-{group}"' in page.text

    def test_home_keeps_the_filters(self, boss):
        answer = boss.get(f"/dashboards?{RANGE}", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/dashboards/quantity?{RANGE}"

    def test_agents_are_refused(self, agent):
        for url in (f"/dashboards/quantity?{RANGE}", f"/dashboards/conversations?{RANGE}",
                    f"/dashboards/export.csv?{RANGE}", "/settings/dashboards"):
            assert agent.get(url).status_code == 403, url
        assert 'id="dashboards-link"' not in agent.get("/inbox").text

    @pytest.mark.parametrize("query", ["from=2026-02-10&to=2026-02-01",
                                       "from=2024-01-01&to=2026-01-01",
                                       "from=2026-02-01&to=2026-02-10&channel=bbs",
                                       f"from=2026-02-01&to=2026-02-10&team={uuid.UUID(int=7)}"])
    def test_bad_filters_show_the_form_and_a_422(self, boss, query):
        page = boss.get(f"/dashboards/quality?{query}")
        assert page.status_code == 422
        assert 'id="filter-error"' in page.text and 'id="dashboard-filters"' in page.text
        assert 'id="dashboard-data"' not in page.text


class TestDrillDown:
    def test_every_number_opens_its_conversations(self, boss, shop):
        page = boss.get(f"/dashboards/outcome?{RANGE}")
        fcr = next(u for u in _links(page.text) if "flag=fcr" in u and "channel" not in u)
        listed = boss.get(fcr)
        assert listed.status_code == 200
        found = set(re.findall(r'data-conversation="([0-9a-f-]+)"', listed.text))
        assert found == {str(shop.ids["A"])}
        assert f'href="/conversations/{shop.ids["A"]}"' in listed.text
        assert 'data-criterion="flag"' in listed.text

    def test_table_cells_carry_row_and_column(self, boss, shop):
        page = boss.get(f"/dashboards/quantity?{RANGE}")
        cell = next(u for u in _links(page.text) if "channel=x" in u and "visibility=public" in u)
        listed = boss.get(cell)
        assert set(re.findall(r'data-conversation="([0-9a-f-]+)"', listed.text)) == {
            str(shop.ids["A"]), str(shop.ids["B"])}

    def test_bad_criteria_are_422(self, boss):
        for extra in ("flag=everything", "hour=99", "path=x:public>>", "csat=9"):
            page = boss.get(f"/dashboards/conversations?{RANGE}&{extra}")
            assert page.status_code == 422, extra

    def test_export_of_the_drilled_rows(self, boss, shop):
        answer = boss.get(f"/dashboards/export.csv?{RANGE}&flag=reopened")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert [r["conversation_id"] for r in rows] == [str(shop.ids["C"])]


class TestCosts:
    def test_admin_sets_the_hourly_cost(self, app, runtime, shop, boss):
        admin = desk_for(app, runtime, shop.workspace_id, "admin", "Alma Admin")
        assert admin.get("/settings/dashboards").status_code == 200
        saved = admin.post("/settings/dashboards", {"hourly_cost": "36,50", "currency": "eur"})
        assert saved.status_code == 303
        page = boss.get(f"/dashboards/economics?{RANGE}")
        assert "36.5 EUR per agent hour" in unescape(page.text)
        for bad in ({"hourly_cost": "lots"}, {"hourly_cost": "-3"}, {"hourly_cost": "nan"},
                    {"hourly_cost": "1", "currency": "€€€"}):
            answer = admin.post("/settings/dashboards", bad)
            assert answer.status_code == 422 and 'id="costs-error"' in answer.text
        assert boss.post("/settings/dashboards", {"hourly_cost": "1"}).status_code == 403


class TestJourneyAndOrigin:
    def test_customer_journey_across_conversations(self, runtime, shop, agent):
        with runtime.db.session() as session:
            customer = Customer(workspace_id=shop.workspace_id, name="Maya Lind")
            session.add(customer)
        first = add_conversation(runtime, shop.workspace_id, customer_id=customer.id,
                                 origin_channel="x", origin_visibility="public",
                                 opened_at=at(1, 10), status="resolved",
                                 resolved_channel="x", resolved_visibility="public",
                                 journey="x:public>x:private>x:public")
        second = add_conversation(runtime, shop.workspace_id, customer_id=customer.id,
                                  origin_channel="email", origin_visibility="private",
                                  origin_source="order_page", opened_at=at(4, 10))
        with runtime.db.session() as session:
            for n, (channel, visibility) in enumerate(
                    [("x", "public"), ("x", "private"), ("x", "public")], start=1):
                session.add(ConversationSegment(
                    workspace_id=shop.workspace_id, conversation_id=first, number=n,
                    channel=channel, visibility=visibility, started_at=at(1, 10 + n),
                    ended_at=at(1, 10 + n), messages=2))
        page = agent.get(f"/customers/{customer.id}/journey")
        assert page.status_code == 200
        stops = re.findall(r'data-conversation="([0-9a-f-]+)"', page.text)
        assert stops == [str(first), str(second)]
        assert "resolved on X public" in page.text and "Order page" in page.text
        assert page.text.count("journey-arrow") >= 4
        assert 'id="journey-link"' in agent.get(f"/customers/{customer.id}").text
        assert agent.get(f"/customers/{uuid.uuid4()}/journey").status_code == 404

    def test_origin_card(self, runtime, shop, agent, other_workspace):
        url = f"/conversations/{shop.ids['B']}/origin"
        assert 'id="origin-card"' in agent.get(url).text
        saved = agent.post(url, {"origin": "campaign", "campaign": "black-friday"}, htmx=True)
        assert saved.status_code == 200 and 'value="black-friday"' in saved.text
        assert agent.post(url, {"origin": "store"}, htmx=True).status_code == 200
        bad = agent.post(url, {"origin": "campaign", "campaign": "=1+1"}, htmx=True)
        assert bad.status_code == 422 and "campaign:" in bad.text
        theirs = f"/conversations/{shop.ids['elsewhere']}/origin"
        assert agent.get(theirs).status_code == 404
        assert agent.post(theirs, {"origin": "store"}, htmx=True).status_code == 404
        listed = agent.client.get(f"/api/v1/kpis/conversations?{RANGE}")
        assert listed.status_code == 401  # the desktop's cookie is not an API token
