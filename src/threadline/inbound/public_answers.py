"""The workspace's public-answer policy (`Workspace.settings["public_answers"]`): reading it
for triage (the inbound batch and the composer) and saving it (admins), validated and audited.
The matcher is pure, in triage/public_answers.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.errors import NotFound
from threadline.events.service import audit
from threadline.triage.public_answers import PublicAnswers, Topic
from threadline.workspace.models import Workspace

SETTING = "public_answers"
MAX_TOPICS = 30
MAX_KEYWORDS = 50

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60,
                                        pattern=r"^[^<>\x00-\x1f]+$")]


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Name
    keywords: list[Name] = Field(min_length=1, max_length=MAX_KEYWORDS)


class PublicAnswersIn(BaseModel):
    """Topics the team may answer in public, and topics that always go private."""

    model_config = ConfigDict(extra="forbid")

    public: list[TopicIn] = Field(default_factory=list, max_length=MAX_TOPICS)
    private: list[TopicIn] = Field(default_factory=list, max_length=MAX_TOPICS)


def _workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    return workspace


def stored_public_answers(session: Session, workspace_id: uuid.UUID) -> PublicAnswersIn:
    raw = (_workspace(session, workspace_id).settings or {}).get(SETTING)
    if not isinstance(raw, dict):
        return PublicAnswersIn()
    try:
        return PublicAnswersIn.model_validate(raw)
    except ValidationError:
        return PublicAnswersIn()


def as_policy(stored: PublicAnswersIn) -> PublicAnswers:
    return PublicAnswers(
        public=tuple(Topic(t.topic, tuple(t.keywords)) for t in stored.public),
        private=tuple(Topic(t.topic, tuple(t.keywords)) for t in stored.private))


def public_answers(session: Session, workspace_id: uuid.UUID) -> PublicAnswers:
    return as_policy(stored_public_answers(session, workspace_id))


def set_public_answers(session: Session, workspace_id: uuid.UUID, policy: PublicAnswersIn,
                       actor: Actor) -> PublicAnswersIn:
    workspace = _workspace(session, workspace_id)
    data = policy.model_dump()
    workspace.settings = {**(workspace.settings or {}), SETTING: data}
    audit(session, workspace_id, "workspace.public_answers_set", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id,
          data={"public": [t["topic"] for t in data["public"]],
                "private": [t["topic"] for t in data["private"]]})
    return policy
