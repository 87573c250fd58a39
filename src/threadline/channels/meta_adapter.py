"""What the three Meta adapters (Facebook/Messenger, Instagram, WhatsApp) do alike: the
`hub.challenge` handshake, the `X-Hub-Signature-256` check, and cutting `messaging[]` items
out of an entry."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from threadline.channels import meta_common as meta
from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    BaseAdapter,
    ChannelAction,
    PermanentSendError,
    ProviderEvent,
    ProviderHosts,
    SendResult,
    WebhookRequest,
    WebhookResponse,
    refuse_unsafe,
)
from threadline.channels.media import MediaBytes, download
from threadline.channels.urls import check_endpoint


class MetaAdapter(BaseAdapter):
    # The Graph field that hides a comment (`is_hidden` on Pages, `hide` on Instagram);
    # None where comments cannot be hidden.
    hide_field: ClassVar[str | None] = None
    provider_hosts: ClassVar[ProviderHosts | None] = meta.GRAPH

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        if self.hide_field is None or action.name not in {"hide", "unhide"} or not action.target:
            return super().act(account, action, http)
        hidden = action.name == "hide"
        answer = meta.graph_post(account, http, action.target, {self.hide_field: hidden})
        if answer.get("success") is not True:
            raise PermanentSendError(f"{action.name} was not confirmed", code="not_confirmed")
        return SendResult(provider_id=action.target, meta={"hidden": hidden})

    def fetch_media(self, account: AccountConfig, attachment: Attachment, http: httpx.Client,
                    *, max_bytes: int) -> MediaBytes:
        """Messenger and Instagram attachments, Page post and comment photos: a CDN URL,
        fetched with no credential at all, and only from a public https host (with custom
        provider URLs allowed: any, for the sandbox)."""
        if not attachment.url:
            raise PermanentSendError("the attachment has no URL", code="no_media_url")
        url = refuse_unsafe(check_endpoint, attachment.url, account.urls)
        data, declared = download(http, url, max_bytes=max_bytes)
        return MediaBytes(data=data, mime_type=declared or attachment.mime_type,
                          name=attachment.name)

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
