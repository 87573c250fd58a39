"""The API's enums (threadline/schema_types.py) are copies of sets defined in layers the API
shapes may not import: each copy must match its source of truth."""

from __future__ import annotations

from typing import Any, get_args

from threadline.channels.base import DeliveryState, Direction, MessageKind, Visibility
from threadline.channels.registry import kinds
from threadline.conversations.models import Status
from threadline.hops.records import callbacks, options
from threadline.hops.records import service as hops
from threadline.outbound.approval_rules import HOLD_DELIVERIES
from threadline.schema_types import (
    CallbackOutcome,
    CallbackState,
    ChannelKind,
    ConversationStatus,
    DeliveryName,
    DirectionName,
    HopMethod,
    HopReason,
    MessageKindName,
    OfferedKind,
    RoleName,
    VisibilityName,
)
from threadline.workspace.models import Role


def values(literal: Any) -> set[str]:
    return set(get_args(literal))


def test_enums_match_their_sources() -> None:
    assert values(ConversationStatus) == set(Status.ALL)
    assert values(VisibilityName) == {v.value for v in Visibility}
    assert values(DirectionName) == {d.value for d in Direction}
    assert values(DeliveryName) == {d.value for d in DeliveryState} | set(HOLD_DELIVERIES)
    assert values(MessageKindName) == {k.value for k in MessageKind} | {"note"}
    assert values(ChannelKind) == set(kinds())
    assert values(RoleName) == set(Role.ALL)
    assert values(HopMethod) == set(hops.METHODS)
    assert values(HopReason) == set(hops.REASONS)
    assert values(CallbackOutcome) == set(callbacks.OUTCOMES)
    assert values(CallbackState) >= set(callbacks.OPEN_STATES) | set(callbacks.OUTCOMES)
    assert values(OfferedKind) == set(options.KINDS)


def test_the_document_declares_them(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    status = schemas["ConversationOut"]["properties"]["status"]
    assert set(status["enum"]) == set(Status.ALL)
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "An API token: `Authorization: Bearer <token>`."}
    listing = spec["paths"]["/api/v1/conversations"]["get"]
    assert listing["security"] == [{"bearerAuth": []}]
    assert listing["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"}
    assert "HTTPValidationError" not in schemas
    assert "security" not in spec["paths"]["/webhooks/{kind}/{account_id}"]["post"]


def test_framework_errors_use_the_envelope(client: Any) -> None:
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    undecodable = client.post("/api/v1/channel-accounts", content=b"C\xe9*",
                              headers={"content-type": "application/json"})
    assert undecodable.status_code == 400
    assert undecodable.json()["error"]["code"] == "bad_request"
