"""REST shapes of the CRM sync: a connection in (checked: kind, URL, credentials, fields) and
out (never its credentials), a customer's CRM panel (links, pulled fields, sync log) and the
backfill's progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

FieldName = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
MAX_FIELDS = 20


class Credentials(BaseModel):
    """HubSpot: `token` (private app or service key), or OAuth's `client_id`,
    `client_secret` and `refresh_token`. Salesforce: `client_id` and `client_secret`
    (client-credentials flow)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    token: Secret | None = None
    client_id: Secret | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["salesforce", "hubspot"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    base_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    credentials: Credentials
    contact_fields: list[FieldName] = Field(default_factory=list, max_length=MAX_FIELDS)
    account_fields: list[FieldName] = Field(default_factory=list, max_length=MAX_FIELDS)
    create_contacts: bool = False
    enabled: bool = True
    api_version: Annotated[str, StringConstraints(max_length=10)] | None = None


class ConnectionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Annotated[str, StringConstraints(min_length=1, max_length=120,
                                           strip_whitespace=True)] | None = None
    base_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    credentials: Credentials | None = None
    contact_fields: list[FieldName] | None = Field(default=None, max_length=MAX_FIELDS)
    account_fields: list[FieldName] | None = Field(default=None, max_length=MAX_FIELDS)
    create_contacts: bool | None = None
    enabled: bool | None = None
    api_version: Annotated[str, StringConstraints(max_length=10)] | None = None


class ConnectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    name: str
    base_url: str
    contact_fields: list[str]
    account_fields: list[str]
    create_contacts: bool
    enabled: bool
    backfill_total: int
    backfill_done: int
    backfill_started_at: datetime | None
    created_at: datetime


class BackfillOut(BaseModel):
    connection_id: uuid.UUID
    total: int
    done: int
    started_at: datetime | None


class LinkOut(BaseModel):
    connection_id: uuid.UUID
    kind: str
    name: str
    external_id: str
    matched_by: str
    fields: dict[str, Any]
    fields_at: datetime | None


class LogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    connection_id: uuid.UUID
    conversation_id: uuid.UUID | None
    action: str
    outcome: str
    detail: str
    created_at: datetime


class CustomerCrmOut(BaseModel):
    customer_id: uuid.UUID
    links: list[LinkOut]
    log: list[LogOut]
