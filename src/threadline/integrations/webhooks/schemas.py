"""What a subscription says (checked when saved: an unknown event type or a refused URL is a
typed 422 naming the field, and nothing is stored) and what the API shows of subscriptions
and of the delivery log. The secret is shown once, in `SubscriptionCreated`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

EventType = Literal[
    "message.created", "conversation.created", "conversation.assigned",
    "conversation.resolved", "conversation.reopened", "hop.offered", "hop.taken",
    "hop.returned", "customer.created", "customer.merged", "csat.recorded",
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                               pattern=r"^[^\x00-\x1f<>]*$")]
MAX_SUBSCRIPTIONS = 20


class SubscriptionIn(BaseModel):
    """An endpoint: `url` (https and public, unless the operator allows internal hosts),
    the `event_types` it gets (at least one), an optional description."""

    model_config = ConfigDict(extra="forbid")

    url: Url
    event_types: list[EventType] = Field(min_length=1, max_length=20)
    description: Description = ""


class SubscriptionUpdate(BaseModel):
    """A change: what is left out stays; `enabled: true` turns a disabled subscription back
    on (its failure streak starts again), `rotate_secret: true` issues a new secret."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: Description | None = None
    enabled: bool | None = None
    rotate_secret: bool = False


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    disabled_at: datetime | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    """The subscription and its signing secret, shown this once."""

    secret: str = Field(description="`whsec_` + base64 of the key; shown only now.")


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The response code; null: no response "
                                                "(timeout, connection refused, URL refused).")
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    subscription_id: uuid.UUID
    event_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    body: str
    attempt_log: list[AttemptOut]


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page.")
