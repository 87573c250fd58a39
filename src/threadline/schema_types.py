"""Field types shared by the API input models (pydantic only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Strict

# Input models are strict (no "5" accepted for a number), but JSON carries ids and times as
# strings: these two parse them.
UUIDIn = Annotated[uuid.UUID, Strict(False)]
DatetimeIn = Annotated[datetime, Strict(False)]
