"""Quality: service-level attainment, response-time percentiles (calendar and business
hours), the same KPIs by channel side by side (is every channel served as well?), and the
quality reviewers' scores by agent, team and channel."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.kpis.dashboards import feedback
from threadline.kpis.dashboards.beside import beside
from threadline.kpis.dashboards.build import Names, channel_label, daily, hours, minutes
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.schemas import (
    TITLES,
    Chart,
    Column,
    Dashboard,
    Group,
    Metric,
    Row,
    Series,
    Table,
)
from threadline.kpis.dashboards.stats import TOTAL, count_if, day_of, percentiles, ratio
from threadline.kpis.models import ConversationFacts

F = ConversationFacts
PS = (0.5, 0.9, 0.95)
RESOLVED = ("resolved", "closed")


KEYS = ("conversations", "fr_met", "fr_known", "res_met", "res_known", "resolved", "fcr",
        "fcr_known", "reopened", "fr_total", "fr_n")


def _grouped(session: Session, conds: list[Any]) -> tuple[dict[str, dict[str, float]],
                                                         dict[str, dict[str, float]]]:
    """One grouped read by (day, channel): the sums per channel and per day."""
    by_channel: dict[str, dict[str, float]] = {}
    by_day: dict[str, dict[str, float]] = {}
    day = day_of(F.opened_at)
    for row in session.execute(
            select(day, F.origin_channel, func.count(),
                   count_if(F.sla_first_response_met.is_(True)),
                   func.count(F.sla_first_response_met),
                   count_if(F.sla_resolution_met.is_(True)), func.count(F.sla_resolution_met),
                   count_if(F.status.in_(RESOLVED)), count_if(F.fcr.is_(True)),
                   func.count(F.fcr), count_if(F.reopen_count > 0),
                   func.coalesce(func.sum(F.first_response_s), 0.0),
                   func.count(F.first_response_s))
            .where(*conds).group_by(day, F.origin_channel)):
        for target in (by_channel.setdefault(str(row[1] or "unknown"), dict.fromkeys(KEYS, 0.0)),
                       by_day.setdefault(str(row[0]), dict.fromkeys(KEYS, 0.0))):
            for key, value in zip(KEYS, row[2:], strict=True):
                target[key] += float(value or 0)
    return by_channel, by_day


def quality(session: Session, filters: Filters, names: Names) -> Dashboard:
    conds = filters.conditions()
    # the grouped sums, CSAT and reviews are aggregated by the database: on a second
    # connection while this one reads and sorts the values of the percentiles
    other = beside(session, lambda s: (_grouped(s, conds),
                                       feedback.csat(s, filters, per_day=False),
                                       feedback.qa_scores(s, filters)))
    found = percentiles(session, {"first": F.first_response_s,
                                  "business": F.first_response_business_s,
                                  "resolution": F.resolution_s}, conds, PS, by=F.origin_channel,
                        totals_only={"business"})
    first, business, resolution = found["first"], found["business"], found["resolution"]
    (by_channel, by_day), csat, qa = other.result()  # csat: the channels' side by side
    total: dict[str, float] = defaultdict(float)
    for row in by_channel.values():
        for key, value in row.items():
            total[key] += value
    metrics = [
        Metric(key="sla_first_response", label="First response within SLA",
               value=ratio(total["fr_met"], total["fr_known"]), unit="percent",
               drill={"flag": "sla_fr_met"}),
        Metric(key="sla_resolution", label="Resolution within SLA",
               value=ratio(total["res_met"], total["res_known"]), unit="percent",
               drill={"flag": "sla_res_met"}),
        Metric(key="first_response_p50", label="First response, median",
               value=minutes(first[TOTAL][0.5]), unit="minutes", drill={"flag": "responded"}),
        Metric(key="first_response_p90", label="First response, 90th percentile",
               value=minutes(first[TOTAL][0.9]), unit="minutes", drill={"flag": "responded"}),
        Metric(key="first_response_business_p50", label="First response in business hours, "
               "median", value=minutes(business[TOTAL][0.5]), unit="minutes",
               drill={"flag": "responded"}),
        Metric(key="resolution_p50", label="Resolution, median",
               value=hours(resolution[TOTAL][0.5]), unit="hours", drill={"flag": "resolved"}),
        Metric(key="qa_score", label="Quality review score", unit="score",
               value=qa.average, hint="0-100, finished reviews"),
    ]
    order = sorted(by_channel, key=lambda c: -by_channel[c]["conversations"])
    charts = [
        Chart(key="first_response_by_channel", kind="bar", unit="minutes",
              title="First response time by channel (minutes)", x_label="Channel",
              y_label="minutes", categories=[channel_label(c) for c in order],
              category_drill=[{"channel": c} if c != "unknown" else {} for c in order],
              series=[Series(name=label, drill={"flag": "responded"}, values=[
                  minutes(first.get(c, {}).get(p)) for c in order])
                  for label, p in (("Median", 0.5), ("90th percentile", 0.9),
                                   ("95th percentile", 0.95))]),
        Chart(key="sla_by_channel", kind="bar", unit="percent",
              title="Service levels met by channel (%)", x_label="Channel", y_label="% met",
              categories=[channel_label(c) for c in order],
              category_drill=[{"channel": c} if c != "unknown" else {} for c in order],
              series=[Series(name="First response", drill={"flag": "sla_fr_met"}, values=[
                  ratio(by_channel[c]["fr_met"], by_channel[c]["fr_known"]) for c in order]),
                  Series(name="Resolution", drill={"flag": "sla_res_met"}, values=[
                      ratio(by_channel[c]["res_met"], by_channel[c]["res_known"])
                      for c in order])]),
        daily("first_response_per_day", "Average first response per day (minutes)", filters,
              {"Average first response": {d: minutes(r["fr_total"] / r["fr_n"])
                                          for d, r in by_day.items() if r["fr_n"]}},
              unit="minutes", y_label="minutes", drills={"Average first response":
                                                         {"flag": "responded"}}),
        daily("sla_per_day", "First response within SLA per day (%)", filters,
              {"Within SLA": {d: ratio(r["fr_met"], r["fr_known"]) for d, r in by_day.items()}},
              unit="percent", y_label="% met", drills={"Within SLA": {"flag": "sla_fr_met"}}),
    ]
    pct_columns = [Column(key="p50", label="Median", unit="minutes"),
                   Column(key="p90", label="90th percentile", unit="minutes"),
                   Column(key="p95", label="95th percentile", unit="minutes")]
    tables = [
        Table(key="response_times", title="Response times (minutes)", columns=pct_columns,
              rows=[Row(label=label, drill=drill, cells=[minutes(values[TOTAL][p]) for p in PS])
                    for label, values, drill in (
                        ("First response", first, {"flag": "responded"}),
                        ("First response, business hours", business, {"flag": "responded"}),
                        ("Resolution", resolution, {"flag": "resolved"}))]),
        _consistency(order, by_channel, first, resolution, csat),
    ]
    tables += [
        Table(key=f"qa_by_{kind}", title=f"Quality reviews by {kind}", columns=[
            Column(key="reviews", label="Reviews", unit="count"),
            Column(key="score", label="Average score", unit="score")],
            rows=[Row(label=label(key), cells=[n, score], drill=drill(key))
                  for key, n, score in rows])
        for kind, rows, label, drill in (
            ("agent", qa.by_agent, names.agent, _by("resolved_by")),
            ("team", qa.by_team, names.team, _by("team")),
            ("channel", qa.by_channel, channel_label, _by("channel")))]
    return Dashboard(group=Group.quality, title=TITLES[Group.quality], filters=filters.query(),
                     metrics=metrics, charts=charts, tables=tables)


def _by(name: str) -> Callable[[str], dict[str, str] | None]:
    def drill(key: str) -> dict[str, str] | None:
        return {name: key} if key else None

    return drill


def _consistency(order: list[str], by_channel: dict[str, dict[str, float]],
                 first: dict[str, dict[float, float | None]],
                 resolution: dict[str, dict[float, float | None]],
                 csat: feedback.Csat) -> Table:
    columns = [
        Column(key="conversations", label="Conversations", unit="count"),
        Column(key="fr_p50", label="First response median (min)", unit="minutes",
               drill={"flag": "responded"}),
        Column(key="fr_p90", label="First response p90 (min)", unit="minutes",
               drill={"flag": "responded"}),
        Column(key="fr_sla", label="First response in SLA", unit="percent",
               drill={"flag": "sla_fr_met"}),
        Column(key="res_p50", label="Resolution median (h)", unit="hours",
               drill={"flag": "resolved"}),
        Column(key="res_sla", label="Resolution in SLA", unit="percent",
               drill={"flag": "sla_res_met"}),
        Column(key="resolved", label="Resolved", unit="percent", drill={"flag": "resolved"}),
        Column(key="fcr", label="First-contact resolution", unit="percent",
               drill={"flag": "fcr"}),
        Column(key="reopened", label="Reopened", unit="percent", drill={"flag": "reopened"}),
        Column(key="csat", label="CSAT (1-5)", unit="score")]
    rows = []
    for c in order:
        row = by_channel[c]
        surveys = csat.by_channel.get(c)
        rows.append(Row(label=channel_label(c), drill={"channel": c} if c != "unknown" else None,
                        cells=[row["conversations"], minutes(first.get(c, {}).get(0.5)),
                               minutes(first.get(c, {}).get(0.9)),
                               ratio(row["fr_met"], row["fr_known"]),
                               hours(resolution.get(c, {}).get(0.5)),
                               ratio(row["res_met"], row["res_known"]),
                               ratio(row["resolved"], row["conversations"]),
                               ratio(row["fcr"], row["fcr_known"]),
                               ratio(row["reopened"], row["conversations"]),
                               surveys.average if surveys else None]))
    return Table(key="by_channel", title="The same KPIs by channel, side by side",
                 columns=columns, rows=rows)
