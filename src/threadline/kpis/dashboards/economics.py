"""Economics: active handle time (what agents actually spent: focus and typing on the desktop,
idle time left out, and calls), conversations per agent hour, and the cost of a resolved
conversation from the workspace's hourly cost (costs.py). Per agent, a conversation's handle
time counts for the agent it is assigned to (its facts' `assignee_id`): one read of the
dashboard index, where splitting it by the activity intervals' own agents would read the
activity of every conversation in the range (see docs/dashboards.md)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.kpis.dashboards.build import (
    Names,
    bars,
    channel_label,
    daily,
    hours,
    minutes,
    rounded,
)
from threadline.kpis.dashboards.costs import costs_of
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.schemas import TITLES, Column, Dashboard, Group, Metric, Row, Table
from threadline.kpis.dashboards.stats import count_if, day_of
from threadline.kpis.models import ConversationFacts

F = ConversationFacts
RESOLVED = ("resolved", "closed")
TOP_AGENTS = 12  # in the chart; the table lists every agent


def _per(part: float | None, whole: float | None, digits: int = 2) -> float | None:
    if not whole or part is None:
        return None
    return round(float(part) / float(whole), digits)


def economics(session: Session, filters: Filters, names: Names) -> Dashboard:
    conds = filters.conditions()
    cost = costs_of(session, filters.workspace_id)
    rate = cost.hourly_cost
    by_channel: dict[str, dict[str, float]] = {}
    by_day: dict[str, dict[str, float]] = {}
    day = day_of(F.opened_at)
    for d, channel, n, handled, seconds, resolved in session.execute(
            select(day, F.origin_channel, func.count(), count_if(F.handle_s > 0),
                   func.coalesce(func.sum(F.handle_s), 0.0), count_if(F.status.in_(RESOLVED)))
            .where(*conds).group_by(day, F.origin_channel)):
        for target in (by_channel.setdefault(str(channel or "unknown"), defaultdict(float)),
                       by_day.setdefault(str(d), defaultdict(float))):
            target["conversations"] += n
            target["handled"] += handled
            target["seconds"] += float(seconds)
            target["resolved"] += resolved
    t: dict[str, float] = defaultdict(float)
    for row in by_channel.values():
        for key, value in row.items():
            t[key] += value
    agents: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for agent, seconds, worked, resolved in session.execute(
            select(F.assignee_id, func.coalesce(func.sum(F.handle_s), 0.0),
                   count_if(F.handle_s > 0), count_if(F.status.in_(RESOLVED)))
            .where(*conds).group_by(F.assignee_id)):
        row = agents[str(agent or "")]
        row["seconds"], row["worked"], row["resolved"] = float(seconds), worked, resolved
    handle_hours = t["seconds"] / 3600.0
    money = cost.currency
    metrics = [
        Metric(key="handle_per_conversation", label="Active handle time per conversation",
               value=minutes(_per(t["seconds"], t["handled"], 1)), unit="minutes",
               drill={"flag": "handled"}, hint="conversations an agent worked on"),
        Metric(key="handle_hours", label="Active agent hours", value=rounded(handle_hours, 1),
               unit="hours", drill={"flag": "handled"}),
        Metric(key="conversations_per_hour", label="Conversations per agent hour",
               value=_per(t["handled"], handle_hours), unit="ratio", drill={"flag": "handled"}),
        Metric(key="resolved_per_hour", label="Resolved per agent hour",
               value=_per(t["resolved"], handle_hours), unit="ratio",
               drill={"flag": "resolved"}),
        Metric(key="cost_per_resolved", label=f"Cost per resolved conversation ({money})",
               value=_per(handle_hours * rate, t["resolved"]) if rate is not None else None,
               unit="money", drill={"flag": "resolved"},
               hint=f"{rate:g} {money} per agent hour" if rate is not None
               else "set the hourly cost in the settings"),
        Metric(key="cost", label=f"Cost of active time ({money})", unit="money",
               value=round(handle_hours * rate, 2) if rate is not None else None),
    ]
    order = sorted(by_channel, key=lambda c: -by_channel[c]["seconds"])
    charts = [
        daily("hours_per_day", "Active agent hours, by day opened", filters,
              {"Agent hours": {d: hours(r["seconds"]) for d, r in by_day.items()}}, unit="hours",
              y_label="hours", kind="bar", drills={"Agent hours": {"flag": "handled"}}),
        bars("handle_by_channel", "Active handle time per conversation by channel (minutes)",
             [(channel_label(c), minutes(_per(by_channel[c]["seconds"], by_channel[c]["handled"],
                                              1)), {"channel": c} if c != "unknown" else {})
              for c in order], unit="minutes", x_label="Channel", y_label="minutes",
             series="Minutes per conversation", drill={"flag": "handled"}),
        bars("hours_by_agent", f"Active hours, the {TOP_AGENTS} busiest agents",
             [(names.agent(a), hours(v["seconds"]), {"agent": a} if a else {})
              for a, v in sorted(agents.items(), key=lambda kv: -kv[1]["seconds"])
              if v["seconds"]][:TOP_AGENTS], unit="hours", x_label="", y_label="hours",
             series="Active hours", horizontal=True),
    ]
    if rate is not None:
        charts.insert(1, daily(
            "cost_per_day", f"Cost per resolved conversation, by day opened ({money})", filters,
            {"Cost per resolved": {d: _per(r["seconds"] / 3600.0 * rate, r["resolved"])
                                   for d, r in by_day.items()}},
            unit="money", y_label=money, drills={"Cost per resolved": {"flag": "resolved"}}))
    agent_columns = [
        Column(key="hours", label="Active hours", unit="hours", drill={"flag": "handled"}),
        Column(key="worked", label="Conversations worked", unit="count",
               drill={"flag": "handled"}),
        Column(key="resolved", label="Resolved", unit="count", drill={"flag": "resolved"}),
        Column(key="per_hour", label="Conversations per hour", unit="ratio"),
        Column(key="cost_per_resolved", label=f"Cost per resolved ({money})", unit="money")]
    channel_columns = [
        Column(key="conversations", label="Conversations", unit="count"),
        Column(key="handled", label="Worked on", unit="count", drill={"flag": "handled"}),
        Column(key="handle", label="Minutes per conversation", unit="minutes",
               drill={"flag": "handled"}),
        Column(key="hours", label="Active hours", unit="hours", drill={"flag": "handled"}),
        Column(key="per_hour", label="Conversations per hour", unit="ratio"),
        Column(key="cost_per_resolved", label=f"Cost per resolved ({money})", unit="money",
               drill={"flag": "resolved"})]
    tables = [
        Table(key="by_agent", title="By agent (the conversations each one holds)",
              columns=agent_columns, rows=[
            Row(label=names.agent(a), drill={"agent": a} if a else None, cells=[
                hours(v["seconds"]), v["worked"], v["resolved"],
                _per(v["worked"], v["seconds"] / 3600.0),
                _per(v["seconds"] / 3600.0 * rate, v["resolved"]) if rate is not None else None])
            for a, v in sorted(agents.items(), key=lambda kv: -kv[1]["seconds"])]),
        Table(key="by_channel", title="By channel", columns=channel_columns, rows=[
            Row(label=channel_label(c), drill={"channel": c} if c != "unknown" else None, cells=[
                r["conversations"], r["handled"], minutes(_per(r["seconds"], r["handled"], 1)),
                hours(r["seconds"]), _per(r["handled"], r["seconds"] / 3600.0),
                _per(r["seconds"] / 3600.0 * rate, r["resolved"]) if rate is not None else None])
            for c, r in ((c, by_channel[c]) for c in order)])]
    notes = [] if rate is not None else [
        "No hourly cost is set: an admin sets it under Settings → Dashboards."]
    return Dashboard(group=Group.economics, title=TITLES[Group.economics],
                     filters=filters.query(), metrics=metrics, charts=charts, tables=tables,
                     notes=notes)
