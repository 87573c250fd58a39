"""A small, hand-computed workspace for the dashboards: four conversations in the range,
one before it, one in another workspace (their facts written directly, as the worker would
have left them), with the figures each KPI must give (docs/dashboards.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from threadline.conversations.models import Conversation
from threadline.jobs.runtime import Runtime
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.models import ConversationFacts
from threadline.workspace.models import Agent, ChannelAccount, Team

START, END = date(2026, 2, 1), date(2026, 2, 10)


def at(day: int, hour: int, minute: int = 0, month: int = 2) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def add_conversation(runtime: Runtime, workspace_id: uuid.UUID, **facts: Any) -> uuid.UUID:
    """A conversation and its facts row (fields not given take the facts' defaults)."""
    conv_id = uuid.uuid4()
    opened = facts.setdefault("opened_at", at(2, 12))
    with runtime.db.session() as session:
        session.add(Conversation(
            id=conv_id, workspace_id=workspace_id, status=facts.get("status", "open"),
            origin_channel=facts.get("origin_channel"),
            origin_visibility=facts.get("origin_visibility"), created_at=opened,
            updated_at=opened, last_message_at=opened, labels=[], required_skills=[]))
        session.flush()
        row: dict[str, Any] = {"status": "open", "journey": "", "priority": 4,
                               "next_responses": 0, "next_response_total_s": 0.0,
                               "reopen_count": 0, "customer_messages": 1, "agent_messages": 1,
                               "episodes": 1, "segments": 1, "channels": 1, "handle_s": 0.0,
                               "public_to_private": False, "status_cursor": 0,
                               "updated_at": opened}
        row.update(facts)
        session.add(ConversationFacts(conversation_id=conv_id, workspace_id=workspace_id,
                                      **row))
    return conv_id


@dataclass
class Shop:
    workspace_id: uuid.UUID
    teams: list[uuid.UUID]
    agents: list[uuid.UUID]
    accounts: dict[str, uuid.UUID]
    ids: dict[str, uuid.UUID]

    def filters(self, **changes: Any) -> Filters:
        return Filters(self.workspace_id, changes.pop("start", START),
                       changes.pop("end", END), **changes)


def build_shop(runtime: Runtime, workspace_id: uuid.UUID, other_workspace: uuid.UUID) -> Shop:
    with runtime.db.session() as session:
        teams = [Team(id=uuid.uuid4(), workspace_id=workspace_id, name=n)
                 for n in ("Social", "Care")]
        agents = [Agent(id=uuid.uuid4(), workspace_id=workspace_id, email=f"{n}@shop.example",
                        name=n.title(), role="agent") for n in ("ana", "bo")]
        accounts = {k: ChannelAccount(id=uuid.uuid4(), workspace_id=workspace_id, kind=k,
                                      name=f"Shop {k}", config={}, active=True)
                    for k in ("x", "whatsapp", "email")}
        session.add_all([*teams, *agents, *accounts.values()])
    t1, t2 = teams[0].id, teams[1].id
    a1, a2 = agents[0].id, agents[1].id
    ids = {
        "A": add_conversation(
            runtime, workspace_id, origin_channel="x", origin_visibility="public",
            origin_account_id=accounts["x"].id, opened_at=at(2, 9, 30), status="resolved",
            first_response_s=60.0, first_response_business_s=30.0, resolution_s=3600.0,
            fcr=True, sla_first_response_met=True, sla_resolution_met=True, handle_s=600.0,
            journey="x:public>x:private>x:public", segments=3, public_to_private=True,
            hop_offered_s=120.0, hop_taken=True, returned_to_origin=True,
            return_delay_s=1800.0, sentiment_start="negative", sentiment_end="positive",
            category="complaint", relevance="direct", team_id=t1, assignee_id=a1,
            resolved_by_id=a1, resolved_channel="x", resolved_visibility="public",
            customer_messages=3, agent_messages=3),
        "B": add_conversation(
            runtime, workspace_id, origin_channel="x", origin_visibility="public",
            origin_account_id=accounts["x"].id, opened_at=at(2, 14, 10), status="open",
            first_response_s=300.0, first_response_business_s=300.0,
            sla_first_response_met=False, journey="x:public", sentiment_start="neutral",
            sentiment_end="neutral", category="question", relevance="mention", team_id=t2),
        "C": add_conversation(
            runtime, workspace_id, origin_channel="whatsapp", origin_visibility="private",
            origin_account_id=accounts["whatsapp"].id, origin_source="store",
            opened_at=at(3, 9, 5), status="resolved", first_response_s=120.0,
            first_response_business_s=120.0, resolution_s=7200.0, fcr=False, reopen_count=1,
            sla_first_response_met=True, sla_resolution_met=False, handle_s=1200.0,
            journey="whatsapp:private", sentiment_start="negative", sentiment_end="negative",
            category="complaint", relevance="direct", team_id=t1, assignee_id=a2,
            resolved_by_id=a2, resolved_channel="whatsapp", resolved_visibility="private",
            customer_messages=2, agent_messages=2),
        "D": add_conversation(
            runtime, workspace_id, origin_channel="email", origin_visibility="private",
            origin_account_id=accounts["email"].id, opened_at=at(5, 22), status="closed",
            first_response_s=600.0, first_response_business_s=0.0, resolution_s=86400.0,
            sla_first_response_met=True, sla_resolution_met=True, handle_s=1800.0,
            journey="email:private>voice:private", segments=2, channels=2,
            sentiment_start="positive", sentiment_end="neutral", relevance="direct",
            assignee_id=a1, resolved_by_id=a1, resolved_channel="voice",
            resolved_visibility="private", customer_messages=4, agent_messages=5),
        "before": add_conversation(
            runtime, workspace_id, origin_channel="x", origin_visibility="public",
            opened_at=at(15, 10, month=1), first_response_s=1.0, journey="x:public"),
        "elsewhere": add_conversation(
            runtime, other_workspace, origin_channel="x", origin_visibility="public",
            opened_at=at(4, 10), first_response_s=2.0, journey="x:public"),
    }
    return Shop(workspace_id, [t1, t2], [a1, a2], {k: a.id for k, a in accounts.items()}, ids)
