"""An incident workspace's settings (`Workspace.settings["incidents"]`): the detector's
thresholds and the fan-out's pace per channel (docs/incidents.md#settings)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.events.service import audit
from threadline.incidents.detect import DetectorSettings
from threadline.workspace.service import read_setting, write_setting

SETTING = "incidents"
PUBLIC_CHANNELS = ("x", "facebook", "instagram", "discourse")
DEFAULT_PACE = {"x": 300, "facebook": 600, "instagram": 300, "discourse": 120}


class IncidentSettings(BaseModel):
    """Validated as the API's body; stored as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)  # "8" is not 8

    enabled: StrictBool = True
    window_minutes: int = Field(default=15, ge=1, le=180)
    similarity: float = Field(default=0.35, ge=0.1, le=0.95)
    min_posts: int = Field(default=8, ge=3, le=1000)
    # different customers among them (0: as many as min_posts)
    min_authors: int = Field(default=0, ge=0, le=1000)
    hold_hours: int = Field(default=24, ge=1, le=24 * 14)
    # replies per minute and channel account: the fan-out never goes faster
    pace_per_minute: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PACE))

    @field_validator("pace_per_minute")
    @classmethod
    def _paces(cls, value: dict[str, int]) -> dict[str, int]:
        for kind, per_minute in value.items():
            if kind not in PUBLIC_CHANNELS:
                raise ValueError(f"pace is set for public channels: {', '.join(PUBLIC_CHANNELS)}")
            if not 1 <= int(per_minute) <= 6000:
                raise ValueError("a pace is 1 to 6000 replies a minute")
        return {**DEFAULT_PACE, **value}

    def detector(self) -> DetectorSettings:
        return DetectorSettings(window_seconds=self.window_minutes * 60.0,
                                similarity=self.similarity, min_posts=self.min_posts,
                                min_authors=self.min_authors)

    def pace(self, kind: str) -> int:
        return int(self.pace_per_minute.get(kind, 60))


def incident_settings(session: Session, workspace_id: uuid.UUID) -> IncidentSettings:
    return read_setting(session, workspace_id, SETTING, IncidentSettings,
                        unreadable=IncidentSettings())


def set_incident_settings(session: Session, workspace_id: uuid.UUID, value: IncidentSettings,
                          actor: Actor) -> IncidentSettings:
    data = write_setting(session, workspace_id, SETTING, value)
    audit(session, workspace_id, "workspace.incident_settings_set", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id, data=data)
    return value
