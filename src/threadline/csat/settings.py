"""The workspace's CSAT settings (`Workspace.settings["csat"]`): whether surveys are sent, how
long after the resolution, at most one per customer per how many days, the question, how long
an answer is accepted (a tap or the link: `expire_days`; a plain "4" typed on the channel:
`text_reply_hours`) and how WhatsApp shows the scale. Validated as the API body and the
settings form; stored as JSON."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.events.service import audit
from threadline.workspace.service import read_setting, write_setting

SETTING = "csat"
DEFAULT_QUESTION = "How would you rate the help you received?"
MAX_QUESTION = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class CsatSettings(BaseModel):
    """Off by default: a workspace turns surveys on (docs/csat.md#settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: StrictBool = False
    delay_minutes: int = Field(default=10, ge=0, le=7 * 24 * 60)
    period_days: int = Field(default=30, ge=0, le=365)
    question: str = Field(default=DEFAULT_QUESTION, min_length=1, max_length=MAX_QUESTION)
    expire_days: int = Field(default=7, ge=1, le=30)
    text_reply_hours: int = Field(default=24, ge=0, le=7 * 24)
    whatsapp_style: Literal["buttons", "list"] = "buttons"

    @field_validator("question")
    @classmethod
    def _plain(cls, value: str) -> str:
        text = " ".join(_CONTROL.sub("", value).split())
        if not text:
            raise ValueError("the question needs words")
        return text


def csat_settings(session: Session, workspace_id: uuid.UUID) -> CsatSettings:
    # saved by an older version and unreadable: surveys stay off until saved again
    return read_setting(session, workspace_id, SETTING, CsatSettings,
                        unreadable=CsatSettings(enabled=False))


def set_csat_settings(session: Session, workspace_id: uuid.UUID, value: CsatSettings,
                      actor: Actor) -> CsatSettings:
    data = write_setting(session, workspace_id, SETTING, value)
    audit(session, workspace_id, "workspace.csat_settings_set", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id, data=data)
    return value
