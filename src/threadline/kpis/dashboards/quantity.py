"""Quantity: how many conversations, where (channel, account, public or private), about what
(category), when (day, hour of day) and how they reached us (direct, or awareness: mentions,
competitors, chatter). Two grouped reads of conversation_facts, rolled up here."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.kpis.dashboards.build import Names, bars, channel_label, daily
from threadline.kpis.dashboards.filters import AWARENESS, Filters
from threadline.kpis.dashboards.schemas import (
    TITLES,
    Column,
    Dashboard,
    Group,
    Metric,
    Row,
    Table,
)
from threadline.kpis.dashboards.stats import count_if, day_of, hour_of, ratio
from threadline.kpis.models import ConversationFacts

F = ConversationFacts


def _reach(relevance: str | None) -> str:
    if relevance == "direct":
        return "direct"
    return "awareness" if relevance in AWARENESS else "unknown"


def quantity(session: Session, filters: Filters, names: Names) -> Dashboard:
    conds = filters.conditions()
    day = day_of(F.opened_at)
    per_day: dict[str, dict[str, float]] = defaultdict(dict)
    channels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for d, channel, visibility, relevance, n, crossed in session.execute(
            select(day, F.origin_channel, F.origin_visibility, F.relevance, func.count(),
                   count_if(F.channels > 1))
            .where(*conds).group_by(day, F.origin_channel, F.origin_visibility, F.relevance)):
        ch = str(channel or "unknown")
        per_day[ch][str(d)] = per_day[ch].get(str(d), 0) + n
        row = channels[ch]
        for key, value in (("conversations", n), (visibility or "unknown", n),
                           (_reach(relevance), n), ("multichannel", crossed)):
            row[key] += int(value)
            totals[key] += int(value)
    accounts: dict[str, int] = defaultdict(int)
    categories: dict[str, int] = defaultdict(int)
    hours: dict[int, int] = defaultdict(int)
    hour = hour_of(F.opened_at)
    for account, category, h, n in session.execute(
            select(F.origin_account_id, F.category, hour, func.count()).where(*conds)
            .group_by(F.origin_account_id, F.category, hour)):
        accounts[str(account) if account else ""] += n
        categories[category or "none"] += n
        hours[int(h)] += n
    total = totals["conversations"]
    multichannel = totals["multichannel"]
    metrics = [
        Metric(key="conversations", label="Conversations", value=total, unit="count", drill={}),
        Metric(key="public_share", label="Started in public", value=ratio(totals["public"], total),
               unit="percent", drill={"visibility": "public"}),
        Metric(key="direct_share", label="Direct", value=ratio(totals["direct"], total),
               unit="percent", drill={"relevance": "direct"},
               hint="addressed to the brand, or on a private channel"),
        Metric(key="awareness_share", label="Awareness", value=ratio(totals["awareness"], total),
               unit="percent", drill={"relevance": "awareness"},
               hint="mentions, competitors, chatter"),
        Metric(key="multichannel_share", label="Crossed channels",
               value=ratio(multichannel, total), unit="percent", drill={"flag": "multichannel"}),
    ]
    order = sorted(channels, key=lambda c: -channels[c]["conversations"])
    charts = [
        daily("per_day", "Conversations opened per day, by channel", filters,
              {channel_label(c): per_day[c] for c in order}, unit="count",
              y_label="conversations", kind="stacked",
              drills={channel_label(c): {"channel": c} for c in order if c != "unknown"}),
        bars("by_channel", "Conversations by channel",
             [(channel_label(c), channels[c]["conversations"],
               {"channel": c} if c != "unknown" else {}) for c in order],
             unit="count", x_label="Channel", y_label="conversations",
             series="Conversations"),
        bars("by_hour", "Conversations by hour of day (UTC)",
             [(f"{h:02d}:00", hours.get(h, 0), {"hour": str(h)}) for h in range(24)],
             unit="count", x_label="Hour opened (UTC)", y_label="conversations",
             series="Conversations"),
        bars("by_category", "Conversations by category",
             [(c, n, {"category": c}) for c, n in sorted(categories.items(),
                                                            key=lambda kv: -kv[1])],
             unit="count", x_label="Category", y_label="conversations",
             series="Conversations"),
        bars("reach", "Public vs private, direct vs awareness",
             [("Public", totals["public"], {"visibility": "public"}),
              ("Private", totals["private"], {"visibility": "private"}),
              ("Direct", totals["direct"], {"relevance": "direct"}),
              ("Awareness", totals["awareness"], {"relevance": "awareness"})],
             unit="count", x_label="", y_label="conversations", series="Conversations"),
    ]
    columns = [Column(key="conversations", label="Conversations", unit="count"),
               Column(key="public", label="Public", unit="count", drill={"visibility": "public"}),
               Column(key="private", label="Private", unit="count",
                      drill={"visibility": "private"}),
               Column(key="direct", label="Direct", unit="count", drill={"relevance": "direct"}),
               Column(key="awareness", label="Awareness", unit="count",
                      drill={"relevance": "awareness"}),
               Column(key="multichannel", label="Crossed channels", unit="count",
                      drill={"flag": "multichannel"})]
    tables = [
        Table(key="by_channel", title="By channel", columns=columns, rows=[
            Row(label=channel_label(c), drill={"channel": c} if c != "unknown" else None,
                cells=[channels[c][col.key] for col in columns]) for c in order]),
        Table(key="by_account", title="By account", columns=[
            Column(key="conversations", label="Conversations", unit="count")], rows=[
            Row(label=names.account(a), drill={"account": a} if a else None, cells=[n])
            for a, n in sorted(accounts.items(), key=lambda kv: -kv[1])]),
        Table(key="by_category", title="By category", columns=[
            Column(key="conversations", label="Conversations", unit="count"),
            Column(key="share", label="Share", unit="percent")], rows=[
            Row(label=c, drill={"category": c}, cells=[n, ratio(n, total)])
            for c, n in sorted(categories.items(), key=lambda kv: -kv[1])]),
    ]
    return Dashboard(group=Group.quantity, title=TITLES[Group.quantity],
                     filters=filters.query(), metrics=metrics, charts=charts, tables=tables)
