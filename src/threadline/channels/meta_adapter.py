"""What the three Meta adapters (Facebook/Messenger, Instagram, WhatsApp) do alike: the
`hub.challenge` handshake, the `X-Hub-Signature-256` check, and cutting `messaging[]` items
out of an entry."""

from __future__ import annotations

from typing import Any

from threadline.channels import meta_common as meta
from threadline.channels.base import (
    JSON,
    AccountConfig,
    BaseAdapter,
    ProviderEvent,
    WebhookRequest,
    WebhookResponse,
)


class MetaAdapter(BaseAdapter):
    def handshake(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse | None:
        return meta.hub_handshake(account, request)

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        meta.verify_signature(account, request)


def messaging_events(entry: Any, context: JSON) -> list[ProviderEvent]:
    """One stored event per Messenger/Instagram `messaging[]` item we handle."""
    events: list[ProviderEvent] = []
    for raw in entry.messaging:
        event_id = meta.messaging_event_id(meta.parse_messaging(raw))
        if event_id is not None:
            events.append(ProviderEvent(event_id, {**context, "messaging": raw}))
    return events
