"""Facebook Page adapter: public `feed` changes (posts, comments) and Messenger DMs.

One Page account receives both in one webhook (`object: "page"`): entries with `changes[]`
(field `feed`) are public posts and comments; entries with `messaging[]` are Messenger
events. Used for the channel kinds "facebook" and "messenger" (docs/providers/meta.md).
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from threadline.channels import meta_common as meta
from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    Author,
    ChannelTraits,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderEvent,
    SendContext,
    SendResult,
    Visibility,
    WebhookRequest,
)
from threadline.channels.facebook.payloads import HANDLED_ITEMS, HANDLED_VERBS, FeedValue
from threadline.channels.meta_adapter import MetaAdapter, messaging_events

THREAD_PREFIX = "psid:"
FEED_IDENTITY_KIND = "facebook"  # commenters' ids; configurable with `feed_identity_kind`


class FacebookAdapter(MetaAdapter):
    kind: ClassVar[str] = "facebook"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=True, private=True, char_limit=None, window_hours=24, realtime=True,
        can_hide=True, identity_kind="messenger")
    hide_field: ClassVar[str | None] = "is_hidden"
    deletes: ClassVar[frozenset[str]] = frozenset({"inbound", "outbound"})

    # --- inbound ------------------------------------------------------------------------------

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        envelope = meta.load_envelope(request.body, {"page"})
        events: list[ProviderEvent] = []
        for entry in envelope.entry:
            context = meta.entry_context(envelope, entry)
            events.extend(messaging_events(entry, context))
            for change in entry.all_changes():
                if change.field != "feed":
                    continue
                value = _feed_value(change.value)
                if value.item not in HANDLED_ITEMS or value.verb not in HANDLED_VERBS:
                    continue
                events.append(ProviderEvent(
                    _feed_event_id(value),
                    {**context, "field": "feed", "value": change.value}))
        return events

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        page_id = str(account.get("page_id") or payload.get("entry_id") or "")
        if "messaging" in payload:
            return meta.normalize_messaging(payload["messaging"], self_id=page_id,
                                            identity_kind="messenger",
                                            thread_prefix=THREAD_PREFIX)
        if payload.get("field") == "feed":
            return self._normalize_feed(account, page_id, payload)
        raise PayloadError("stored event is neither a messaging event nor a feed change")

    def _normalize_feed(self, account: AccountConfig, page_id: str,
                        payload: JSON) -> list[NormalizedItem]:
        value = _feed_value(payload.get("value"))
        node = value.node_id
        if node is None:
            raise PayloadError(f"feed {value.item} change without its id")
        if value.verb == "remove":
            return [MessageDelete(provider_id=node, at=meta.event_time(payload))]
        if value.verb == "edited":
            return [MessageEdit(provider_id=node, text=value.message,
                                at=meta.event_time(payload))]
        if value.verb != "add" or value.item not in HANDLED_ITEMS:
            raise PayloadError(f"feed change {value.item}/{value.verb} is not handled")
        created = meta.event_time(payload, value.created_time)
        identity_kind = str(account.get("feed_identity_kind") or FEED_IDENTITY_KIND)
        if value.sender is not None:
            author = Author(identity_kind=identity_kind, provider_user_id=value.sender.id,
                            display_name=value.sender.name, is_self=value.sender.id == page_id)
        else:  # Meta withholds `from` for people without a role on the app
            author = Author(identity_kind=identity_kind, provider_user_id=f"anonymous:{node}")
        attachments = tuple(Attachment(type=kind, url=url) for kind, url in
                            (("image", value.photo), ("video", value.video)) if url)
        extra: JSON = {"item": value.item, "verb": value.verb, **value.extras()}
        if author.is_self:
            extra["echo"] = True
        if value.item == "comment":
            return [InboundMessage(
                provider_id=node, author=author, visibility=Visibility.PUBLIC,
                text=value.message, created_at=created, kind=MessageKind.COMMENT,
                in_reply_to=value.parent_id or value.post_id, root_provider_id=value.post_id,
                attachments=attachments, meta=extra)]
        return [InboundMessage(
            provider_id=node, author=author, visibility=Visibility.PUBLIC, text=value.message,
            created_at=created, kind=MessageKind.POST, root_provider_id=node,
            attachments=attachments, meta=extra)]

    # --- outbound -----------------------------------------------------------------------------

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        meta.check_messaging_send(self.traits, message, context)

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        if message.visibility is Visibility.PUBLIC:
            target = message.in_reply_to or message.root_provider_id
            if not target:
                raise PermanentSendError("a public reply needs a comment or post id",
                                         code="no_reply_target")
            answer = meta.graph_post(account, http, f"{target}/comments",
                                     {"message": message.text})
            comment_id = answer.get("id")
            if not isinstance(comment_id, str) or not comment_id:
                raise PermanentSendError("the comment answer has no id",
                                         code="unreadable_answer")
            return SendResult(provider_id=comment_id, meta={"replied_to": target})
        body = meta.messaging_body(message, thread_prefix=THREAD_PREFIX,
                                   metadata=bool(account.get("send_metadata", True)))
        page = str(account.get("page_id") or "me")
        mid, extra = meta.message_send_result(
            meta.graph_post(account, http, f"{page}/messages", body))
        if message.options.get("private_reply_to"):
            extra["private_reply_to"] = str(message.options["private_reply_to"])
        return SendResult(provider_id=mid, meta=extra)



def _feed_value(raw: Any) -> FeedValue:
    try:
        return FeedValue.model_validate(raw)
    except ValidationError as exc:
        raise PayloadError(meta.describe(exc)) from None


def _feed_event_id(value: FeedValue) -> str:
    """Dedupe key `<id>:<verb>:<created_time>`; edits add a digest of the new text
    (docs/providers/README.md#idempotency)."""
    node = value.node_id
    if node is None:
        raise PayloadError(f"feed {value.item} change without its id")
    key = f"{node}:{value.verb}:{value.created_time if value.created_time is not None else ''}"
    if value.verb == "edited":
        key += ":" + hashlib.sha256(value.message.encode()).hexdigest()[:16]
    return key
