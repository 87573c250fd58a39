"""Column types that never write card numbers, security codes, SSNs or passwords in clear.

Every write of a column of these types goes through `threadline.triage.redact` (a pure text
function), whichever code path writes it: ORM, Core executemany, UPDATE. Writers that keep
personal-data spans next to the text (the inbound batch) redact first and move their spans;
for them this second pass finds nothing left to change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from threadline.triage.redact import redact, redact_json


class RedactedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return redact(value) if value else value


class RedactedJSON(TypeDecorator[Any]):
    """JSON (JSONB on PostgreSQL) whose strings are redacted on write."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return redact_json(value) if value else value
