"""The workspace's public-answer policy (`Workspace.settings["public_answers"]`): reading it
for triage (the inbound batch and the composer) and saving it (admins), validated and audited.
The matcher is pure, in triage/public_answers.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.events.service import audit
from threadline.triage.public_answers import PublicAnswers, Topic
from threadline.workspace.service import read_setting, write_setting

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


def stored_public_answers(session: Session, workspace_id: uuid.UUID) -> PublicAnswersIn:
    return read_setting(session, workspace_id, SETTING, PublicAnswersIn)


def as_policy(stored: PublicAnswersIn) -> PublicAnswers:
    return PublicAnswers(
        public=tuple(Topic(t.topic, tuple(t.keywords)) for t in stored.public),
        private=tuple(Topic(t.topic, tuple(t.keywords)) for t in stored.private))


def public_answers(session: Session, workspace_id: uuid.UUID) -> PublicAnswers:
    return as_policy(stored_public_answers(session, workspace_id))


def set_public_answers(session: Session, workspace_id: uuid.UUID, policy: PublicAnswersIn,
                       actor: Actor) -> PublicAnswersIn:
    data = write_setting(session, workspace_id, SETTING, policy)
    audit(session, workspace_id, "workspace.public_answers_set", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id,
          data={"public": [t["topic"] for t in data["public"]],
                "private": [t["topic"] for t in data["private"]]})
    return policy
