"""What the brand's endpoint may answer (docs/integrations.md#customer-data-lookup, reference
section 5.3): a JSON object whose known sections are read and whose unknown fields are
ignored. Every text is capped, every list is cut to a few items, amounts stay strings (exact
decimals), and a link is kept only when it is an http(s) URL (a `javascript:` link from a
hostile answer is dropped, never rendered). The templates escape every value."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

MAX_TEXT = 200
MAX_ITEMS = 10


def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return " ".join(value.split())[:MAX_TEXT] or None
    raise ValueError("expected a text")


def _link(value: Any) -> Any:
    text = _text(value)
    if not isinstance(text, str):
        return None
    return text if text.lower().startswith(("https://", "http://")) else None


def _first(value: Any) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value[:MAX_ITEMS]


Text = Annotated[str | None, BeforeValidator(_text)]
Link = Annotated[str | None, BeforeValidator(_link)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(_Part):
    amount: Text = None
    currency: Text = None


class Account(_Part):
    external_id: Text = None
    name: Text = None
    email: Text = None
    tier: Text = None
    lifetime_value: Money | None = None
    url: Link = None


class Item(_Part):
    sku: Text = None
    name: Text = None
    quantity: Text = None


class Order(_Part):
    id: Text = None
    number: Text = None
    status: Text = None
    placed_at: Text = None
    total: Money | None = None
    items: Annotated[list[Item], BeforeValidator(_first)] = Field(default_factory=list)
    tracking_url: Link = None


class Subscription(_Part):
    id: Text = None
    plan: Text = None
    status: Text = None
    renews_at: Text = None
    price: Money | None = None
    url: Link = None


class Ticket(_Part):
    id: Text = None
    subject: Text = None
    status: Text = None
    updated_at: Text = None
    url: Link = None


class CustomerData(_Part):
    """The answer, as stored in the cache and shown in the customer panel."""

    customer: Account | None = None
    orders: Annotated[list[Order], BeforeValidator(_first)] = Field(default_factory=list)
    subscriptions: Annotated[list[Subscription], BeforeValidator(_first)] = Field(
        default_factory=list)
    balance: Money | None = None
    tickets: Annotated[list[Ticket], BeforeValidator(_first)] = Field(default_factory=list)
