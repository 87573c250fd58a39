"""What a visitor's browser may send (strict: unknown fields are refused)."""

from __future__ import annotations

import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

from threadline.channels.webchat.payloads import ID_PATTERN, MAX_TEXT

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_IDENTIFIER = re.compile(r"^[^\x00-\x1f\x7f\s]{1,200}$")


def clean_text(value: str) -> str:
    """Plain text only: control and direction-override characters go; the widget renders
    text with textContent, so markup is shown, never interpreted."""
    return _CONTROL.sub("", value.replace("\r\n", "\n")).strip()


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SessionIn(_Input):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    question: str | None = Field(default=None, max_length=MAX_TEXT)
    echo_id: str | None = Field(default=None, pattern=ID_PATTERN)
    identifier: str | None = Field(default=None, max_length=200)
    identifier_hash: str | None = Field(default=None, max_length=128)
    link_token: str | None = Field(default=None, max_length=512)
    page_url: str | None = Field(default=None, max_length=2000)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return clean_text(value) or None if value is not None else None

    @field_validator("question")
    @classmethod
    def _question(cls, value: str | None) -> str | None:
        return clean_text(value) or None if value is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            checked = validate_email(value.strip(), check_deliverability=False)
        except EmailNotValidError:
            raise ValueError("not an email address") from None
        return str(checked.normalized).lower()

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTIFIER.match(value):
            raise ValueError("an identifier is 1-200 visible characters without spaces")
        return value

    @field_validator("link_token", "identifier_hash", "page_url")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class MessageIn(_Input):
    text: str = Field(max_length=MAX_TEXT)
    echo_id: str = Field(pattern=ID_PATTERN)
    link_token: str | None = Field(default=None, max_length=512)
    page_url: str | None = Field(default=None, max_length=2000)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        text = clean_text(value)
        if not text:
            raise ValueError("a message needs text")
        return text


class ReadIn(_Input):
    message_id: str = Field(min_length=1, max_length=64)


class RatingIn(_Input):
    """The visitor's answer to a survey shown in his chat (docs/csat.md#web-chat)."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str | None) -> str | None:
        return clean_text(value) or None if value is not None else None


# --- what the visitor API answers (documented in the OpenAPI; the routes send JSONResponse) --


class SessionOut(BaseModel):
    token: str  # send it back as X-Visitor-Token
    visitor_id: str
    verified: bool
    question_stored: bool
    expires_in: int  # seconds


class MessageAccepted(BaseModel):
    echo_id: str
    accepted: bool
    duplicate: bool  # the same echo_id was stored before: nothing new


class ReadAccepted(BaseModel):
    message_id: str
    accepted: bool


class RatingRecorded(BaseModel):
    survey_id: str
    score: int
    recorded: bool


class HistoryVisitor(BaseModel):
    id: str
    name: str | None
    verified: bool


class HistoryOut(BaseModel):
    items: list[dict[str, Any]]  # messages the visitor may see, and the link's context first
    cursor: str  # where GET .../stream starts
    visitor: HistoryVisitor
