"""Shared steps of the quality tests: agents and teams, resolved conversations written as the
inbound pipeline and the desktop leave them (with an agent's answer, hops), CSAT surveys in
`csat_surveys`, reviews."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from threadline.conversations.models import Conversation, Message
from threadline.db.base import new_id, utcnow
from threadline.hops.records.models import Hop
from threadline.jobs.runtime import Runtime
from threadline.quality.models import QualityReview
from threadline.workspace.models import Team
from threadline.workspace.service import create_agent


def agent(runtime: Runtime, workspace_id: uuid.UUID, name: str, role: str = "agent",
          team_id: uuid.UUID | None = None) -> uuid.UUID:
    with runtime.db.session() as session:
        row, _ = create_agent(session, workspace_id, role=role, name=name,
                              email=f"{name.lower().replace(' ', '.')}-{uuid.uuid4().hex[:6]}"
                                    "@quality.example")
        row.team_id = team_id
        return row.id


def team(runtime: Runtime, workspace_id: uuid.UUID, name: str) -> uuid.UUID:
    with runtime.db.session() as session:
        row = Team(workspace_id=workspace_id, name=name)
        session.add(row)
        session.flush()
        return row.id


def conversation(runtime: Runtime, workspace_id: uuid.UUID, *, assignee: uuid.UUID | None,
                 answered_by: uuid.UUID | None = None, status: str = "resolved",
                 resolved_at: datetime | None = None, channel: str = "x",
                 visibility: str = "private", category: str | None = None,
                 sentiment: str | None = None, reopen_count: int = 0, hopped: bool = False,
                 team_id: uuid.UUID | None = None, answer_channel: str | None = None,
                 merged_into: uuid.UUID | None = None) -> uuid.UUID:
    """A conversation with a customer message and (when `answered_by`) an agent's answer."""
    resolved_at = resolved_at or utcnow() - timedelta(minutes=5)
    with runtime.db.session() as session:
        conv = Conversation(id=new_id(), workspace_id=workspace_id, status=status,
                            origin_channel=channel, origin_visibility=visibility,
                            category=category, sentiment=sentiment, assignee_id=assignee,
                            team_id=team_id, reopen_count=reopen_count, labels=[],
                            required_skills=[], merged_into_id=merged_into,
                            created_at=resolved_at - timedelta(hours=1),
                            resolved_at=resolved_at if status in ("resolved", "closed")
                            else None)
        session.add(conv)
        session.flush()
        session.add(Message(workspace_id=workspace_id, conversation_id=conv.id, channel=channel,
                            direction="inbound", visibility=visibility, author_type="customer",
                            text="My order never came.",
                            created_at=resolved_at - timedelta(minutes=50)))
        if answered_by is not None:
            session.add(Message(workspace_id=workspace_id, conversation_id=conv.id,
                                channel=answer_channel or channel, direction="outbound",
                                visibility=visibility, author_type="agent",
                                author_agent_id=answered_by, delivery="sent",
                                text="Sorry about that, it ships today.",
                                created_at=resolved_at - timedelta(minutes=10)))
        if hopped:
            session.add(Hop(workspace_id=workspace_id, conversation_id=conv.id,
                            from_channel=channel, from_visibility="public",
                            to_channel="whatsapp", to_visibility="private", reason="privacy",
                            method="dm_invite", offered_at=resolved_at - timedelta(minutes=30)))
        return conv.id


def reviews_of(runtime: Runtime, workspace_id: uuid.UUID) -> list[QualityReview]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(QualityReview).where(
            QualityReview.workspace_id == workspace_id).order_by(QualityReview.created_at)))


def by_conversation(runtime: Runtime, workspace_id: uuid.UUID) -> dict[uuid.UUID, QualityReview]:
    return {r.conversation_id: r for r in reviews_of(runtime, workspace_id)}


def survey(runtime: Runtime, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
           score: int | None) -> None:
    from threadline.csat.models import CsatSurvey

    now = utcnow()
    values: dict[str, Any] = {
        "id": new_id(), "workspace_id": workspace_id, "conversation_id": conversation_id,
        "channel": "messenger", "method": "quick_replies",
        "status": "answered" if score is not None else "sent",
        "sent_at": now, "answered_at": now if score is not None else None, "score": score}
    with runtime.db.session() as session:
        session.add(CsatSurvey(**values))
