"""What the three Meta adapters (Facebook/Messenger, Instagram, WhatsApp) do alike: the
`hub.challenge` handshake, the `X-Hub-Signature-256` check, and cutting `messaging[]` items
out of an entry."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

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
    RetryableSendError,
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
    # Whose public comments the page may delete (`DELETE /{comment-id}`): "inbound" (a
    # customer's comment on the page's posts), "outbound" (the page's own reply).
    deletes: ClassVar[frozenset[str]] = frozenset()
    provider_hosts: ClassVar[ProviderHosts | None] = meta.GRAPH

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        if action.name == "delete" and self.deletes and action.target:
            return delete_object(account, http, action.target)
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


def delete_object(account: AccountConfig, http: httpx.Client, object_id: str) -> SendResult:
    """`DELETE /{comment-id}`: the comment is gone. A comment that is already gone (HTTP 404,
    or Graph's "object does not exist" error 100/33, what a repeat after a crash gets) counts
    as deleted: the call is keyed by the comment id, so a repeat is harmless."""
    headers = {"authorization": f"Bearer {account.require('access_token')}"}
    try:
        response = http.delete(meta.graph_url(account, quote(object_id, safe="")),
                               headers=headers, follow_redirects=False)
    except httpx.TransportError as exc:
        raise RetryableSendError(f"transport error: {type(exc).__name__}",
                                 code="transport_error") from None
    if _already_gone(response):
        return SendResult(provider_id=object_id, meta={"deleted": True, "already_gone": True})
    meta.raise_for_graph_error(response)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not (isinstance(answer, dict) and answer.get("success") is True):
        raise PermanentSendError("the delete was not confirmed", code="not_confirmed")
    return SendResult(provider_id=object_id, meta={"deleted": True})


def _already_gone(response: httpx.Response) -> bool:
    if response.status_code == 404:
        return True
    if response.status_code != 400:
        return False
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and error.get("code") == 100 \
        and error.get("error_subcode") == 33


def messaging_events(entry: Any, context: JSON) -> list[ProviderEvent]:
    """One stored event per Messenger/Instagram `messaging[]` item we handle."""
    events: list[ProviderEvent] = []
    for raw in entry.messaging:
        event_id = meta.messaging_event_id(meta.parse_messaging(raw))
        if event_id is not None:
            events.append(ProviderEvent(event_id, {**context, "messaging": raw}))
    return events
