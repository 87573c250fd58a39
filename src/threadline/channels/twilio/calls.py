"""Voice: call webhooks as timeline call records, and the outbound call request
(docs/providers/twilio.md#voice).

A call is one record keyed by its CallSid. Every event of an inbound call yields the record as
an `InboundMessage(kind=CALL)` (the pipeline keeps the first and drops the repeats, so a record
exists even if the first webhook was lost); the terminal status (completed, busy, failed,
no-answer, canceled) also yields a `MessageEdit` that rewrites the record's text with the
outcome and duration. Terminal statuses happen once per call, so the edit never regresses.
Outbound calls (placed by `act`) were recorded by the pipeline from the `SendResult`; their
callbacks yield a `StatusUpdate` and, when terminal, the same `MessageEdit`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.sax.saxutils import escape, quoteattr

import httpx
from pydantic import ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    Author,
    ChannelAction,
    DeliveryState,
    InboundMessage,
    MessageEdit,
    MessageKind,
    NormalizedItem,
    PayloadError,
    PermanentSendError,
    SendResult,
    StatusUpdate,
    Visibility,
)
from threadline.channels.twilio import recordings
from threadline.channels.twilio.client import E164
from threadline.channels.twilio.payloads import CallParams, CallResource
from threadline.channels.twilio.webhook import describe

TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
CALL_STATES: dict[str, DeliveryState] = {
    "queued": DeliveryState.PENDING,
    "initiated": DeliveryState.PENDING,
    "ringing": DeliveryState.PENDING,
    "in-progress": DeliveryState.SENT,
    "answered": DeliveryState.SENT,
    "completed": DeliveryState.DELIVERED,
    "busy": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
    "no-answer": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}
STATUS_CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")


def call_items(params: dict[str, str], received_at: datetime) -> list[NormalizedItem]:
    try:
        call = CallParams.model_validate(params)
    except ValidationError as exc:
        raise PayloadError(describe(exc)) from None
    at = _event_time(call.timestamp) or received_at
    inbound = call.direction == "inbound"
    text = summary(inbound, call.call_status, call.call_duration)
    items: list[NormalizedItem] = []
    if inbound:
        customer = call.from_
        meta: JSON = {k: v for k, v in {
            "call_status": call.call_status, "direction": call.direction,
            "duration_seconds": call.call_duration, "recording_url": call.recording_url,
            "to": call.to, "caller_name": call.caller_name,
            "forwarded_from": call.forwarded_from, "parent_call_sid": call.parent_call_sid,
        }.items() if v is not None}
        recording: tuple[Attachment, ...] = ()
        if call.recording_url:
            recording = (Attachment(type="audio", url=call.recording_url,
                                    provider_media_id=call.recording_sid),)
        items.append(InboundMessage(
            provider_id=call.call_sid,
            author=Author(identity_kind="phone", provider_user_id=customer, handle=customer,
                          display_name=call.caller_name),
            visibility=Visibility.PRIVATE, text=text, created_at=at, kind=MessageKind.CALL,
            thread_key=customer, attachments=recording, meta=meta))
    else:
        state = CALL_STATES.get(call.call_status)
        if state is not None:
            error = call.call_status if state is DeliveryState.FAILED else None
            if error and call.error_code:
                error = f"{error} (Twilio error {call.error_code})"
            items.append(StatusUpdate(provider_id=call.call_sid, state=state, at=at, error=error))
    if call.call_status in TERMINAL:  # the record's outcome; its duration counts as handle time
        items.append(MessageEdit(provider_id=call.call_sid, text=text, at=at, meta={
            k: v for k, v in {"call_status": call.call_status,
                              "duration_seconds": call.call_duration}.items() if v is not None}))
    return items


def answer_twiml(account: AccountConfig, params: dict[str, str],
                 callback_url: str | None = None) -> bytes | None:
    """TwiML for a new inbound call (the number's voice URL), or None for callbacks.

    An empty `<Response/>` hangs up, so an incoming call gets the account's `inbound_twiml`,
    or `<Dial>` to its `forward_to` number; without either the call is ended politely. With
    `voicemail` on (and the webhook's own URL as `callback_url`) a call nobody answers is
    taken by `<Record>`: at once without `forward_to`, else when the `<Dial action>` request
    says the forward was not answered.
    """
    voicemail = bool(account.get("voicemail")) and bool(callback_url)
    if (voicemail and callback_url and params.get("Direction", "inbound") == "inbound"
            and params.get("DialCallStatus") in recordings.NO_ANSWER):
        return recordings.voicemail_twiml(callback_url)
    if params.get("Direction", "inbound") != "inbound" or params.get("CallStatus") not in (
            "ringing", "queued"):
        return None
    custom = account.get("inbound_twiml")
    if custom:
        return str(custom).encode("utf-8")
    forward = account.get("forward_to")
    if forward and voicemail and callback_url:
        body = (f"<Dial action={quoteattr(callback_url)} timeout=\"20\">"
                f"{escape(str(forward))}</Dial>")
    elif forward:
        body = f"<Dial>{escape(str(forward))}</Dial>"
    elif voicemail and callback_url:
        return recordings.voicemail_twiml(callback_url)
    else:
        body = ("<Say>Thank you for calling. Nobody can take your call right now; "
                "please send us a message instead.</Say><Hangup/>")
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'.encode()


def summary(inbound: bool, status: str, duration: int | None) -> str:
    """ "Inbound call, 2 min 5 s, completed" """
    parts = ["Inbound call" if inbound else "Outbound call"]
    if duration is not None and status == "completed":
        parts.append(format_duration(duration))
    parts.append(status.replace("-", " "))
    return ", ".join(parts)


def format_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min {secs} s"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def call_request(account: AccountConfig, action: ChannelAction) -> list[tuple[str, str]]:
    """The form of `POST .../Calls.json` for ChannelAction("call", target=E.164, params=...).

    params: exactly one of "twiml" / "url" (else the account's `voice_url`), optional
    "status_callback" (else the account's `status_callback_url`), "from", "timeout", "record".
    """
    to = action.target or ""
    if not E164.match(to):
        raise PermanentSendError("a call needs the number to call in E.164 form",
                                 code="bad_target")
    sender = action.params.get("from") or account.get("from_number")
    if not sender:
        raise PermanentSendError("the account needs `from_number` to place calls",
                                 code="account_misconfigured")
    twiml, url = action.params.get("twiml"), action.params.get("url")
    if twiml and url:
        raise PermanentSendError("give either `twiml` or `url`, not both", code="bad_call_params")
    if not twiml and not url:
        url = account.get("voice_url")
    if not twiml and not url:
        raise PermanentSendError("a call needs `twiml` or `url` (or the account's `voice_url`)",
                                 code="bad_call_params")
    form: list[tuple[str, str]] = [("To", to), ("From", str(sender))]
    form.append(("Twiml", str(twiml)) if twiml else ("Url", str(url)))
    callback = action.params.get("status_callback") or account.get("status_callback_url")
    if callback:
        form.append(("StatusCallback", str(callback)))
        form.extend(("StatusCallbackEvent", e) for e in STATUS_CALLBACK_EVENTS)
        form.append(("StatusCallbackMethod", "POST"))
    timeout = action.params.get("timeout")
    if isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > 0:
        form.append(("Timeout", str(timeout)))
    if action.params.get("record") is True:
        form.append(("Record", "true"))
    return form


def call_response(response: httpx.Response) -> SendResult:
    try:
        resource = CallResource.model_validate_json(response.content or b"{}")
    except ValidationError:
        resource = CallResource()
    if not resource.sid:
        raise PermanentSendError("Twilio accepted the call but answered without a sid",
                                 code="bad_response")
    meta: JSON = {"status": resource.status, "direction": resource.direction}
    return SendResult(provider_id=resource.sid, state=DeliveryState.PENDING,
                      meta={k: v for k, v in meta.items() if v is not None})


def _event_time(value: str | None) -> datetime | None:
    """Call status callbacks carry `Timestamp` (RFC 2822) (unverified); else arrival time."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
