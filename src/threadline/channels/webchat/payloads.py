"""Wire format of the web chat: the JSON the web edge builds from a visitor's request.

The visitor's browser never posts this body itself: `threadline.web.webchat` checks the
visitor token, the origin and the limits, then writes one of these envelopes through the
durable ingest path (split -> store -> commit -> 2xx; normalize later in the worker).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_TEXT = 4000
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebchatVisitor(_Model):
    id: str = Field(min_length=3, max_length=255)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    verified: bool = False


class WebchatMessage(_Model):
    echo_id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    sent_at: datetime


class WebchatRead(_Model):
    message_id: str = Field(min_length=1, max_length=255)
    at: datetime


class WebchatEnvelope(_Model):
    type: Literal["message", "read"]
    visitor: WebchatVisitor
    message: WebchatMessage | None = None
    read: WebchatRead | None = None
    link_token: str | None = Field(default=None, max_length=512)
    page_url: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _body_matches_type(self) -> WebchatEnvelope:
        if self.type == "message" and self.message is None:
            raise ValueError("a message envelope needs 'message'")
        if self.type == "read" and self.read is None:
            raise ValueError("a read envelope needs 'read'")
        return self

    @property
    def event_id(self) -> str:
        if self.message is not None:
            return f"{self.visitor.id}:{self.message.echo_id}"
        assert self.read is not None
        return f"{self.visitor.id}:read:{self.read.message_id}"
