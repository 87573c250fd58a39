"""WhatsApp Cloud API adapter: inbound messages and statuses, text and template sends.

Webhooks arrive with `object: "whatsapp_business_account"`, field `messages`
(docs/providers/whatsapp.md). The customer's identity and private thread are the E.164 phone number
(`+` and the `wa_id` digits). Free-form sends are allowed only inside the 24-hour
customer-service window; outside it only templates (`options["template"]`). A
`message_template_status_update` change becomes a notice item for the template sync
(`templates.py`, decision 0324), never a customer message.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from threadline.channels import meta_common as meta
from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    Author,
    ChannelAction,
    ChannelTraits,
    DeliveryState,
    InboundMessage,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderEvent,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SendResult,
    StatusUpdate,
    Visibility,
    WebhookRequest,
    check_choice_titles,
    check_common_policy,
    choices_of,
)
from threadline.channels.media import FileAttachment, MediaBytes, download
from threadline.channels.meta_adapter import MetaAdapter
from threadline.channels.whatsapp import templates as wa_templates
from threadline.channels.whatsapp.payloads import (
    IGNORED_TYPES,
    MEDIA_TYPES,
    STATUS_VALUES,
    Contact,
    SendAnswer,
    Value,
    WaMessage,
    WaStatus,
)

WINDOW = timedelta(hours=24)
TEMPLATE_NOTICE = "whatsapp_template_status"  # meta key of a template status change item
# Interactive messages (docs/providers/whatsapp.md#interactive-messages): up to 3 reply
# buttons (titles of 20 characters) or a list of up to 10 rows (titles of 24 characters)
# behind one button (a label of 20 characters); the body text has at most 1024 characters.
REPLY_BUTTONS, BUTTON_TITLE = 3, 20
LIST_ROWS, ROW_TITLE, LIST_BUTTON = 10, 24, 20
INTERACTIVE_BODY = 1024
OUTBOUND_MEDIA = {"image": "image", "video": "video", "audio": "audio"}  # others: document
# Where WhatsApp media bytes are (the URL `GET /{media-id}` answers): the bearer token goes
# there and nowhere else (with custom provider URLs: the sandbox's own origin only).
MEDIA_HOSTS = frozenset({"lookaside.fbsbx.com", "graph.facebook.com"})
_MEDIA_ID = re.compile(r"^[0-9A-Za-z_.:-]{1,128}$")


class WhatsAppAdapter(MetaAdapter):
    kind: ClassVar[str] = "whatsapp"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=False, private=True, char_limit=None, window_hours=24, realtime=True,
        can_hide=False, identity_kind="phone")

    # --- inbound ------------------------------------------------------------------------------

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        envelope = meta.load_envelope(request.body, {"whatsapp_business_account"})
        own_number = account.get("phone_number_id")
        events: list[ProviderEvent] = []
        for entry in envelope.entry:
            for change in entry.all_changes():
                if change.field == wa_templates.STATUS_FIELD:  # re-sync (templates.py)
                    found = wa_templates.status_changes({"template_status": change.value})
                    if found:  # one without a template id or name says nothing to act on
                        events.append(ProviderEvent(
                            f"template:{found[0].provider_id}:{found[0].status}:{entry.time}",
                            {**meta.entry_context(envelope, entry),
                             "template_status": change.value}))
                    continue
                if change.field != "messages":
                    continue
                value = _parse(Value, change.value)
                number = value.metadata.phone_number_id if value.metadata else None
                if own_number and number and str(own_number) != number:
                    continue  # another number of the same WhatsApp Business Account
                context: JSON = {**meta.entry_context(envelope, entry),
                                 "metadata": change.value.get("metadata")}
                contacts = {c.wa_id: raw for c, raw in zip(
                    value.contacts, change.value.get("contacts") or [], strict=False)}
                for raw in value.messages:
                    message = _parse(WaMessage, raw)
                    if message.type in IGNORED_TYPES:
                        continue
                    events.append(ProviderEvent(message.id, {
                        **context, "contact": contacts.get(message.sender), "message": raw}))
                for raw in value.statuses:
                    status = _parse(WaStatus, raw)
                    if status.status in STATUS_VALUES:
                        events.append(ProviderEvent(f"{status.id}:{status.status}",
                                                    {**context, "status": raw}))
        return events

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        if "status" in payload:
            status = _parse(WaStatus, payload["status"])
            if status.status not in STATUS_VALUES:
                raise PayloadError(f"unknown WhatsApp status {status.status[:40]!r}")
            error = "; ".join(e.describe() for e in status.errors) or None
            opaque = status.biz_opaque_callback_data or ""
            extra: JSON = ({"client_message_id": opaque[len(meta.METADATA_PREFIX):]}
                           if opaque.startswith(meta.METADATA_PREFIX) else {})
            return [StatusUpdate(provider_id=status.id, state=DeliveryState(status.status),
                                 at=meta.from_epoch(status.timestamp, millis=False),
                                 error=error, meta=extra)]
        if "template_status" in payload:
            return [_template_notice(payload)]
        if "message" not in payload:
            raise PayloadError("stored event is neither a message nor a status")
        message = _parse(WaMessage, payload["message"])
        contact = _parse(Contact, payload["contact"]) if payload.get("contact") else None
        phone = e164(message.sender)
        author = Author(identity_kind="phone", provider_user_id=phone, handle=phone,
                        display_name=contact.profile.name if contact and contact.profile
                        else None)
        text, attachments, extra = _content(message)
        return [InboundMessage(
            provider_id=message.id, author=author, visibility=Visibility.PRIVATE, text=text,
            created_at=meta.from_epoch(message.timestamp, millis=False),
            in_reply_to=message.context.id if message.context else None,
            thread_key=phone, attachments=attachments, meta=extra)]

    # --- outbound -----------------------------------------------------------------------------

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        # surface and length here; the window below, where templates are the way out
        check_common_policy(dataclasses.replace(self.traits, window_hours=None), message,
                            context)
        template = message.options.get("template")
        if template is not None:
            if not isinstance(template, dict) or not template.get("name") \
                    or not template.get("language"):
                raise SendPolicyError("a template needs a name and a language",
                                      code="bad_template", allowed=["template"])
            return
        if len(message.attachments) > 1 or any(not a.url for a in message.attachments):
            raise SendPolicyError("one attachment with a URL per message", code="attachments",
                                  allowed=["one attachment with a URL"])
        _check_choices(message)
        last = context.last_inbound_at
        if last is None or context.now - last > WINDOW:
            raise SendPolicyError("the 24-hour customer-service window is closed",
                                  code="window_closed", allowed=["template"])

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        to = (message.recipient or message.thread_key or "").lstrip("+")
        if not to:
            raise PermanentSendError("no recipient phone number", code="no_recipient")
        body: JSON = {"messaging_product": "whatsapp", "recipient_type": "individual",
                      "to": to, "biz_opaque_callback_data": meta.METADATA_PREFIX
                      + message.message_id}
        template = message.options.get("template")
        if isinstance(template, dict):
            body.update(type="template", template=_template(template))
        elif message.attachments:
            first = message.attachments[0]
            kind = OUTBOUND_MEDIA.get(first.type, "document")
            media: JSON = ({"link": first.url} if first.url
                           else {"id": _upload(account, http, first)})
            if message.text and kind != "audio":
                media["caption"] = message.text
            if kind == "document" and first.name:
                media["filename"] = first.name
            body.update({"type": kind, kind: media})
        elif choices_of(message.options):
            body.update(type="interactive", interactive=_interactive(message))
        else:
            body.update(type="text", text={"preview_url": False, "body": message.text})
        if message.in_reply_to and not isinstance(template, dict):
            body["context"] = {"message_id": message.in_reply_to}
        answer = _answer(meta.graph_post(account, http, f"{_number(account)}/messages", body))
        extra: JSON = {"wa_id": answer.contacts[0].wa_id} if answer.contacts else {}
        return SendResult(provider_id=answer.messages[0].id, meta=extra)

    def fetch_media(self, account: AccountConfig, attachment: Attachment, http: httpx.Client,
                    *, max_bytes: int) -> MediaBytes:
        """Resolve the media id (`GET /{media-id}` with the bearer token) and download the
        URL it names with the same token (docs: the URL lives 5 minutes; retried on 404)."""
        media_id = attachment.provider_media_id or ""
        if not _MEDIA_ID.match(media_id):
            raise PermanentSendError("no WhatsApp media id", code="no_media_id")
        headers = {"authorization": f"Bearer {account.require('access_token')}"}
        try:
            response = http.get(meta.graph_url(account, quote(media_id, safe="")),
                                params={"phone_number_id": _number(account)},
                                headers=headers, follow_redirects=False)
        except httpx.TransportError as exc:
            raise RetryableSendError(f"transport error: {type(exc).__name__}",
                                     code="transport_error") from None
        meta.raise_for_graph_error(response)
        try:
            info = response.json()
        except ValueError:
            info = None
        if not isinstance(info, dict) or not isinstance(info.get("url"), str):
            raise PermanentSendError("the media answer has no URL", code="unreadable_answer")
        size = str(info.get("file_size") or "")  # a number or a string (both seen)
        if size.isdigit() and int(size) > max_bytes:
            raise PermanentSendError(f"the file is larger than {max_bytes} bytes",
                                     code="media_too_large")
        url = _media_url(account, info["url"])
        data, declared = download(http, url, headers=headers, max_bytes=max_bytes)
        mime = info.get("mime_type") if isinstance(info.get("mime_type"), str) else declared
        return MediaBytes(data=data, mime_type=mime or attachment.mime_type,
                          name=attachment.name)

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        """`read`: mark an inbound message (and the earlier ones) as read (blue ticks)."""
        if action.name != "read" or not action.target:
            return super().act(account, action, http)
        answer = meta.graph_post(account, http, f"{_number(account)}/messages",
                                 {"messaging_product": "whatsapp", "status": "read",
                                  "message_id": action.target})
        if answer.get("success") is not True:
            raise PermanentSendError("read receipt was not confirmed", code="not_confirmed")
        return SendResult(provider_id=action.target, state=DeliveryState.READ)


def _check_choices(message: OutboundMessage) -> None:
    choices = choices_of(message.options)
    if not choices:
        return
    if message.attachments:
        raise SendPolicyError("reply buttons go with text, not with an attachment",
                              code="attachment_with_choices", allowed=["text"])
    if not message.text.strip() or len(message.text) > INTERACTIVE_BODY:
        raise SendPolicyError(f"an interactive message needs a text of 1 to "
                              f"{INTERACTIVE_BODY} characters", code="too_long",
                              allowed=[f"at most {INTERACTIVE_BODY} characters"])
    if message.options.get("choices_style") == "list":
        check_choice_titles(choices, most=LIST_ROWS, title_chars=ROW_TITLE,
                            channel="WhatsApp list")
        if len(str(message.options.get("choices_button") or "Choose")) > LIST_BUTTON:
            raise SendPolicyError(f"the list button has at most {LIST_BUTTON} characters",
                                  code="choice_title_too_long")
    else:
        check_choice_titles(choices, most=REPLY_BUTTONS, title_chars=BUTTON_TITLE,
                            channel="WhatsApp")


def _interactive(message: OutboundMessage) -> JSON:
    """Reply buttons, or a list message when `choices_style` is "list"."""
    choices = choices_of(message.options)
    if message.options.get("choices_style") == "list":
        rows = [{"id": c.id, "title": c.title} for c in choices]
        return {"type": "list", "body": {"text": message.text},
                "action": {"button": str(message.options.get("choices_button") or "Choose"),
                           "sections": [{"rows": rows}]}}
    return {"type": "button", "body": {"text": message.text},
            "action": {"buttons": [{"type": "reply", "reply": {"id": c.id, "title": c.title}}
                                   for c in choices]}}


def _template_notice(payload: JSON) -> InboundMessage:
    """A template status change: an item from the business account itself, meant for the
    template sync (it takes the item before threading and re-lists the templates); it
    never becomes a message (decision 0324)."""
    changes = wa_templates.status_changes(payload)
    if not changes:
        raise PayloadError("a template status update without a template id or name")
    change = changes[0]
    waba = str(payload.get("entry_id") or "")[:64]
    return InboundMessage(
        provider_id=f"template:{change.provider_id}:{change.status}:"
                    f"{payload.get('entry_time')}",
        author=Author(identity_kind="whatsapp_business_account",
                      provider_user_id=f"waba:{waba}"),
        visibility=Visibility.PRIVATE, text="",
        created_at=meta.from_epoch(payload.get("entry_time") or 0, millis=False),
        meta={TEMPLATE_NOTICE: {"provider_id": change.provider_id, "name": change.name,
                                "language": change.language, "status": change.status,
                                "reason": change.reason}})


def e164(wa_id: str) -> str:
    """WhatsApp ids are the phone number's digits; identities use E.164 (`+<digits>`)."""
    digits = "".join(c for c in wa_id if c.isascii() and c.isdigit())
    if not 6 <= len(digits) <= 15:
        raise PayloadError(f"not a WhatsApp phone id: {wa_id[:40]!r}")
    return "+" + digits


def _content(message: WaMessage) -> tuple[str, tuple[Attachment, ...], JSON]:
    """Text, attachments and extra facts of one inbound message, per `type`."""
    extra: JSON = {"type": message.type}
    if message.referral is not None:
        extra["referral"] = message.referral
    if message.type == "text" and message.text is not None:
        return message.text.body, (), extra
    if message.type in MEDIA_TYPES:
        media = getattr(message, message.type)
        if media is None:
            raise PayloadError(f"{message.type} message without its {message.type} object")
        return media.caption or "", (Attachment(
            type=MEDIA_TYPES[message.type], mime_type=media.mime_type,
            provider_media_id=media.id, name=media.filename),), extra
    if message.type == "location" and message.location is not None:
        loc = message.location
        extra["location"] = loc.model_dump(exclude_none=True)
        label = " ".join(p for p in (loc.name, loc.address) if p)
        return label or f"{loc.latitude},{loc.longitude}", (
            Attachment(type="location", url=loc.url),), extra
    if message.type == "interactive" and message.interactive is not None:
        choice = message.interactive.button_reply or message.interactive.list_reply
        if choice is not None:
            extra["reply_id"] = choice.id
            return choice.title, (), extra
        extra["interactive"] = message.interactive.model_dump(exclude_none=True)
        return "", (), extra
    if message.type == "button" and message.button is not None:
        extra["payload"] = message.button.payload
        return message.button.text, (), extra
    if message.type == "contacts" and message.contacts is not None:
        extra["contacts"] = message.contacts
        names = [str((c.get("name") or {}).get("formatted_name", "")) for c in message.contacts
                 if isinstance(c.get("name"), dict)]
        return ", ".join(n for n in names if n), (), extra
    for key in ("system", "order"):
        body = getattr(message, key)
        if message.type == key and body is not None:
            extra[key] = body
            return str(body.get("body", "")) if key == "system" else "", (), extra
    extra["unsupported"] = True
    if message.errors:
        extra["errors"] = [e.describe() for e in message.errors]
    return "", (), extra


def _upload(account: AccountConfig, http: httpx.Client, attachment: Attachment) -> str:
    """Upload mode (no public URL to fetch from): `POST /{phone-number-id}/media` with the
    bytes; the media id it answers is sent instead of a link (kept 30 days by WhatsApp)."""
    if not isinstance(attachment, FileAttachment) or not attachment.content:
        raise PermanentSendError("the attachment has neither a public link nor its bytes "
                                 "(set THREADLINE_PUBLIC_URL)", code="attachment_missing")
    mime = attachment.mime_type or "application/octet-stream"
    try:
        response = http.post(
            meta.graph_url(account, f"{_number(account)}/media"),
            headers={"authorization": f"Bearer {account.require('access_token')}"},
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (attachment.name or "file", attachment.content, mime)},
            follow_redirects=False)
    except httpx.TransportError as exc:
        raise RetryableSendError(f"transport error: {type(exc).__name__}",
                                 code="transport_error") from None
    meta.raise_for_graph_error(response)
    try:
        media_id = response.json().get("id")
    except (ValueError, AttributeError):
        media_id = None
    if not isinstance(media_id, str) or not media_id:
        raise PermanentSendError("the media upload answered no id", code="unreadable_answer")
    return media_id


def _media_url(account: AccountConfig, url: str) -> str:
    """The media URL, if the token may go there: https on Meta's media hosts, or (custom
    provider URLs allowed: the sandbox) the origin of the account's own API base."""
    parts = urlsplit(url)
    if account.urls.allow_custom:
        base = urlsplit(account.provider_base(meta.GRAPH))
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return url
    elif (parts.scheme == "https" and parts.hostname in MEDIA_HOSTS and parts.port is None
          and "@" not in parts.netloc):
        return url
    raise PermanentSendError("the media URL is not on a WhatsApp media host; the token is "
                             "not sent there", code="unsafe_url")


def _template(template: dict[str, Any]) -> JSON:
    language = template.get("language")
    if not isinstance(language, dict):
        language = {"code": str(language), "policy": "deterministic"}
    body: JSON = {"name": str(template.get("name")), "language": language}
    if template.get("components"):
        body["components"] = template["components"]
    return body


def _number(account: AccountConfig) -> str:
    return str(account.require("phone_number_id"))


def _answer(data: JSON) -> SendAnswer:
    try:
        return SendAnswer.model_validate(data)
    except ValidationError:
        raise PermanentSendError("the WhatsApp answer has no message id",
                                 code="unreadable_answer") from None


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise PayloadError(meta.describe(exc)) from None
