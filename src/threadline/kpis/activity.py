"""Active handle time from the desktop: while a conversation is open in a visible tab and the
agent is not idle, the desktop reports the seconds he spent on it (focus) or typing in it
(typing), one report at a time (static/desktop/activity.js via POST /desktop/activity).

An agent cannot be active longer than the clock allows: a report claims at most the seconds
since his previous report ended (two tabs, or a replayed request, count once), and at most
`kpi_activity_max_seconds`. Consecutive reports on the same conversation and kind extend one
interval (`agent_activity` row) instead of adding rows. The conversation's `handle_s` grows
by what is recorded, in the same transaction."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.conversations.service import access_conversation
from threadline.db.base import utcnow
from threadline.errors import ValidationFailed
from threadline.kpis.models import AgentActivity, ConversationFacts
from threadline.workspace.models import Agent

KINDS = ("focus", "typing")  # calls are recorded from their messages (kpis.tracking)
DEFAULT_MAX_SECONDS = 60.0


def check_report(kind: object, seconds: object, max_seconds: float) -> tuple[str, float]:
    """The report's kind and seconds, or ValidationFailed naming the field."""
    if kind not in KINDS:
        raise ValidationFailed("kind: focus or typing", code="invalid_activity_kind",
                               details={"field": "kind"})
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
            or not math.isfinite(seconds) or not 0 < seconds <= max_seconds:
        raise ValidationFailed(f"seconds: a number above 0 and at most {max_seconds:g}",
                               code="invalid_activity_seconds", details={"field": "seconds"})
    return str(kind), float(seconds)


def record_activity(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID,
                    conversation_id: uuid.UUID, kind: object, seconds: object, *,
                    max_seconds: float = DEFAULT_MAX_SECONDS,
                    now: datetime | None = None) -> float:
    """Record one report of the agent's activity on a conversation of his workspace
    (NotFound otherwise). Returns the seconds counted (0 when the clock allows none)."""
    kind, claimed = check_report(kind, seconds, max_seconds)
    conv = access_conversation(session, workspace_id, conversation_id)
    # one report of an agent at a time (PostgreSQL: his row's lock; SQLite has one writer),
    # so two tabs reporting at once cannot both claim the same seconds
    session.execute(select(Agent.id).where(Agent.id == agent_id).with_for_update())
    now = now or utcnow()
    last = session.scalar(select(AgentActivity).where(
        AgentActivity.agent_id == agent_id, AgentActivity.kind.in_(KINDS))
        .order_by(AgentActivity.ended_at.desc()).limit(1))
    if last is not None:
        claimed = min(claimed, (now - last.ended_at).total_seconds())
    if claimed <= 0:
        return 0.0
    start = now - timedelta(seconds=claimed)
    if last is not None and last.conversation_id == conv.id and last.kind == kind \
            and (start - last.ended_at).total_seconds() <= max_seconds:
        last.ended_at = now
        last.seconds = last.seconds + claimed
    else:
        session.add(AgentActivity(workspace_id=workspace_id, agent_id=agent_id,
                                  conversation_id=conv.id, kind=kind, started_at=start,
                                  ended_at=now, seconds=claimed))
    session.execute(update(ConversationFacts).where(
        ConversationFacts.conversation_id == conv.id)
        .values(handle_s=ConversationFacts.handle_s + claimed)
        .execution_options(synchronize_session=False))
    session.flush()
    return claimed
