"""Sandbox side of Twilio: Messages.json and Calls.json, and signed SMS/voice webhooks.

Accounts point `api_base_url` at sandbox base + PREFIX. The webhook builders sign the full
public URL of Threadline (`base_url` + `/webhooks/<kind>/<account_id>`) as Twilio does.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from threadline.channels.twilio.signature import SIGNATURE_HEADER, compute_signature
from threadline.sandbox.core import SignedWebhook, recorder_of

PREFIX = "/twilio"
router = APIRouter()
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
_API = "/2010-04-01/Accounts/{account_sid}"


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "status": status,
                         "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                        status_code=status)


async def _form(request: Request) -> list[tuple[str, str]]:
    raw = (await request.body()).decode("utf-8", "replace")
    return parse_qsl(raw, keep_blank_values=True)


def _authorised(request: Request, account_sid: str) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        user = base64.b64decode(header[6:]).decode().partition(":")[0]
    except ValueError:
        return False
    return user in (account_sid,) or user.startswith("SK")


def _sid(request: Request, prefix: str) -> str:
    return f"{prefix}{recorder_of(request).next_id():032x}"


def _now() -> str:
    return format_datetime(datetime.now(UTC))


@router.post(_API + "/Messages.json")
async def create_message(account_sid: str, request: Request) -> JSONResponse:
    if not _authorised(request, account_sid):
        return _error(401, 20003, "Authenticate")
    form = await _form(request)
    fields = dict(form)
    media = [v for k, v in form if k == "MediaUrl"]
    if not fields.get("To"):
        return _error(400, 21604, "A 'To' phone number is required.")
    if not fields.get("From") and not fields.get("MessagingServiceSid"):
        return _error(400, 21603, "A 'From' phone number is required.")
    if not fields.get("Body") and not media and not fields.get("ContentSid"):
        return _error(400, 21619, "A text message body or media urls must be specified.")
    if len(fields.get("Body", "")) > 1600:
        return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    sid = _sid(request, "SM" if not media else "MM")
    service = fields.get("MessagingServiceSid")
    now = _now()
    resource = {
        "account_sid": account_sid, "api_version": "2010-04-01", "body": fields.get("Body", ""),
        "date_created": now, "date_updated": now, "date_sent": None,
        "direction": "outbound-api", "error_code": None, "error_message": None,
        "from": fields.get("From"), "messaging_service_sid": service,
        "num_media": str(len(media)), "num_segments": "0" if service else "1",
        "price": None, "price_unit": "USD", "sid": sid,
        "status": "accepted" if service else "queued", "to": fields["To"],
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"}
    _sent(request).insert(0, resource)
    return JSONResponse(status_code=201, content=resource)


def _sent(request: Request) -> list[dict[str, Any]]:
    """Messages created on this sandbox app, newest first (for the list endpoint)."""
    state = request.app.state
    if not hasattr(state, "twilio_messages"):
        state.twilio_messages = []
    messages: list[dict[str, Any]] = state.twilio_messages
    return messages


@router.get(_API + "/Messages.json")
async def list_messages(account_sid: str, request: Request) -> JSONResponse:
    if not _authorised(request, account_sid):
        return _error(401, 20003, "Authenticate")
    query = request.query_params
    size = int(query.get("PageSize", "50")) if query.get("PageSize", "50").isdigit() else 50
    found = [m for m in _sent(request) if m["account_sid"] == account_sid
             and query.get("To") in (None, m["to"]) and query.get("From") in (None, m["from"])]
    return JSONResponse({"messages": found[:size], "page": 0, "page_size": size,
                         "next_page_uri": None,
                         "uri": f"/2010-04-01/Accounts/{account_sid}/Messages.json"})


@router.post(_API + "/Calls.json")
async def create_call(account_sid: str, request: Request) -> JSONResponse:
    if not _authorised(request, account_sid):
        return _error(401, 20003, "Authenticate")
    fields = dict(await _form(request))
    if not fields.get("To"):
        return _error(400, 21201, "No 'To' number is specified")
    if not fields.get("From"):
        return _error(400, 21213, "No 'From' number is specified")
    if sum(1 for k in ("Url", "Twiml", "ApplicationSid") if fields.get(k)) != 1:
        return _error(400, 21205, "Exactly one of Url, Twiml or ApplicationSid is required.")
    sid = _sid(request, "CA")
    return JSONResponse(status_code=201, content={
        "account_sid": account_sid, "api_version": "2010-04-01", "date_created": _now(),
        "direction": "outbound-api", "from": fields["From"], "to": fields["To"], "sid": sid,
        "status": "queued", "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json"})


# A recording's audio: a tiny MP3 (an ID3 header and silent MPEG frames), per RecordingSid.
_recordings: dict[str, bytes] = {}
SILENT_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 413


def put_recording(data: bytes = SILENT_MP3) -> str:
    """A recording Twilio made of a call (a bridge or a voicemail): its RecordingSid."""
    sid = f"RE{uuid.uuid4().hex}"
    _recordings[sid] = data
    return sid


@router.get(_API + "/Recordings/{recording_file}")
async def recording_media(account_sid: str, recording_file: str, request: Request) -> Response:
    """`RecordingUrl` + `.mp3` with basic auth; without the suffix Twilio would answer WAV,
    which the sandbox does not play (unverified: see the reference)."""
    if not _authorised(request, account_sid):
        return _error(401, 20003, "Authenticate")
    sid, _, suffix = recording_file.partition(".")
    data = _recordings.get(sid)
    if data is None or suffix != "mp3":
        return _error(404, 20404, "The requested resource was not found")
    return Response(content=data, media_type="audio/mpeg")


# --- webhook builders (the sandbox plays customers) -----------------------------------------


_mms: dict[str, tuple[bytes, str]] = {}  # ME sid -> (bytes, content type)


def put_mms_media(sandbox_url: str, data: bytes, content_type: str,
                  account_sid: str = "AC" + "0" * 32) -> str:
    """A customer's MMS picture: its `MediaUrl` (basic auth; answers with a redirect to the
    storage URL, as Twilio does)."""
    media_sid = f"ME{uuid.uuid4().hex}"
    _mms[media_sid] = (data, content_type)
    return (f"{sandbox_url.rstrip('/')}{PREFIX}/2010-04-01/Accounts/{account_sid}/Messages/"
            f"MM{uuid.uuid4().hex}/Media/{media_sid}")


@router.get(_API + "/Messages/{message_sid}/Media/{media_sid}")
async def mms_media(account_sid: str, message_sid: str, media_sid: str,
                    request: Request) -> Response:
    if not _authorised(request, account_sid):
        return _error(401, 20003, "Authenticate")
    if media_sid not in _mms:
        return _error(404, 20404, "The requested resource was not found")
    base = str(request.base_url).rstrip("/")
    return RedirectResponse(f"{base}{PREFIX}/storage/{media_sid}", status_code=307)


@router.get("/storage/{media_sid}")
async def mms_storage(media_sid: str, request: Request) -> Response:
    """The storage URL the media redirect points at: no credential wanted, none accepted."""
    if request.headers.get("authorization"):
        return Response("credentials sent to storage", status_code=400)
    found = _mms.get(media_sid)
    if found is None:
        return Response(status_code=404)
    return Response(content=found[0], media_type=found[1])


def _signed(kind: str, account_id: str, config: dict[str, Any], params: dict[str, str],
            base_url: str) -> SignedWebhook:
    path = f"/webhooks/{kind}/{account_id}"
    url = base_url.rstrip("/") + path
    pairs = list(params.items())
    signature = compute_signature(str(config["auth_token"]), url, pairs)
    return SignedWebhook(path=path, body=urlencode(pairs).encode("utf-8"),
                         headers={"content-type": "application/x-www-form-urlencoded",
                                  SIGNATURE_HEADER: signature})


def _account_sid(config: dict[str, Any]) -> str:
    return str(config.get("account_sid") or "AC" + "0" * 32)


def sms_webhook(account_id: str, config: dict[str, Any], from_number: str, body: str,
                message_sid: str | None = None, base_url: str = DEFAULT_BASE_URL,
                media: list[tuple[str, str]] | None = None) -> SignedWebhook:
    """A customer texts the account's number (media: [(url, content_type), ...] for MMS)."""
    sid = message_sid or f"{'MM' if media else 'SM'}{uuid.uuid4().hex}"
    params = {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": str(len(media or [])),
              "SmsSid": sid, "SmsStatus": "received", "Body": body,
              "To": str(config.get("from_number") or "+15559870000"), "NumSegments": "1",
              "MessageSid": sid, "AccountSid": _account_sid(config), "From": from_number,
              "ApiVersion": "2010-04-01"}
    for i, (url, ctype) in enumerate(media or []):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = ctype
    return _signed("sms", account_id, config, params, base_url)


def sms_status_webhook(account_id: str, config: dict[str, Any], message_sid: str, status: str,
                       to_number: str = "+15551230000", error_code: str | None = None,
                       base_url: str = DEFAULT_BASE_URL) -> SignedWebhook:
    """Twilio reports the delivery status of a message Threadline sent."""
    params = {"SmsSid": message_sid, "SmsStatus": status, "MessageStatus": status,
              "To": to_number, "MessageSid": message_sid, "AccountSid": _account_sid(config),
              "From": str(config.get("from_number") or "+15559870000"),
              "ApiVersion": "2010-04-01"}
    if error_code:
        params["ErrorCode"] = error_code
    return _signed("sms", account_id, config, params, base_url)


def call_webhook(account_id: str, config: dict[str, Any], from_number: str,
                 call_sid: str | None = None, status: str = "ringing",
                 duration: int | None = None, direction: str = "inbound",
                 base_url: str = DEFAULT_BASE_URL) -> SignedWebhook:
    """A customer calls (status "ringing"), or a status callback of that call or of ours."""
    sid = call_sid or f"CA{uuid.uuid4().hex}"
    ours = str(config.get("from_number") or "+15559870000")
    caller, called = (from_number, ours) if direction == "inbound" else (ours, from_number)
    params = {"AccountSid": _account_sid(config), "ApiVersion": "2010-04-01", "CallSid": sid,
              "CallStatus": status, "Called": called, "Caller": caller, "Direction": direction,
              "From": caller, "To": called,
              "Timestamp": format_datetime(datetime.now(UTC))}
    if duration is not None:
        params["CallDuration"] = str(duration)
    return _signed("voice", account_id, config, params, base_url)


def recording_webhook(account_id: str, config: dict[str, Any], call_sid: str,
                      recording_sid: str, *, sandbox_url: str, duration: int = 17,
                      source: str = "RecordVerb", status: str = "completed",
                      base_url: str = DEFAULT_BASE_URL) -> SignedWebhook:
    """Twilio's `recordingStatusCallback`: a voicemail (`RecordVerb`) or a recorded bridge
    (`DialVerb`) of the call `call_sid` is ready at `RecordingUrl`."""
    account_sid = _account_sid(config)
    url = (f"{sandbox_url.rstrip('/')}{PREFIX}/2010-04-01/Accounts/{account_sid}/Recordings/"
           f"{recording_sid}")
    params = {"AccountSid": account_sid, "CallSid": call_sid, "RecordingSid": recording_sid,
              "RecordingUrl": url, "RecordingStatus": status,
              "RecordingDuration": str(duration), "RecordingChannels": "1",
              "RecordingStartTime": format_datetime(datetime.now(UTC)),
              "RecordingSource": source}
    return _signed("voice", account_id, config, params, base_url)
