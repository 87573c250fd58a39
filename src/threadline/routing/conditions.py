"""Conditions shared by routing rules and automation rules: a list of `Condition`s, all of
which must hold (a condition whose value is a list holds when any of its values does).

A condition reads one fact of a conversation (`Facts`, loaded by `facts_for`): its channel,
account, category, language, visibility, relevance, labels, priority, status, sentiment,
team, the text of the customer's latest message (`keywords`) or one of the customer's fields
(`customer.<name>`: name, language, preferred_channel, timezone, or a custom field). Rules
are validated when saved: an unknown field, an operator the field does not take or a value
of the wrong type is a typed 422 naming the field (`conditions.N.field`).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation, Message

Op = Literal["is", "is_not", "in", "not_in", "contains", "not_contains", "gte", "lte",
             "exists", "not_exists"]

TEXT_FIELDS = ("channel", "category", "language", "visibility", "relevance", "status",
               "sentiment")
ID_FIELDS = ("account", "team")
CUSTOMER_BUILTIN = ("name", "language", "preferred_channel", "timezone")
CUSTOMER_FIELD = re.compile(r"^customer\.[a-z0-9_]{1,40}$")
MAX_VALUES = 200
MAX_VALUE_LENGTH = 200

_OPS: dict[str, tuple[str, ...]] = {
    "text": ("is", "is_not", "in", "not_in", "exists", "not_exists"),
    "id": ("is", "is_not", "in", "not_in", "exists", "not_exists"),
    "labels": ("contains", "not_contains", "exists", "not_exists"),
    "keywords": ("contains", "not_contains"),
    "priority": ("is", "is_not", "in", "not_in", "gte", "lte"),
    "customer": ("is", "is_not", "in", "not_in", "contains", "not_contains", "exists",
                 "not_exists"),
}


def field_kind(name: str) -> str | None:
    if name in TEXT_FIELDS:
        return "text"
    if name in ID_FIELDS:
        return "id"
    if name in ("labels", "keywords", "priority"):
        return name
    if CUSTOMER_FIELD.match(name):
        return "customer"
    return None


class Condition(BaseModel):
    """`{"field": "language", "op": "is", "value": "es"}`; `value` may be a list."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=60)
    op: Op
    value: str | int | list[str | int] | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if field_kind(value) is None:
            raise ValueError("unknown field: use channel, account, category, language, "
                             "visibility, relevance, labels, priority, status, sentiment, "
                             "team, keywords or customer.<name>")
        return value

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.data.get("field")
        op = info.data.get("op")
        if name is None or op is None:
            return value  # already reported
        kind = field_kind(name) or "text"
        if op not in _OPS[kind]:
            raise ValueError(f"{name} does not take {op}; it takes {', '.join(_OPS[kind])}")
        if op in ("exists", "not_exists"):
            return None
        values = value if isinstance(value, list) else [value]
        if not values or any(v is None or v == "" for v in values):
            raise ValueError(f"{op} needs a value")
        if len(values) > MAX_VALUES:
            raise ValueError(f"at most {MAX_VALUES} values")
        if kind == "priority":
            if any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 4
                   for v in values):
                raise ValueError("priority is 1 (P1, most urgent) to 4")
            return value
        if any(not isinstance(v, str) or len(v) > MAX_VALUE_LENGTH for v in values):
            raise ValueError(f"values are texts of at most {MAX_VALUE_LENGTH} characters")
        if kind == "id":
            for v in values:
                uuid.UUID(str(v))  # ValueError names it
        if op in ("is", "is_not", "gte", "lte") and isinstance(value, list):
            raise ValueError(f"{op} takes one value; use in / not_in for several")
        return value


@dataclass(frozen=True)
class Facts:
    """What conditions read about a conversation."""

    channel: str | None = None
    account: str | None = None
    category: str | None = None
    language: str | None = None
    visibility: str | None = None
    relevance: str | None = None
    status: str | None = None
    sentiment: str | None = None
    team: str | None = None
    priority: int | None = None
    labels: tuple[str, ...] = ()
    text: str = ""
    customer: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        if name == "keywords":
            return self.text
        if name.startswith("customer."):
            return self.customer.get(name.removeprefix("customer."))
        return getattr(self, name)


def _fold(text: Any) -> str:
    """Case- and accent-insensitive comparison ("Facturación" ~ "facturacion")."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _has_keyword(text: str, keyword: str) -> bool:
    word = _fold(keyword).strip()
    if not word:
        return False
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def holds(condition: Condition, facts: Facts) -> bool:
    actual = facts.value(condition.field)
    op = condition.op
    if op == "exists":
        return bool(actual)
    if op == "not_exists":
        return not actual
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    kind = field_kind(condition.field)
    if kind == "priority":
        if actual is None:
            return op in ("is_not", "not_in")
        number = int(actual)
        if op == "gte":  # "at least as urgent as": P1 is the most urgent
            return number <= int(values[0])  # type: ignore[arg-type]
        if op == "lte":
            return number >= int(values[0])  # type: ignore[arg-type]
        hit = number in {int(v) for v in values if v is not None}
        return hit if op in ("is", "in") else not hit
    if kind == "labels":
        labels = {_fold(label) for label in facts.labels}
        hit = any(_fold(v) in labels for v in values)
        return hit if op == "contains" else not hit
    if kind == "keywords":
        text = _fold(facts.text)
        hit = any(_has_keyword(text, str(v)) for v in values)
        return hit if op == "contains" else not hit
    if op in ("contains", "not_contains"):  # a customer field, as text
        text = _fold(actual or "")
        hit = any(_fold(v) in text for v in values)
        return hit if op == "contains" else not hit
    hit = actual is not None and _fold(actual) in {_fold(v) for v in values}
    return hit if op in ("is", "in") else not hit


def matches(conditions: Sequence[Condition], facts: Facts) -> bool:
    """All conditions hold (no condition: always)."""
    return all(holds(c, facts) for c in conditions)


def parse_conditions(raw: Any) -> list[Condition]:
    """Stored JSON -> conditions (already validated when saved)."""
    return [Condition.model_validate(c) for c in raw or []]


_MESSAGE_FACTS = (Message.channel, Message.channel_account_id, Message.visibility,
                  Message.triage, Message.text)
_CUSTOMER_FACTS = (Customer.custom_fields, *(getattr(Customer, name)
                                             for name in CUSTOMER_BUILTIN))


def facts_for(session: Session, conv: Conversation,
              message_id: uuid.UUID | None = None) -> Facts:
    """The facts of `conv`: the message named (else the customer's latest inbound message)
    gives the text, the account and the relevance. Reads only the columns conditions use."""
    message = None
    if message_id is not None:
        message = session.execute(select(*_MESSAGE_FACTS).where(
            Message.id == message_id, Message.conversation_id == conv.id)).first()
    if message is None:
        message = session.execute(
            select(*_MESSAGE_FACTS).where(Message.conversation_id == conv.id,
                                          Message.direction == "inbound",
                                          Message.kind != "note")
            .order_by(Message.created_at.desc()).limit(1)).first()
    customer = session.execute(select(*_CUSTOMER_FACTS).where(
        Customer.id == conv.customer_id)).first() if conv.customer_id else None
    fields: dict[str, Any] = {}
    if customer is not None:
        fields = {str(k): v for k, v in (customer.custom_fields or {}).items()
                  if isinstance(v, str | int | float | bool)}
        fields.update({name: getattr(customer, name) for name in CUSTOMER_BUILTIN})
    triage = (message.triage or {}) if message is not None else {}
    return Facts(
        channel=message.channel if message is not None else conv.origin_channel,
        account=str(message.channel_account_id) if message is not None
        and message.channel_account_id else (str(conv.origin_account_id)
                                             if conv.origin_account_id else None),
        category=conv.category, language=conv.language,
        visibility=message.visibility if message is not None else conv.origin_visibility,
        relevance=getattr(conv, "relevance", None) or triage.get("relevance"),
        status=conv.status, sentiment=conv.sentiment,
        team=str(conv.team_id) if conv.team_id else None, priority=conv.priority,
        labels=tuple(str(label) for label in conv.labels or ()),
        text=(message.text or "") if message is not None else "", customer=fields)
