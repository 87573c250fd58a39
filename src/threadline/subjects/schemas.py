"""API shapes for data-subject requests."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ErasureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    customer_id: uuid.UUID
    customers: list[uuid.UUID]  # the customer and every customer merged into him
    erased_at: datetime
    counts: dict[str, int]  # rows erased per table
