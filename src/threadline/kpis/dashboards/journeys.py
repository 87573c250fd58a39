"""Journeys: where conversations start (the origin channel and visibility, or an off-platform
origin an agent recorded or a link's campaign carried), the first three channels they cross
(`conversation_facts.journey`) and where they are resolved, as a Sankey diagram; and one
customer's journey across all his conversations."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.contacts.service import access_customer
from threadline.kpis.dashboards.build import Names, step_label
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.schemas import (
    TITLES,
    Chart,
    Column,
    Dashboard,
    Group,
    Link,
    Metric,
    Row,
    Table,
)
from threadline.kpis.dashboards.stats import ratio
from threadline.kpis.models import ConversationFacts, ConversationSegment
from threadline.kpis.rules import JOURNEY_MORE

F = ConversationFacts
RESOLVED = ("resolved", "closed")
STEPS = 3
ORDINAL = ("Start", "1st channel", "2nd channel", "3rd channel")
TOP_PATHS = 25


def origin_of(source: str | None, channel: str | None, visibility: str | None) -> str:
    if source:
        return f"source:{source}"
    return f"{channel or 'unknown'}:{visibility or 'unknown'}"


def steps_of(journey: str) -> list[str]:
    path = journey.removesuffix(JOURNEY_MORE)
    return [s for s in path.split(">") if s][:STEPS]


def end_of(status: str, channel: str | None, visibility: str | None) -> str:
    return f"{channel}:{visibility}" if status in RESOLVED and channel and visibility \
        else "unresolved"


@dataclass
class _Sankey:
    nodes: list[str] = field(default_factory=list)
    node_drill: list[dict[str, str]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    links: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))
    link_drill: dict[tuple[int, int], dict[str, str]] = field(default_factory=dict)

    def node(self, label: str, drill: dict[str, str]) -> int:
        if label not in self.index:
            self.index[label] = len(self.nodes)
            self.nodes.append(label)
            self.node_drill.append(drill)
        return self.index[label]

    def flow(self, a: int, b: int, n: int, drill: dict[str, str]) -> None:
        self.links[(a, b)] += n
        self.link_drill.setdefault((a, b), drill)


def _link_drill(i: int, to_end: bool, origin: str, steps: tuple[str, ...],
                end: str) -> dict[str, str]:
    """The criteria of exactly the conversations a link carries, where the filters can say
    it (a link deeper in the diagram mixes paths that share only their later steps: {})."""
    if i == 0:
        return {"origin": origin, **({"resolved_on": end} if to_end else {"path": steps[0]})}
    if i == 1 and not to_end:
        return {"path": ">".join(steps[:2])}
    return {}


def journeys(session: Session, filters: Filters, names: Names) -> Dashboard:
    del names
    conds = filters.conditions()
    paths: dict[tuple[str, tuple[str, ...], str], int] = defaultdict(int)
    for source, channel, visibility, journey, status, r_channel, r_visibility, n in \
            session.execute(select(F.origin_source, F.origin_channel, F.origin_visibility,
                                   F.journey, F.status, F.resolved_channel,
                                   F.resolved_visibility, func.count())
                            .where(*conds)
                            .group_by(F.origin_source, F.origin_channel, F.origin_visibility,
                                      F.journey, F.status, F.resolved_channel,
                                      F.resolved_visibility)):
        paths[(origin_of(source, channel, visibility), tuple(steps_of(journey or "")),
               end_of(status, r_channel, r_visibility))] += n
    sankey = _Sankey()
    origins: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (origin, steps, end), n in paths.items():
        origins[origin][0] += n
        origins[origin][1] += n if end != "unresolved" else 0
        chain = [(f"{ORDINAL[0]}: {step_label(origin)}", {"origin": origin})]
        for i, step in enumerate(steps, start=1):
            chain.append((f"{ORDINAL[i]}: {step_label(step)}",
                          {"path": step} if i == 1 else {}))
        chain.append((f"Resolved on {step_label(end)}" if end != "unresolved"
                      else "Not resolved", {"resolved_on": end}))
        ids = [sankey.node(label, drill) for label, drill in chain]
        for i in range(len(ids) - 1):
            sankey.flow(ids[i], ids[i + 1], n, _link_drill(i, i + 2 == len(ids), origin,
                                                            steps, end))
    links = sorted(sankey.links.items())
    total = sum(paths.values())
    crossed = sum(n for (_o, steps, _e), n in paths.items() if len(set(steps)) > 1)
    off_platform = sum(n for (o, _s, _e), n in paths.items() if o.startswith("source:"))
    top = sorted(paths.items(), key=lambda kv: -kv[1])[:TOP_PATHS]
    metrics = [
        Metric(key="conversations", label="Conversations", value=total, unit="count", drill={}),
        Metric(key="crossed", label="Crossed channels or surfaces", value=ratio(crossed, total),
               unit="percent"),
        Metric(key="off_platform", label="Started off-platform", value=off_platform,
               unit="count", hint="store, order page, website, campaigns"),
    ]
    charts = [Chart(key="sankey", kind="sankey", unit="count",
                    title="Where conversations start, the channels they cross, where they end",
                    nodes=sankey.nodes, node_drill=sankey.node_drill,
                    links=[Link(source=a, target=b, value=v) for (a, b), v in links],
                    point_drill=[[sankey.link_drill[key] for key, _v in links]])]
    tables = [
        Table(key="paths", title=f"The {TOP_PATHS} most common journeys", columns=[
            Column(key="origin", label="Start", unit="text"),
            Column(key="path", label="Channels crossed (first 3)", unit="text"),
            Column(key="end", label="Resolved on", unit="text"),
            Column(key="conversations", label="Conversations", unit="count"),
            Column(key="share", label="Share", unit="percent")], rows=[
            Row(label=f"#{i}", drill={"origin": o, **({"path": ">".join(s)} if s else {}),
                                      "resolved_on": e},
                cells=[step_label(o), " → ".join(step_label(x) for x in s) or "—",
                       step_label(e) if e != "unresolved" else "not resolved", n,
                       ratio(n, total)])
            for i, ((o, s, e), n) in enumerate(top, start=1)]),
        Table(key="origins", title="Where conversations start", columns=[
            Column(key="conversations", label="Conversations", unit="count"),
            Column(key="resolved", label="Resolved", unit="percent",
                   drill={"flag": "resolved"})], rows=[
            Row(label=step_label(o), drill={"origin": o}, cells=[n, ratio(r, n)])
            for o, (n, r) in sorted(origins.items(), key=lambda kv: -kv[1][0])]),
    ]
    return Dashboard(group=Group.journeys, title=TITLES[Group.journeys], filters=filters.query(),
                     metrics=metrics, charts=charts, tables=tables)


# --- one customer ------------------------------------------------------------------------


@dataclass
class Leg:
    channel: str
    visibility: str
    started_at: datetime
    ended_at: datetime
    messages: int


@dataclass
class Stop:
    conversation_id: uuid.UUID
    opened_at: datetime
    status: str
    origin: str
    end: str
    legs: list[Leg]
    fcr: bool | None
    first_response_s: float | None
    resolution_s: float | None
    reopen_count: int


def customer_journey(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID,
                     *, limit: int = 200) -> list[Stop]:
    """Every conversation of the customer (the latest `limit`, oldest first), with its
    channel segments: two reads."""
    access_customer(session, workspace_id, customer_id)
    facts = list(session.scalars(
        select(F).where(F.workspace_id == workspace_id, F.customer_id == customer_id)
        .order_by(F.opened_at.desc()).limit(limit)))[::-1]
    legs: dict[uuid.UUID, list[Leg]] = defaultdict(list)
    if facts:
        for seg in session.scalars(select(ConversationSegment).where(
                ConversationSegment.conversation_id.in_([f.conversation_id for f in facts]))
                .order_by(ConversationSegment.conversation_id, ConversationSegment.number)):
            legs[seg.conversation_id].append(Leg(seg.channel, seg.visibility, seg.started_at,
                                                 seg.ended_at, seg.messages))
    return [Stop(conversation_id=f.conversation_id, opened_at=f.opened_at, status=f.status,
                 origin=origin_of(f.origin_source, f.origin_channel, f.origin_visibility),
                 end=end_of(f.status, f.resolved_channel, f.resolved_visibility),
                 legs=legs.get(f.conversation_id, []), fcr=f.fcr,
                 first_response_s=f.first_response_s, resolution_s=f.resolution_s,
                 reopen_count=f.reopen_count) for f in facts]
