"""The customer data connector's API shapes: the configuration (strict input; the secret is
never an input, it is generated and shown once) and a lookup's result."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from threadline.integrations.lookup.contract import CustomerData

# lookup.models.Outcome.ALL, plus "off": no endpoint configured, or disabled
LookupState = Literal["off", "ok", "not_found", "timeout", "failed"]


class LookupConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(min_length=1, max_length=2048,
                     description="https URL of the brand's endpoint; a public address")
    enabled: StrictBool = True
    timeout_seconds: int = Field(default=3, ge=1, le=5,
                                 description="total time allowed for one answer")
    cache_seconds: int = Field(default=60, ge=0, le=3600,
                               description="how long an answer is reused per customer")


class LookupConfigOut(BaseModel):
    url: str
    enabled: bool
    timeout_seconds: int
    cache_seconds: int
    secret_set_at: datetime
    updated_at: datetime
    secret: str | None = Field(
        default=None, description="The signing secret (`whsec_...`): only in the answer that "
        "created or rotated it; never shown again.")


class LookupFailure(BaseModel):
    model_config = ConfigDict(title="LookupFailure")

    code: str = Field(description="lookup_timeout, lookup_http_error, lookup_redirect, "
                                  "lookup_too_large, lookup_content_type, "
                                  "lookup_invalid_json, lookup_invalid_response, "
                                  "lookup_unauthorized, lookup_busy, lookup_unreachable, "
                                  "lookup_url_refused")
    message: str
    status: int | None = Field(default=None, description="the endpoint's HTTP status")


class LookupOut(BaseModel):
    """A lookup's result: `data` is the brand's answer (the last good one, `stale`, beside a
    later failure); `error` says why the latest call failed."""

    state: LookupState
    data: CustomerData | None = None
    data_at: datetime | None = None
    stale: bool = False
    error: LookupFailure | None = None
    checked_at: datetime | None = None
    cached: bool = False
