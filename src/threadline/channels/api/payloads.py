"""Wire format of the generic API channel (signed JSON in, signed JSON out)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ApiAuthor(_Model):
    id: str = Field(min_length=1, max_length=255)
    kind: str | None = Field(default=None, max_length=32)
    handle: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    is_self: bool = False
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)


class ApiMessage(_Model):
    id: str = Field(min_length=1, max_length=255)
    text: str = Field(default="", max_length=100_000)
    visibility: Literal["public", "private"] = "private"
    kind: Literal["message", "post", "comment", "call"] = "message"
    created_at: datetime
    author: ApiAuthor
    in_reply_to: str | None = Field(default=None, max_length=255)
    references: list[str] = Field(default_factory=list, max_length=100)
    thread_key: str | None = Field(default=None, max_length=255)
    link_token: str | None = Field(default=None, max_length=512)
    subject: str | None = Field(default=None, max_length=1000)


class ApiStatus(_Model):
    message_id: str = Field(min_length=1, max_length=255)
    state: Literal["sent", "delivered", "read", "failed"]
    at: datetime
    error: str | None = Field(default=None, max_length=1000)


class ApiEdit(_Model):
    message_id: str = Field(min_length=1, max_length=255)
    text: str = Field(max_length=100_000)
    at: datetime


class ApiDelete(_Model):
    message_id: str = Field(min_length=1, max_length=255)
    at: datetime


class ApiEvent(_Model):
    id: str = Field(min_length=1, max_length=255)
    type: Literal["message", "status", "edit", "delete"]
    message: ApiMessage | None = None
    status: ApiStatus | None = None
    edit: ApiEdit | None = None
    delete: ApiDelete | None = None

    @model_validator(mode="after")
    def _body_matches_type(self) -> ApiEvent:
        if getattr(self, self.type) is None:
            raise ValueError(f"an event of type {self.type!r} needs a {self.type!r} object")
        return self


class ApiEnvelope(_Model):
    events: list[ApiEvent] = Field(min_length=1, max_length=1000)


class ApiSendAnswer(_Model):
    id: str | None = Field(default=None, max_length=255)
