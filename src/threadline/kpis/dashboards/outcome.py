"""Outcome: resolved, first-contact resolution (across channels), reopened, the channel
hops (public to private, offered, taken, and the public close-out on the origin) and
self-service (the bot's conversations: deflected, handed over to a person, still waiting)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.kpis.dashboards.build import Names, bars, channel_label, daily, minutes, step_label
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
    Unit,
)
from threadline.kpis.dashboards.stats import count_if, day_of, ratio
from threadline.kpis.models import ConversationFacts
from threadline.selfservice.models import BotSession, BotState

F = ConversationFacts
RESOLVED = ("resolved", "closed")
KEYS = ("conversations", "resolved", "fcr", "fcr_known", "reopened", "public_to_private",
        "hop_offered", "hop_taken", "returned", "returned_known", "return_delay",
        "return_delay_n", "offer_delay", "offer_delay_n")


def _grouped(session: Session, conds: list[Any]) -> tuple[dict[str, dict[str, float]],
                                                         dict[str, dict[str, float]]]:
    """One grouped read by (day, channel): the sums per channel and per day."""
    by_channel: dict[str, dict[str, float]] = {}
    by_day: dict[str, dict[str, float]] = {}
    day = day_of(F.opened_at)
    for row in session.execute(
            select(day, F.origin_channel, func.count(), count_if(F.status.in_(RESOLVED)),
                   count_if(F.fcr.is_(True)), func.count(F.fcr), count_if(F.reopen_count > 0),
                   count_if(F.public_to_private.is_(True)), func.count(F.hop_offered_s),
                   count_if(F.hop_taken.is_(True)), count_if(F.returned_to_origin.is_(True)),
                   func.count(F.returned_to_origin),
                   func.coalesce(func.sum(F.return_delay_s), 0), func.count(F.return_delay_s),
                   func.coalesce(func.sum(F.hop_offered_s), 0), func.count(F.hop_offered_s))
            .where(*conds).group_by(day, F.origin_channel)):
        for target in (by_channel.setdefault(str(row[1] or "unknown"), dict.fromkeys(KEYS, 0.0)),
                       by_day.setdefault(str(row[0]), dict.fromkeys(KEYS, 0.0))):
            for key, value in zip(KEYS, row[2:], strict=True):
                target[key] += float(value or 0)
    return by_channel, by_day

BOT_COLUMNS: tuple[tuple[str, str, Unit, str], ...] = (
    ("bot", "Bot conversations", "count", "bot"),
    ("deflected", "Deflected", "percent", "bot_deflected"),
    ("handed_over", "Handed over", "percent", "bot_handed_over"),
    ("waiting", "Waiting for the customer", "count", "bot_waiting"))


def _bot(session: Session, conds: list[Any]) -> dict[str, dict[str, int]]:
    """The bot's conversations among the filtered ones, by channel: sessions per state."""
    found: dict[str, dict[str, int]] = {}
    for channel, state, count in session.execute(
            select(BotSession.channel, BotSession.state, func.count())
            .join(F, F.conversation_id == BotSession.conversation_id)
            .where(*conds).group_by(BotSession.channel, BotSession.state)):
        found.setdefault(str(channel), dict.fromkeys(BotState.ALL, 0))[str(state)] = int(count)
    return found


def _bot_rates(states: dict[str, int]) -> tuple[float | None, float | None]:
    settled = states[BotState.DEFLECTED] + states[BotState.HANDED_OVER]
    return (ratio(states[BotState.DEFLECTED], settled),
            ratio(states[BotState.HANDED_OVER], settled))


def _self_service(session: Session, conds: list[Any]) -> tuple[list[Metric], Table]:
    """Deflection (resolved by the bot without an agent) and handover rates, of the bot's
    settled conversations (those still waiting for the customer count in neither)."""
    by_channel = _bot(session, conds)
    total = dict.fromkeys(BotState.ALL, 0)
    for states in by_channel.values():
        for state, n in states.items():
            total[state] += n
    deflection, handover = _bot_rates(total)
    metrics = [
        Metric(key="bot_deflection", label="Self-service deflection", unit="percent",
               value=deflection, drill={"flag": "bot_deflected"},
               hint="resolved by the bot without an agent, of its settled conversations"),
        Metric(key="bot_handover", label="Self-service handover", unit="percent",
               value=handover, drill={"flag": "bot_handed_over"},
               hint="handed to a person by the bot, of its settled conversations")]
    order = sorted(by_channel, key=lambda c: -sum(by_channel[c].values()))
    table = Table(key="self_service", title="Self-service by channel", columns=[
        Column(key=key, label=label, unit=unit, drill={"flag": flag})
        for key, label, unit, flag in BOT_COLUMNS], rows=[
        Row(label=channel_label(c), drill={"channel": c}, cells=[
            sum(by_channel[c].values()), *_bot_rates(by_channel[c]),
            by_channel[c][BotState.BOT]]) for c in order])
    return metrics, table


def _mean(total: float, n: float) -> float | None:
    return total / n if n else None


def outcome(session: Session, filters: Filters, names: Names) -> Dashboard:
    del names
    conds = filters.conditions()
    by_channel, by_day = _grouped(session, conds)
    t: dict[str, float] = defaultdict(float)
    for row in by_channel.values():
        for key, value in row.items():
            t[key] += value
    ends = session.execute(select(F.resolved_channel, F.resolved_visibility, func.count())
                           .where(*conds, F.status.in_(RESOLVED))
                           .group_by(F.resolved_channel, F.resolved_visibility)).all()
    metrics = [
        Metric(key="conversations", label="Conversations", value=t["conversations"],
               unit="count", drill={}),
        Metric(key="resolved", label="Resolved", value=ratio(t["resolved"], t["conversations"]),
               unit="percent", drill={"flag": "resolved"}),
        Metric(key="fcr", label="First-contact resolution", unit="percent",
               value=ratio(t["fcr"], t["fcr_known"]), drill={"flag": "fcr"},
               hint="resolved and not back on any channel within the window"),
        Metric(key="reopened", label="Reopened", value=ratio(t["reopened"], t["conversations"]),
               unit="percent", drill={"flag": "reopened"}),
        Metric(key="public_to_private", label="Moved public to private", unit="percent",
               value=ratio(t["public_to_private"], t["conversations"]),
               drill={"flag": "public_to_private"}),
        Metric(key="hop_taken", label="Hops taken", unit="percent",
               value=ratio(t["hop_taken"], t["hop_offered"]), drill={"flag": "hop_taken"},
               hint="of the conversations offered a hop"),
        Metric(key="close_out", label="Public close-out after a hop", unit="percent",
               value=ratio(t["returned"], t["returned_known"]), drill={"flag": "returned"}),
        Metric(key="return_delay", label="Close-out delay, average", unit="minutes",
               value=minutes(_mean(t["return_delay"], t["return_delay_n"])),
               drill={"flag": "returned"}),
        Metric(key="hop_offer_delay", label="Time to offer a hop, average", unit="minutes",
               value=minutes(_mean(t["offer_delay"], t["offer_delay_n"])),
               drill={"flag": "hop_offered"}),
    ]
    bot_metrics, bot_table = _self_service(session, conds)
    metrics.extend(bot_metrics)
    order = sorted(by_channel, key=lambda c: -by_channel[c]["conversations"])
    ends_sorted = sorted(ends, key=lambda r: -r[2])
    charts = [
        daily("resolved_per_day", "Conversations resolved, by day opened", filters,
              {"Resolved": {d: r["resolved"] for d, r in by_day.items()},
               "Reopened": {d: r["reopened"] for d, r in by_day.items()}},
              unit="count", y_label="conversations", kind="bar",
              drills={"Resolved": {"flag": "resolved"}, "Reopened": {"flag": "reopened"}}),
        daily("fcr_per_day", "First-contact resolution by day opened (%)", filters,
              {"FCR": {d: ratio(r["fcr"], r["fcr_known"]) for d, r in by_day.items()}},
              unit="percent",
              y_label="% of settled", drills={"FCR": {"flag": "fcr"}}),
        bars("resolved_on", "Where conversations were resolved",
             [(step_label(f"{c}:{v}"), n, {"resolved_on": f"{c}:{v}"}) for c, v, n in ends_sorted
              if c and v],
             unit="count", x_label="Channel and visibility of the last message",
             y_label="conversations", series="Resolved"),
        Chart(key="outcome_by_channel", kind="bar", unit="percent",
              title="Outcome by channel (%)", x_label="Channel", y_label="%",
              categories=[channel_label(c) for c in order],
              category_drill=[{"channel": c} if c != "unknown" else {} for c in order],
              series=[Series(name=label, drill={"flag": flag}, values=[
                  ratio(by_channel[c][part], by_channel[c][whole]) for c in order])
                  for label, flag, part, whole in (
                      ("Resolved", "resolved", "resolved", "conversations"),
                      ("FCR", "fcr", "fcr", "fcr_known"),
                      ("Reopened", "reopened", "reopened", "conversations"))]),
    ]
    columns = [Column(key="conversations", label="Conversations", unit="count"),
               Column(key="resolved", label="Resolved", unit="percent",
                      drill={"flag": "resolved"}),
               Column(key="fcr", label="FCR", unit="percent", drill={"flag": "fcr"}),
               Column(key="reopened", label="Reopened", unit="percent",
                      drill={"flag": "reopened"}),
               Column(key="public_to_private", label="Public to private", unit="percent",
                      drill={"flag": "public_to_private"}),
               Column(key="hop_taken", label="Hops taken", unit="percent",
                      drill={"flag": "hop_taken"}),
               Column(key="close_out", label="Close-out", unit="percent",
                      drill={"flag": "returned"})]
    tables = [Table(key="by_channel", title="Outcome by channel", columns=columns, rows=[
        Row(label=channel_label(c), drill={"channel": c} if c != "unknown" else None, cells=[
            r["conversations"], ratio(r["resolved"], r["conversations"]),
            ratio(r["fcr"], r["fcr_known"]), ratio(r["reopened"], r["conversations"]),
            ratio(r["public_to_private"], r["conversations"]),
            ratio(r["hop_taken"], r["hop_offered"]),
            ratio(r["returned"], r["returned_known"])])
        for c, r in ((c, by_channel[c]) for c in order)]),
        Table(key="resolved_on", title="Where conversations were resolved", columns=[
            Column(key="resolved", label="Resolved", unit="count")], rows=[
            Row(label=step_label(f"{c}:{v}"), drill={"resolved_on": f"{c}:{v}"}, cells=[n])
            for c, v, n in ends_sorted if c and v]), bot_table]
    return Dashboard(group=Group.outcome, title=TITLES[Group.outcome], filters=filters.query(),
                     metrics=metrics, charts=charts, tables=tables)
