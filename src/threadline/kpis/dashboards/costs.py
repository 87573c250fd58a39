"""The hourly cost of an agent's active hour, for the economics dashboard
(`Workspace.settings["kpi_costs"]`: hourly cost and ISO currency code; admins edit it)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.errors import ValidationFailed
from threadline.events.service import audit
from threadline.workspace.service import read_setting, write_setting

SETTING = "kpi_costs"
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Costs(BaseModel):
    hourly_cost: float | None = Field(default=None, ge=0, le=100_000, strict=True,
                                      description="Cost of one agent hour; None: not set.")
    currency: str = Field(default="EUR", strict=True,
                          description="ISO 4217 code, e.g. EUR, USD.")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().upper()
        if not _CURRENCY.match(value):
            raise ValueError("an ISO 4217 code of three letters")
        return value


def costs_of(session: Session, workspace_id: uuid.UUID) -> Costs:
    return read_setting(session, workspace_id, SETTING, Costs)


def parse_costs(data: dict[str, Any]) -> Costs:
    try:
        return Costs.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ())) or "hourly_cost"
        raise ValidationFailed(f"{name}: {first.get('msg', 'not valid')}", code="invalid_costs",
                               details={"field": name}) from None


def set_costs(session: Session, workspace_id: uuid.UUID, costs: Costs, actor: Actor) -> Costs:
    data = write_setting(session, workspace_id, SETTING, costs)
    audit(session, workspace_id, "workspace.kpi_costs_set", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id, data=data)
    return costs
