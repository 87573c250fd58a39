"""Shared by the incident tests: posts through the API channel's signed webhook path (in
process, drained by the test's worker) and tokens bound to supervisors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.desktop.conftest import make_agent
from tests.factories import text_tag
from threadline.incidents.models import Incident, IncidentPost
from threadline.ingest.replay import Tweet, replay_account, store_events, tweet_event
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import create_token


def api_account(runtime: Runtime, workspace_id: uuid.UUID) -> ChannelAccount:
    with runtime.db.session() as session:
        return replay_account(session, workspace_id, name="public posts")


def post_texts(runtime: Runtime, account: ChannelAccount, texts: list[str], *,
               prefix: str = "", start: datetime | None = None, step: float = 1.0,
               authors: list[str] | None = None) -> list[str]:
    """Each text as a public post of its own author, from `start` (two minutes ago: within
    the detector's window whenever the suite runs); returns the provider ids."""
    tag = prefix or text_tag()
    start = start or datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    events, ids = [], []
    for n, text in enumerate(texts):
        tid = f"{tag}{n}"
        author = authors[n] if authors else f"{tag}u{n}"
        events.append(tweet_event(Tweet(tweet_id=tid, author_id=author, inbound=True,
                                        created_at=start + timedelta(seconds=n * step),
                                        text=text, in_reply_to=None)))
        ids.append(tid)
    for i in range(0, len(events), 100):
        with runtime.db.session() as session:
            store_events(session, account, events[i:i + 100])
    return ids


def supervisor_token(runtime: Runtime, workspace_id: uuid.UUID,
                     role: str = "supervisor") -> tuple[str, uuid.UUID]:
    agent = make_agent(runtime, workspace_id, role)
    with runtime.db.session() as session:
        _, plain = create_token(session, workspace_id, role=role, agent_id=agent.id)
    return plain, agent.id


def incidents(runtime: Runtime, workspace_id: uuid.UUID) -> list[Incident]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(Incident).where(
            Incident.workspace_id == workspace_id).order_by(Incident.created_at)))


def members(runtime: Runtime, incident_id: uuid.UUID) -> list[Any]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(IncidentPost).where(
            IncidentPost.incident_id == incident_id)))
