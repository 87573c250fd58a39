"""Small builders the group modules share: names for ids, the days of the range, charts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.schemas import Chart, Series, Unit
from threadline.workspace.models import Agent, ChannelAccount, Team

CHANNEL_LABELS = {
    "x": "X", "facebook": "Facebook", "messenger": "Messenger", "instagram": "Instagram",
    "whatsapp": "WhatsApp", "sms": "SMS", "voice": "Phone", "telegram": "Telegram",
    "email": "Email", "api": "API", "webchat": "Web chat",
}


def channel_label(kind: str | None) -> str:
    return CHANNEL_LABELS.get(kind or "", (kind or "unknown").title())


def step_label(step: str) -> str:
    """"x:public" -> "X public"; "source:store" -> "Store"."""
    if step.startswith("source:"):
        return step.removeprefix("source:").replace("_", " ").replace("campaign:",
                                                                      "campaign ").capitalize()
    channel, _, visibility = step.partition(":")
    return f"{channel_label(channel)} {visibility}".strip()


@dataclass(frozen=True)
class Names:
    teams: dict[str, str]
    agents: dict[str, str]
    accounts: dict[str, str]

    def team(self, key: object) -> str:
        return self.teams.get(str(key), "No team") if key else "No team"

    def agent(self, key: object) -> str:
        return self.agents.get(str(key), "Nobody") if key else "Nobody"

    def account(self, key: object) -> str:
        return self.accounts.get(str(key), "Unknown account") if key else "No account"


def names(session: Session, workspace_id: uuid.UUID) -> Names:
    """The workspace's team, agent and channel account names (three small reads)."""
    return Names(
        teams={str(i): n for i, n in session.execute(
            select(Team.id, Team.name).where(Team.workspace_id == workspace_id))},
        agents={str(i): n for i, n in session.execute(
            select(Agent.id, Agent.name).where(Agent.workspace_id == workspace_id))},
        accounts={str(i): n for i, n in session.execute(
            select(ChannelAccount.id, ChannelAccount.name)
            .where(ChannelAccount.workspace_id == workspace_id))})


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 2)


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def daily(key: str, title: str, filters: Filters, series: Mapping[str, Mapping[str, float | None]],
          *, unit: Unit, y_label: str, kind: str = "line",
          drills: Mapping[str, dict[str, str]] | None = None) -> Chart:
    """A chart with one point per day of the range (days without data: 0 for counts, a gap
    otherwise); a click opens that day's conversations (and the series' criteria)."""
    days = [d.isoformat() for d in filters.days]
    empty = 0.0 if unit == "count" else None
    return Chart(
        key=key, title=title, kind=kind, unit=unit, x_label="Day (UTC)", y_label=y_label,  # type: ignore[arg-type]
        categories=days, category_drill=[{"from": d, "to": d} for d in days],
        series=[Series(name=name, values=[values.get(d, empty) for d in days],
                       drill=(drills or {}).get(name, {})) for name, values in series.items()])


def bars(key: str, title: str, items: Iterable[tuple[str, float | None, dict[str, str]]], *,
         unit: Unit, x_label: str, y_label: str, series: str = "", horizontal: bool = False,
         drill: dict[str, str] | None = None) -> Chart:
    """A bar chart of (label, value, criteria of that bar)."""
    listed = list(items)
    return Chart(key=key, title=title, kind="hbar" if horizontal else "bar", unit=unit,
                 x_label=x_label, y_label=y_label, categories=[label for label, _, _ in listed],
                 category_drill=[d for _, _, d in listed],
                 series=[Series(name=series or title, values=[v for _, v, _ in listed],
                                drill=drill or {})])
