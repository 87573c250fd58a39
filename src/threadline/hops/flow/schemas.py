"""API shapes for hops, callbacks, consent, verification and the offered channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from threadline.conversations.schemas import ConversationDetail, ConversationOut, MessageOut
from threadline.schema_types import (
    CallbackOutcome,
    CallbackState,
    ChannelKind,
    ConversationStatus,
    DatetimeIn,
    HopChoice,
    HopMethod,
    HopReason,
    OfferedKind,
    UUIDIn,
    VisibilityName,
)


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HopIn(StrictInput):
    method: HopMethod
    reason: HopReason = "privacy"
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    channel_account_id: UUIDIn | None = None
    choices: list[HopChoice] | None = Field(
        default=None, min_length=1, max_length=5,
        description="choice_link only: the ways the customer may pick from (default: every "
                    "one the workspace can offer)")


class HopOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    method: HopMethod
    reason: HopReason
    from_channel: ChannelKind | Literal["unknown"]  # "unknown": the conversation had no origin
    from_visibility: VisibilityName
    to_channel: ChannelKind | None
    to_visibility: VisibilityName
    to_account_id: uuid.UUID | None
    short_link_id: uuid.UUID | None
    consent_id: uuid.UUID | None
    origin_message_id: uuid.UUID | None
    offered_at: datetime | None
    taken_at: datetime | None
    returned_at: datetime | None
    meta: dict[str, Any] = Field(default_factory=dict)
    conversation_status: ConversationStatus | None = None

    def with_status(self, status: str) -> HopOut:
        # a column value; the response model checks it against the enum when it is sent
        self.conversation_status = cast(ConversationStatus, status)
        return self


class HopOfferOut(BaseModel):
    hop: HopOut
    url: str | None
    message: MessageOut | None


class ResolveOut(BaseModel):
    conversation: ConversationOut
    follow_up_draft: str | None


class FollowUpOut(BaseModel):
    draft: str | None


class FollowUpIn(StrictInput):
    text: str | None = Field(default=None, min_length=1, max_length=2000)


class CallbackIn(StrictInput):
    phone: str = Field(min_length=3, max_length=32)
    window_start: DatetimeIn | None = None
    window_end: DatetimeIn | None = None


class CallbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID | None
    phone: str
    window_start: datetime | None
    window_end: datetime | None
    state: CallbackState
    outcome: str | None
    call_provider_id: str | None
    created_at: datetime
    meta: dict[str, Any] = Field(default_factory=dict)  # taker_id: asked for on a public link


class OutcomeIn(StrictInput):
    outcome: CallbackOutcome
    note: str | None = Field(default=None, max_length=2000)


class RescheduleIn(StrictInput):
    window_start: DatetimeIn
    window_end: DatetimeIn | None = None


class CancelIn(StrictInput):
    note: str | None = Field(default=None, max_length=2000)


class ConsentIn(StrictInput):
    kind: Literal["email", "phone", "whatsapp", "sms"]
    address: str = Field(min_length=3, max_length=320)
    purpose: str = Field(min_length=1, max_length=64)
    method: Literal["verbal", "dm", "email", "form"]
    wording: str = Field(min_length=1, max_length=2000)


class ConsentCreated(BaseModel):
    id: uuid.UUID


class ConsentRevoked(BaseModel):
    id: uuid.UUID
    revoked_at: str  # the time it was revoked, as "YYYY-MM-DD HH:MM:SS.ffffff+00:00"


class VerificationIn(StrictInput):
    conversation_id: UUIDIn


class VerificationOut(BaseModel):
    identity_id: uuid.UUID
    message_id: uuid.UUID


class OfferedChannel(StrictInput):
    kind: OfferedKind
    label: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=300)


class OfferedChannelsIn(StrictInput):
    channels: list[OfferedChannel] = Field(max_length=20)


class OfferedChannelsOut(BaseModel):
    channels: list[OfferedChannel]
    text: str


class TakerOut(BaseModel):
    """Who took a public link: pending (not proven to be the public author), proven (his proof
    code came from the author's account) or confirmed (by an agent)."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    hop_id: uuid.UUID | None
    customer_id: uuid.UUID
    claimed_customer_id: uuid.UUID
    claimed_handle: str
    channel: str
    state: str
    verified: bool
    proven_by: str | None
    proven_at: datetime | None
    created_at: datetime
    warning: str | None


class ConversationWithTakers(ConversationDetail):
    takers: list[TakerOut] = Field(default_factory=list)


DetailFieldName = Literal["delivery_address", "order_number", "date_of_birth", "email", "phone"]


class DetailRequestIn(StrictInput):
    fields: list[DetailFieldName] = Field(min_length=1, max_length=5)
    note: str | None = Field(default=None, min_length=1, max_length=300,
                             description="Why you ask (shown on the form)")


class DetailFieldOut(BaseModel):
    name: DetailFieldName
    label: str
    value: str | None = Field(description="What the customer gave (None until he does)")


class DetailRequestOut(BaseModel):
    id: uuid.UUID
    note: str | None
    created_at: datetime
    submitted_at: datetime | None
    fields: list[DetailFieldOut]


class DetailRequestCreated(BaseModel):
    request: DetailRequestOut
    url: str
    message: MessageOut
