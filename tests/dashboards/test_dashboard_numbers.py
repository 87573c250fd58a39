"""Every KPI group against hand-computed figures (tests/dashboards/helpers.py): four
conversations in the range, one before it and one in another workspace that never count."""

from __future__ import annotations

import pytest

from threadline.conversations.service import SYSTEM
from threadline.kpis.dashboards.costs import Costs, set_costs
from threadline.kpis.dashboards.schemas import Dashboard, Group
from threadline.kpis.dashboards.service import dashboard
from threadline.kpis.dashboards.stats import TOTAL, percentiles
from threadline.kpis.models import ConversationFacts as F


def board(runtime, shop, group, **filters) -> Dashboard:
    with runtime.db.session(write=False) as session:
        return dashboard(session, group, shop.filters(**filters))


def metrics(found: Dashboard) -> dict[str, float | None]:
    return {m.key: m.value for m in found.metrics}


def rows(found: Dashboard, key: str) -> dict[str, list]:
    table = found.table(key)
    assert table is not None, key
    return {r.label: r.cells for r in table.rows}


class TestQuantity:
    def test_counts_shares_and_breakdowns(self, runtime, shop):
        found = board(runtime, shop, Group.quantity)
        assert metrics(found) == {"conversations": 4, "public_share": 50.0,
                                  "direct_share": 75.0, "awareness_share": 25.0,
                                  "multichannel_share": 25.0}
        assert rows(found, "by_channel")["X"] == [2, 2, 0, 1, 1, 0]
        assert rows(found, "by_channel")["Email"] == [1, 0, 1, 1, 0, 1]
        assert rows(found, "by_category") == {"complaint": [2, 50.0], "question": [1, 25.0],
                                              "none": [1, 25.0]}
        by_hour = next(c for c in found.charts if c.key == "by_hour")
        assert {by_hour.categories[i]: v for i, v in enumerate(by_hour.series[0].values)
                if v} == {"09:00": 2, "14:00": 1, "22:00": 1}
        per_day = next(c for c in found.charts if c.key == "per_day")
        assert per_day.categories[0] == "2026-02-01" and len(per_day.categories) == 10
        x = next(s for s in per_day.series if s.name == "X")
        assert x.values[1] == 2 and x.drill == {"channel": "x"}
        assert per_day.category_drill[1] == {"from": "2026-02-02", "to": "2026-02-02"}

    def test_filters_narrow(self, runtime, shop):
        assert metrics(board(runtime, shop, Group.quantity, channel="x"))["conversations"] == 2
        assert metrics(board(runtime, shop, Group.quantity,
                             team_id=shop.teams[0]))["conversations"] == 2
        assert metrics(board(runtime, shop, Group.quantity,
                             agent_id=shop.agents[0]))["conversations"] == 2
        assert metrics(board(runtime, shop, Group.quantity,
                             account_id=shop.accounts["email"]))["conversations"] == 1
        assert metrics(board(runtime, shop, Group.quantity, category="none"))[
            "conversations"] == 1


class TestQuality:
    def test_attainment_and_percentiles(self, runtime, shop):
        found = metrics(board(runtime, shop, Group.quality))
        assert found["sla_first_response"] == 75.0
        assert found["sla_resolution"] == 66.7
        assert found["first_response_p50"] == 3.5  # (120 + 0.5 * (300 - 120)) s
        assert found["first_response_p90"] == 8.5  # (300 + 0.7 * 300) s
        assert found["resolution_p50"] == 2.0
        assert found["first_response_business_p50"] == 1.2  # [0, 30, 120, 300] -> 75 s

    def test_percentiles_exact_on_this_database(self, runtime, shop):
        with runtime.db.session(write=False) as session:
            found = percentiles(session, {"first": F.first_response_s},
                                shop.filters().conditions(), (0.5, 0.9, 0.95, 1.0),
                                by=F.origin_channel)["first"]
        exact = pytest.approx  # floating point rounding only
        assert found[TOTAL] == exact({0.5: 210.0, 0.9: 510.0, 0.95: 555.0, 1.0: 600.0})
        assert found["x"] == exact({0.5: 180.0, 0.9: 276.0, 0.95: 288.0, 1.0: 300.0})
        assert found["whatsapp"] == dict.fromkeys((0.5, 0.9, 0.95, 1.0), 120.0)

    def test_channels_side_by_side(self, runtime, shop):
        table = rows(board(runtime, shop, Group.quality), "by_channel")
        # conversations, FR median, FR p90, FR in SLA, resolution median, in SLA,
        # resolved, FCR, reopened, CSAT
        assert table["X"] == [2, 3.0, 4.6, 50.0, 1.0, 100.0, 50.0, 100.0, 0.0, None]
        assert table["WhatsApp"][:9] == [1, 2.0, 2.0, 100.0, 2.0, 0.0, 100.0, 0.0, 100.0]


class TestOutcome:
    def test_resolution_fcr_and_hops(self, runtime, shop):
        found = metrics(board(runtime, shop, Group.outcome))
        assert found == {"conversations": 4, "resolved": 75.0, "fcr": 50.0, "reopened": 25.0,
                         "public_to_private": 25.0, "hop_taken": 100.0, "close_out": 100.0,
                         "return_delay": 30.0, "hop_offer_delay": 2.0,
                         "bot_deflection": None, "bot_handover": None}  # no bot here
        assert rows(board(runtime, shop, Group.outcome), "resolved_on") == {
            "X public": [1], "WhatsApp private": [1], "Phone private": [1]}


class TestEconomics:
    def test_handle_time_and_cost(self, runtime, shop):
        with runtime.db.session() as session:
            set_costs(session, shop.workspace_id, Costs(hourly_cost=40.0, currency="USD"),
                      SYSTEM)
        found = board(runtime, shop, Group.economics)
        assert metrics(found) == {"handle_per_conversation": 20.0, "handle_hours": 1.0,
                                  "conversations_per_hour": 3.0, "resolved_per_hour": 3.0,
                                  "cost_per_resolved": 13.33, "cost": 40.0}
        by_agent = rows(found, "by_agent")
        assert by_agent["Ana"] == [0.67, 2, 2, 3.0, 13.33]
        assert by_agent["Bo"] == [0.33, 1, 1, 3.0, 13.33]

    def test_no_cost_set_says_so(self, runtime, shop):
        found = board(runtime, shop, Group.economics)
        assert metrics(found)["cost_per_resolved"] is None
        assert any("hourly cost" in note for note in found.notes)


class TestFeedback:
    def test_sentiment_moves(self, runtime, shop):
        found = board(runtime, shop, Group.feedback)
        assert metrics(found)["sentiment_improved"] == 25.0
        assert metrics(found)["sentiment_worsened"] == 25.0
        moves = rows(found, "sentiment_moves")
        assert moves["starts negative"] == [1, 0, 1, 0]


class TestJourneys:
    def test_sankey_and_paths(self, runtime, shop):
        found = board(runtime, shop, Group.journeys)
        assert metrics(found) == {"conversations": 4, "crossed": 50.0, "off_platform": 1}
        sankey = found.charts[0]
        links = {(sankey.nodes[link.source], sankey.nodes[link.target]): link.value
                 for link in sankey.links}
        assert links[("Start: X public", "1st channel: X public")] == 2
        assert links[("1st channel: X public", "2nd channel: X private")] == 1
        assert links[("3rd channel: X public", "Resolved on X public")] == 1
        assert links[("1st channel: X public", "Not resolved")] == 1
        assert links[("Start: Store", "1st channel: WhatsApp private")] == 1
        assert links[("2nd channel: Phone private", "Resolved on Phone private")] == 1
        drill = sankey.node_drill[sankey.nodes.index("Start: Store")]
        assert drill == {"origin": "source:store"}
        origins = rows(found, "origins")
        assert origins["X public"] == [2, 50.0] and origins["Store"] == [1, 100.0]
