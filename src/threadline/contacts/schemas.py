"""API shapes for customers, identities and consent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from threadline.schema_types import UUIDIn


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    address: str
    handle: str | None
    display_name: str | None
    evidence: str
    verified_at: datetime | None
    linked_at: datetime


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    address: str
    purpose: str
    method: str
    wording: str
    source: str | None
    granted_at: datetime
    revoked_at: datetime | None


class SuggestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_a_id: uuid.UUID
    customer_b_id: uuid.UUID
    reason: str
    status: str


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str | None
    language: str | None
    timezone: str | None
    preferred_channel: str | None
    notes: str | None
    custom_fields: dict[str, Any]
    external_ids: dict[str, Any]
    merged_into_id: uuid.UUID | None
    created_at: datetime


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    preferred_channel: str | None = Field(default=None, max_length=32)
    notes: str | None = Field(default=None, max_length=20_000)
    # absent: unchanged; an object replaces them (null is refused: send {} to clear)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: str = Field(min_length=1, max_length=32)
    address: str = Field(min_length=1, max_length=320)
    evidence: Literal["agent_asserted", "customer_asserted"] = "agent_asserted"


class CustomerMergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    other_id: UUIDIn


class MergeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source_id: uuid.UUID
    target_id: uuid.UUID
    moved: dict[str, Any]
    undone_at: datetime | None
