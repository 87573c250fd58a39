"""Twilio SMS/MMS (`sms`) and Voice (`voice`) adapters (docs/providers/twilio.md).

Both share the webhook side: X-Twilio-Signature over the full URL and the sorted form
parameters (or `bodySHA256` for JSON bodies), and an empty TwiML `<Response/>` as the ack.
SMS sends through `POST .../Messages.json`; Voice logs calls as call records in the timeline
and places outbound calls through `act(ChannelAction("call", ...))` -> `POST .../Calls.json`.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import ClassVar

import httpx
from pydantic import ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    Author,
    BaseAdapter,
    ChannelAction,
    ChannelTraits,
    DeliveryState,
    InboundMessage,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderEvent,
    ProviderHosts,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SendResult,
    StatusUpdate,
    Visibility,
    WebhookRequest,
    WebhookResponse,
    check_common_policy,
    refuse_unsafe,
)
from threadline.channels.media import MediaBytes, download
from threadline.channels.twilio import client, recordings, webhook
from threadline.channels.twilio.calls import (
    answer_twiml,
    call_items,
    call_request,
    call_response,
)
from threadline.channels.twilio.payloads import (
    MessagePage,
    MessageResource,
    SmsParams,
    StoredEvent,
)
from threadline.channels.urls import check_endpoint

# Twilio concatenates up to 1,600 characters (docs/providers/twilio.md#inbound-sms)
SMS_CHAR_LIMIT = 1600

# MessageStatus -> delivery state (docs/providers/twilio.md#status-callbacks). Statuses of
# inbound messages are skipped.
MESSAGE_STATES: dict[str, DeliveryState] = {
    "queued": DeliveryState.PENDING,
    "accepted": DeliveryState.PENDING,
    "scheduled": DeliveryState.PENDING,
    "sending": DeliveryState.PENDING,
    "sent": DeliveryState.SENT,
    "partially_delivered": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "undelivered": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}
INBOUND_STATUSES = frozenset({"received", "receiving"})

# `/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…` (docs/media.md#inbound)
_MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/AC[0-9a-fA-F]{32}"
                         r"/Messages/(MM|SM)[0-9a-fA-F]{32}/Media/ME[0-9a-fA-F]{32}$")

class _TwilioAdapter(BaseAdapter):
    """Webhook verification and ack shared by SMS and Voice."""

    provider_hosts: ClassVar[ProviderHosts | None] = client.TWILIO_API

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        webhook.verify(account, request)

    def ack(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse:
        return webhook.empty_twiml()


class SmsAdapter(_TwilioAdapter):
    kind: ClassVar[str] = "sms"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=False, private=True, char_limit=SMS_CHAR_LIMIT, window_hours=None,
        realtime=True, can_hide=False, identity_kind="phone")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        params = webhook.read_params(request)
        sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid")
        if not sid:
            raise PayloadError("not a Twilio messaging webhook: no MessageSid")
        params.setdefault("MessageSid", sid)
        _parse_sms(params)
        status = params.get("MessageStatus")
        if status and status not in INBOUND_STATUSES:
            return [webhook.event(f"{sid}:{status}", "status", params)]
        if status and "Body" not in params and "NumMedia" not in params:
            return []  # a status callback about an inbound message: nothing new to store
        return [webhook.event(sid, "message", params)]

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        stored = _stored(payload)
        sms = _parse_sms(stored.params)
        at = _utc(stored.received_at)
        if stored.type == "status":
            state = MESSAGE_STATES.get(sms.message_status or "")
            if state is None:
                return []  # a status Threadline does not track (e.g. added by Twilio later)
            error = None
            if sms.error_code or state is DeliveryState.FAILED:
                error = f"Twilio error {sms.error_code or 'unknown'}: " + (
                    sms.error_message or sms.message_status or "failed")
            return [StatusUpdate(provider_id=sms.message_sid, state=state, at=at, error=error)]
        if stored.type != "message":
            raise PayloadError(f"an sms account does not handle {stored.type!r} events")
        own = str(account.get("from_number") or "")
        author = Author(identity_kind="phone", provider_user_id=sms.from_, handle=sms.from_,
                        display_name=sms.profile_name, is_self=bool(own) and sms.from_ == own)
        meta: JSON = {k: v for k, v in {
            "to": sms.to, "messaging_service_sid": sms.messaging_service_sid,
            "num_segments": sms.num_segments, "from_country": sms.from_country,
        }.items() if v is not None}
        return [InboundMessage(
            provider_id=sms.message_sid, author=author, visibility=Visibility.PRIVATE,
            text=sms.body, created_at=at, thread_key=sms.from_,
            attachments=_media(stored.params, sms.num_media), meta=meta)]

    def fetch_media(self, account: AccountConfig, attachment: Attachment, http: httpx.Client,
                    *, max_bytes: int) -> MediaBytes:
        """An MMS file: `MediaUrl{N}` with HTTP basic auth, sent only to this account's own
        media path on Twilio's API host; the redirect Twilio answers with (to its storage) is
        followed once, without credentials, and only to a public https host."""
        url = attachment.url or ""
        base = account.provider_base(client.TWILIO_API)
        sid = str(account.get("account_sid") or "")
        if not (url.startswith(f"{base}/{client.API_VERSION}/Accounts/{sid}/Messages/")
                and _MEDIA_PATH.match(url[len(base):])):
            raise PermanentSendError("not this account's Twilio media URL; credentials are "
                                     "not sent there", code="unsafe_url")
        try:
            response = http.get(url, auth=client.auth(account), follow_redirects=False)
        except httpx.TransportError as exc:
            raise RetryableSendError(f"could not reach Twilio: {type(exc).__name__}",
                                     code="transport_error") from None
        if response.status_code in (301, 302, 303, 307, 308):
            target = refuse_unsafe(check_endpoint, response.headers.get("location", ""),
                                   account.urls)
            data, declared = download(http, target, max_bytes=max_bytes)
        else:
            response.close()
            data, declared = download(http, url, headers=_basic(account),
                                      max_bytes=max_bytes)
        return MediaBytes(data=data, mime_type=attachment.mime_type or declared)

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        check_common_policy(self.traits, message, context)
        to = _recipient(message)
        if to is None:
            raise SendPolicyError("an SMS needs the customer's number in E.164 form",
                                  code="no_recipient", allowed=["recipient in E.164"])
        if not message.text.strip() and not any(a.url for a in message.attachments):
            raise SendPolicyError("an SMS needs a text or a media URL", code="empty_message",
                                  allowed=["text"])

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        to = _recipient(message)
        if to is None:
            raise PermanentSendError("no E.164 recipient for this SMS", code="no_recipient")
        form: list[tuple[str, str]] = [("To", to), _sender(account)]
        if message.text:
            form.append(("Body", message.text))
        form.extend(("MediaUrl", a.url) for a in message.attachments if a.url)
        callback = message.options.get("status_callback") or account.get("status_callback_url")
        if callback:
            form.append(("StatusCallback", str(callback)))
        validity = account.get("validity_period")
        if validity:
            form.append(("ValidityPeriod", str(validity)))
        response = client.post_form(http, account, "Messages", form)
        try:
            resource = MessageResource.model_validate_json(response.content or b"{}")
        except ValidationError:
            resource = MessageResource()
        if not resource.sid:
            raise PermanentSendError("Twilio accepted the message but answered without a sid",
                                     code="bad_response")
        return _result(resource)

    def find_sent(self, account: AccountConfig, message: OutboundMessage, since: datetime,
                  http: httpx.Client) -> SendResult | None:
        """Reconcile after a crash or an ambiguous timeout (see README): the message Twilio
        already accepted for this recipient with this body since `since`, if any."""
        to = _recipient(message)
        if to is None:
            return None
        query = [("To", to), ("PageSize", "50")]
        sender = _sender(account)
        if sender[0] == "From":
            query.append(sender)
        try:
            page = MessagePage.model_validate_json(
                client.get_json(http, account, "Messages", query) or b"{}")
        except ValidationError:
            return None
        for resource in page.messages:
            created = _rfc2822(resource.date_created)
            if (resource.sid and resource.body == message.text
                    and created is not None and created >= since):
                return _result(resource)
        return None


    def reconcile(self, account: AccountConfig, message: OutboundMessage, http: httpx.Client,
                  *, since: datetime | None = None) -> SendResult | None:
        """The ReconcilingAdapter hook: `find_sent` since the earlier attempt started."""
        return self.find_sent(account, message, since or datetime.now(UTC) - timedelta(
            hours=1), http)


class VoiceAdapter(_TwilioAdapter):
    """Calls as timeline records. There is no text send on voice: place calls with act()."""

    kind: ClassVar[str] = "voice"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=False, private=True, char_limit=None, window_hours=None, realtime=True,
        can_hide=False, identity_kind="phone")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        params = webhook.read_params(request)
        sid, status = params.get("CallSid"), params.get("CallStatus")
        if not sid:
            raise PayloadError("not a Twilio voice webhook: no CallSid")
        if recordings.is_recording(params):  # one event per RecordingSid: a repeat is a no-op
            recording = recordings.parse(params)
            if recording.recording_status != "completed":
                return []
            return [webhook.event(recordings.event_id(recording), recordings.EVENT_TYPE,
                                  params)]
        if not status:
            return []  # transcription callbacks: not tracked (see README)
        call_items(params, datetime.now(UTC))  # validates the parameters now, not later
        return [webhook.event(f"{sid}:{status}", "call", params)]

    def ack(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse:
        """Empty TwiML for callbacks; call-handling TwiML for a new inbound call."""
        try:
            twiml = answer_twiml(account, webhook.read_params(request), request.url)
        except PayloadError:
            twiml = None
        if twiml is None:
            return webhook.empty_twiml()
        return WebhookResponse(status=200, body=twiml, media_type="application/xml")

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        stored = _stored(payload)
        if stored.type == recordings.EVENT_TYPE:
            return recordings.recording_items(stored.params, _utc(stored.received_at))
        if stored.type != "call":
            raise PayloadError(f"a voice account does not handle {stored.type!r} events")
        return call_items(stored.params, _utc(stored.received_at))

    def fetch_media(self, account: AccountConfig, attachment: Attachment, http: httpx.Client,
                    *, max_bytes: int) -> MediaBytes:
        """A call's recording or voicemail (recordings.fetch_recording)."""
        return recordings.fetch_recording(account, attachment, http, max_bytes=max_bytes)

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        raise SendPolicyError("a voice account sends no text; place a call instead",
                              code="no_text_send", allowed=["call"])

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        raise PermanentSendError("a voice account sends no text; place a call instead",
                                 code="unsupported")

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        if action.name != "call":
            raise PermanentSendError(f"voice does not support {action.name!r}",
                                     code="unsupported_action")
        form = call_request(account, action)
        return call_response(client.post_form(http, account, "Calls", form))


def _result(resource: MessageResource) -> SendResult:
    meta: JSON = {"status": resource.status, "num_segments": resource.num_segments}
    return SendResult(provider_id=str(resource.sid), state=DeliveryState.SENT,
                      meta={k: v for k, v in meta.items() if v is not None})


def _rfc2822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _utc(parsed)


def _stored(payload: JSON) -> StoredEvent:
    try:
        return StoredEvent.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError(webhook.describe(exc)) from None


def _parse_sms(params: dict[str, str]) -> SmsParams:
    try:
        return SmsParams.model_validate(params)
    except ValidationError as exc:
        raise PayloadError(webhook.describe(exc)) from None


def _media(params: dict[str, str], count: int) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for i in range(count):
        url = params.get(f"MediaUrl{i}")
        if not url:
            continue
        mime = params.get(f"MediaContentType{i}")
        found.append(Attachment(type=_media_type(mime), url=url, mime_type=mime,
                                provider_media_id=url.rstrip("/").rpartition("/")[2] or None))
    return tuple(found)


def _basic(account: AccountConfig) -> dict[str, str]:
    user, secret = client.auth(account)
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"authorization": f"Basic {token}"}


def _media_type(mime: str | None) -> str:
    major = (mime or "").partition("/")[0]
    return major if major in ("image", "video", "audio") else "file"


def _recipient(message: OutboundMessage) -> str | None:
    for candidate in (message.recipient, message.thread_key):
        if candidate and client.E164.match(candidate):
            return candidate
    return None


def _sender(account: AccountConfig) -> tuple[str, str]:
    number, service = account.get("from_number"), account.get("messaging_service_sid")
    if number:
        return ("From", str(number))
    if service:
        return ("MessagingServiceSid", str(service))
    raise PermanentSendError("the account needs `from_number` or `messaging_service_sid`",
                             code="account_misconfigured")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)



