"""Instagram adapter: public comments (with replies and private replies) and DMs.

Webhooks arrive with `object: "instagram"`: `changes[]` with field `comments` or
`live_comments` are public comments; `messaging[]` events are DMs in the Messenger shape
(docs/providers/meta.md#instagram). Sends go through the Graph API of the account's `api_base_url`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from threadline.channels import meta_common as meta
from threadline.channels.base import (
    JSON,
    AccountConfig,
    Author,
    ChannelTraits,
    InboundMessage,
    MessageKind,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderEvent,
    ProviderHosts,
    SendContext,
    SendResult,
    Visibility,
    WebhookRequest,
)
from threadline.channels.instagram.payloads import COMMENT_FIELDS, CommentValue
from threadline.channels.meta_adapter import MetaAdapter, messaging_events

THREAD_PREFIX = "igsid:"


class InstagramAdapter(MetaAdapter):
    kind: ClassVar[str] = "instagram"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=True, private=True, char_limit=None, window_hours=24, realtime=True,
        can_hide=True, identity_kind="instagram")
    hide_field: ClassVar[str | None] = "hide"
    deletes: ClassVar[frozenset[str]] = frozenset({"inbound", "outbound"})
    provider_hosts: ClassVar[ProviderHosts | None] = meta.INSTAGRAM_GRAPH

    # --- inbound ------------------------------------------------------------------------------

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        envelope = meta.load_envelope(request.body, {"instagram"})
        events: list[ProviderEvent] = []
        for entry in envelope.entry:
            context = meta.entry_context(envelope, entry)
            events.extend(messaging_events(entry, context))
            for change in entry.all_changes():
                if change.field not in COMMENT_FIELDS:
                    continue
                comment = _comment(change.value)
                events.append(ProviderEvent(
                    comment.id, {**context, "field": change.field, "value": change.value}))
        return events

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        self_id = str(account.get("ig_user_id") or payload.get("entry_id") or "")
        if "messaging" in payload:
            return meta.normalize_messaging(payload["messaging"], self_id=self_id,
                                            identity_kind="instagram",
                                            thread_prefix=THREAD_PREFIX)
        field = payload.get("field")
        if field not in COMMENT_FIELDS:
            raise PayloadError("stored event is neither a messaging event nor a comment")
        comment = _comment(payload.get("value"))
        media = comment.media
        is_self = comment.sender.id == self_id
        extra: JSON = {"field": field}
        if media is not None:
            extra.update({k: v for k, v in media.model_dump().items()
                          if v is not None and k != "id"})
        if is_self:
            extra["echo"] = True
        return [InboundMessage(
            provider_id=comment.id,
            author=Author(identity_kind="instagram", provider_user_id=comment.sender.id,
                          handle=comment.sender.username, is_self=is_self),
            visibility=Visibility.PUBLIC, text=comment.text,
            created_at=meta.event_time(payload), kind=MessageKind.COMMENT,
            in_reply_to=comment.parent_id or (media.id if media else None),
            root_provider_id=media.id if media else None, meta=extra)]

    # --- outbound -----------------------------------------------------------------------------

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        meta.check_messaging_send(self.traits, message, context)

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        if message.visibility is Visibility.PUBLIC:
            if message.in_reply_to:
                path, target = f"{message.in_reply_to}/replies", message.in_reply_to
            elif message.root_provider_id:
                path, target = f"{message.root_provider_id}/comments", message.root_provider_id
            else:
                raise PermanentSendError("a public reply needs a comment or media id",
                                         code="no_reply_target")
            answer = meta.graph_post(account, http, path, {"message": message.text})
            comment_id = answer.get("id")
            if not isinstance(comment_id, str) or not comment_id:
                raise PermanentSendError("the reply answer has no id", code="unreadable_answer")
            return SendResult(provider_id=comment_id, meta={"replied_to": target})
        body = meta.messaging_body(message, thread_prefix=THREAD_PREFIX,
                                   metadata=bool(account.get("send_metadata", True)))
        node = str(account.get("page_id") or account.get("ig_user_id") or "me")
        mid, extra = meta.message_send_result(
            meta.graph_post(account, http, f"{node}/messages", body))
        if message.options.get("private_reply_to"):
            extra["private_reply_to"] = str(message.options["private_reply_to"])
        return SendResult(provider_id=mid, meta=extra)



def _comment(raw: Any) -> CommentValue:
    try:
        return CommentValue.model_validate(raw)
    except ValidationError as exc:
        raise PayloadError(meta.describe(exc)) from None
