"""The demo's routing: two teams ("Care" in English, "Español" with the skill es and its
language required), four agents with their skills (three online), two rules (Spanish to
Español, everything else to Care), then whatever is waiting is routed. Run again, it changes
nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from threadline.conversations.models import Conversation, Status
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.jobs.hooks import OPERATIONS_LOCK
from threadline.jobs.runtime import Runtime
from threadline.routing import admin
from threadline.routing.schemas import MemberIn, RuleIn, TeamIn
from threadline.routing.service import route
from threadline.workspace.models import Agent, Team
from threadline.workspace.service import create_agent

DEMO = Actor("system", "demo")
AGENTS = (("Ana García", "ana", ["es"], "online"),
          ("Luis Pérez", "luis", ["es", "en"], "online"),
          ("Carla Smith", "carla", ["en"], "online"),
          ("Ben Okafor", "ben", ["en", "vip"], "away"))


def seed_routing(runtime: Runtime, workspace_id: uuid.UUID) -> None:
    with runtime.db.session() as session:
        if session.scalar(select(Team.id).where(Team.workspace_id == workspace_id,
                                                Team.name == "Español")) is not None:
            return
        ids: dict[str, uuid.UUID] = {}
        for name, login, skills, presence in AGENTS:
            email = f"{login}@acme.example"
            agent = session.scalar(select(Agent).where(Agent.workspace_id == workspace_id,
                                                       Agent.email == email))
            if agent is None:
                agent, _ = create_agent(session, workspace_id, email=email, role="agent",
                                        name=name)
            agent.skills, agent.presence, agent.last_seen_at = skills, presence, utcnow()
            ids[login] = agent.id
        care = admin.create_team(session, workspace_id, TeamIn(
            name="Care", skills=["en", "channel:email"], members=[
                MemberIn(agent_id=ids[n]) for n in ("carla", "ben", "luis")]), DEMO)
        spanish = admin.create_team(session, workspace_id, TeamIn(
            name="Español", skills=["es"], language_required=True, members=[
                MemberIn(agent_id=ids[n]) for n in ("ana", "luis")]), DEMO)
        admin.create_rule(session, workspace_id, RuleIn.model_validate({
            "name": "Spanish speakers", "team_id": spanish.id, "required_skills": ["language"],
            "conditions": [{"field": "language", "op": "is", "value": "es"}]}), DEMO)
        admin.create_rule(session, workspace_id, RuleIn.model_validate({
            "name": "Everything else", "team_id": care.id, "conditions": []}), DEMO)
        workspace_lock(session, workspace_id, OPERATIONS_LOCK)
        for conv in session.scalars(select(Conversation).where(
                Conversation.workspace_id == workspace_id, Conversation.assignee_id.is_(None),
                Conversation.status.in_((Status.OPEN, Status.PENDING)),
                Conversation.merged_into_id.is_(None)).order_by(Conversation.created_at)).all():
            route(session, conv)
