"""API shapes for conversations and messages (strict input models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from threadline.schema_types import (
    ChannelKind,
    ConversationStatus,
    DatetimeIn,
    DeliveryName,
    DirectionName,
    MessageKindName,
    Priority,
    RelevanceName,
    UUIDIn,
    VisibilityName,
)


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    channel: ChannelKind | Literal["note"]  # an internal note has no channel
    channel_account_id: uuid.UUID | None
    visibility: VisibilityName
    direction: DirectionName
    kind: MessageKindName
    text: str
    subject: str | None
    provider_id: str | None
    reply_to_provider_id: str | None
    created_at: datetime
    delivery: DeliveryName
    delivery_error: str | None
    author_type: str
    author_agent_id: uuid.UUID | None
    identity_id: uuid.UUID | None
    attachments: list[Any]
    triage: dict[str, Any]
    edited_at: datetime | None
    deleted_at: datetime | None
    meta: dict[str, Any] = Field(default_factory=dict)
    masked: bool = False
    # Set when the message is from (or to) someone who took a public link and is not proven
    # to be the conversation's customer: the warning agents see (decision 0103).
    unverified: str | None = None


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID | None
    status: ConversationStatus
    origin_channel: ChannelKind | None
    origin_visibility: VisibilityName | None
    subject: str | None
    category: str | None
    priority: Priority
    relevance: RelevanceName | None = Field(description=(
        "triage's relevance of the most relevant customer message: a direct question (or a "
        "private message), an awareness mention of the brand, a competitor mention, chatter; "
        "null when no customer message was triaged. Only direct ones (and null) are in the "
        "agents' queue; the others have their views (docs/queues.md)."))
    sentiment: str | None
    language: str | None
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None
    labels: list[Any]
    sla_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    reopen_count: int
    message_count: int
    last_message_at: datetime
    last_inbound_at: datetime | None
    merged_into_id: uuid.UUID | None
    created_at: datetime

    @computed_field(  # type: ignore[prop-decorator]
        description='The priority as agents read it: "P1" (most urgent) .. "P4".')
    @property
    def priority_label(self) -> str:
        return f"P{self.priority}"


class CustomerBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str | None


class ConversationDetail(ConversationOut):
    customer: CustomerBrief | None = None
    messages: list[MessageOut] = Field(default_factory=list)


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next: str | None


class MessageIn(StrictInput):
    text: str = Field(default="", max_length=20_000, description=(
        "The message; may be empty only when `attachment_ids` are given."))
    visibility: VisibilityName = "public"
    channel_account_id: UUIDIn | None = None
    kind: Literal["message", "note"] = "message"
    options: dict[str, Any] = Field(default_factory=dict)
    attachment_ids: list[UUIDIn] = Field(default_factory=list, max_length=10, description=(
        "Files uploaded for this conversation (`POST /conversations/{id}/attachments`) to "
        "send with the message (most channels take one per message)."))

    @model_validator(mode="after")
    def _has_content(self) -> MessageIn:
        if not self.text and not self.attachment_ids:
            raise ValueError("a message needs text or attachment_ids")
        return self


class ConversationPatch(StrictInput):
    status: ConversationStatus | None = None
    snooze_until: DatetimeIn | None = None
    assignee_id: UUIDIn | None = None
    unassign: bool = False
    team_id: UUIDIn | None = None
    labels: list[str] | None = None
    category: str | None = None
    sentiment: str | None = None
    priority: Priority | None = None


class SplitIn(StrictInput):
    message_ids: list[UUIDIn] = Field(min_length=1, max_length=1000)


class MergeIn(StrictInput):
    other_id: UUIDIn
