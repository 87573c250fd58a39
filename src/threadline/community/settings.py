"""A workspace's community rules: when an unanswered forum question is escalated to the
agents (`Workspace.settings["community"]`, docs/community.md)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.errors import NotFound, invalid_input
from threadline.events.service import audit
from threadline.workspace.models import Workspace

SETTING = "community"
MIN_HOURS, MAX_HOURS = 0.25, 24 * 30.0


class CommunitySettings(BaseModel):
    """`enabled`: new forum topics stay with the community (not in the agents' queue) until
    escalated; off, every topic enters the queue like a public post. `escalate_after_hours`:
    a topic with no accepted solution and no staff reply after this long is escalated.
    `escalate_on_negative` / `escalate_on_complaint`: the asker's negative post or complaint
    (triage) escalates at once. `article_category`: the knowledge base category of articles
    made from accepted answers."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    escalate_after_hours: float = Field(default=24.0, ge=MIN_HOURS, le=MAX_HOURS)
    escalate_on_negative: bool = True
    escalate_on_complaint: bool = True
    article_category: str = Field(default="Community answers", min_length=1, max_length=80,
                                  pattern=r"^[^\x00-\x1f<>/]+$")


def community_settings(session: Session, workspace_id: uuid.UUID) -> CommunitySettings:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    stored = (workspace.settings or {}).get(SETTING)
    if not isinstance(stored, dict):
        return CommunitySettings()
    try:
        return CommunitySettings.model_validate(stored)
    except ValidationError:
        return CommunitySettings()  # written by an older version: the defaults


def set_community_settings(session: Session, workspace_id: uuid.UUID, changes: dict[str, Any],
                           actor: Actor) -> CommunitySettings:
    """Change some of the rules (a typed 422 naming the field; nothing stored then)."""
    current = community_settings(session, workspace_id)
    try:
        updated = CommunitySettings.model_validate({**current.model_dump(), **changes})
    except ValidationError as exc:
        raise invalid_input(exc, "invalid_community_settings") from None
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found")
    settings = dict(workspace.settings or {})
    settings[SETTING] = updated.model_dump()
    workspace.settings = settings
    audit(session, workspace_id, "community.settings_changed", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id, data=updated.model_dump())
    return updated
