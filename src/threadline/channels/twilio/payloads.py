"""Wire shapes of Twilio webhooks (form parameters) and REST answers (docs/providers/twilio.md).

Webhook parameters arrive as form fields with Twilio's CamelCase names; the models read them by
alias and ignore everything else (Twilio adds parameters without notice).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_SID = Field(min_length=2, max_length=64)
_NUMBER = Field(min_length=1, max_length=64)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class StoredEvent(_Model):
    """What `split` stores for one webhook: its kind, every parameter, and when it arrived."""

    type: Literal["message", "status", "call", "recording"]
    params: dict[str, str] = Field(max_length=2000)
    received_at: datetime


class SmsParams(_Model):
    """Inbound SMS/MMS webhook and message status callback parameters
    (docs/providers/twilio.md#inbound-sms, docs/providers/twilio.md#status-callbacks)."""

    message_sid: str = Field(alias="MessageSid", min_length=2, max_length=64)
    account_sid: str | None = Field(default=None, alias="AccountSid", max_length=64)
    messaging_service_sid: str | None = Field(default=None, alias="MessagingServiceSid",
                                              max_length=64)
    from_: str = Field(alias="From", min_length=1, max_length=64)
    to: str | None = Field(default=None, alias="To", max_length=64)
    body: str = Field(default="", alias="Body", max_length=100_000)
    num_media: int = Field(default=0, alias="NumMedia", ge=0, le=100)
    num_segments: int | None = Field(default=None, alias="NumSegments", ge=0, le=10_000)
    message_status: str | None = Field(default=None, alias="MessageStatus", max_length=64)
    error_code: str | None = Field(default=None, alias="ErrorCode", max_length=64)
    error_message: str | None = Field(default=None, alias="ErrorMessage", max_length=2000)
    profile_name: str | None = Field(default=None, alias="ProfileName", max_length=255)
    from_country: str | None = Field(default=None, alias="FromCountry", max_length=64)


class CallParams(_Model):
    """Voice webhook and call status callback parameters (docs/providers/twilio.md#voice)."""

    call_sid: str = Field(alias="CallSid", min_length=2, max_length=64)
    account_sid: str | None = Field(default=None, alias="AccountSid", max_length=64)
    from_: str = Field(alias="From", min_length=1, max_length=64)
    to: str = Field(alias="To", min_length=1, max_length=64)
    call_status: str = Field(alias="CallStatus", min_length=1, max_length=64)
    direction: str = Field(default="inbound", alias="Direction", max_length=64)
    call_duration: int | None = Field(default=None, alias="CallDuration", ge=0, le=10_000_000)
    caller_name: str | None = Field(default=None, alias="CallerName", max_length=255)
    forwarded_from: str | None = Field(default=None, alias="ForwardedFrom", max_length=64)
    parent_call_sid: str | None = Field(default=None, alias="ParentCallSid", max_length=64)
    recording_url: str | None = Field(default=None, alias="RecordingUrl", max_length=2000)
    recording_sid: str | None = Field(default=None, alias="RecordingSid", max_length=64)
    error_code: str | None = Field(default=None, alias="ErrorCode", max_length=64)
    timestamp: str | None = Field(default=None, alias="Timestamp", max_length=100)


class MessageResource(_Model):
    """The 201 answer of `POST .../Messages.json` (the fields Threadline reads)."""

    sid: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=64)
    num_segments: str | int | None = None
    error_code: int | None = None
    error_message: str | None = Field(default=None, max_length=2000)
    body: str | None = Field(default=None, max_length=100_000)
    to: str | None = Field(default=None, max_length=64)
    date_created: str | None = Field(default=None, max_length=100)


class MessagePage(_Model):
    """A page of `GET .../Messages.json` (newest first)."""

    messages: list[MessageResource] = Field(default_factory=list, max_length=1000)


class CallResource(_Model):
    """The 201 answer of `POST .../Calls.json`."""

    sid: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=64)
    direction: str | None = Field(default=None, max_length=64)


class TwilioErrorBody(_Model):
    """Twilio REST error: {"code": 21211, "message": "...", "more_info": "...", "status": 400}."""

    code: int | None = None
    message: str | None = Field(default=None, max_length=2000)
    more_info: str | None = Field(default=None, max_length=2000)
    status: int | None = None
