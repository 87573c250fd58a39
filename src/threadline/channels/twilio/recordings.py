"""Voice recordings and voicemail (docs/phone.md#recordings-and-voicemail).

Twilio posts a `recordingStatusCallback` when a recording of a call is ready: a `<Dial
record=...>` bridge (click-to-call) or a voicemail left through `<Record>`. The callback
carries no call status, only `CallSid`, `RecordingSid` (`RE…`), `RecordingUrl`,
`RecordingStatus`, `RecordingDuration` and `RecordingSource`. One stored event per
RecordingSid (a repeat is the same event id, so it is stored once); the completed recording
becomes an edit of the call record whose meta names the recording, and the worker then fetches
the audio (`RecordingUrl` + `.mp3`, HTTP basic auth, only on this account's own Recordings
path) into the media store.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from xml.sax.saxutils import quoteattr

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from threadline.channels.base import (
    AccountConfig,
    Attachment,
    MessageEdit,
    NormalizedItem,
    PayloadError,
    PermanentSendError,
)
from threadline.channels.media import MediaBytes, download
from threadline.channels.twilio import client
from threadline.channels.twilio.webhook import describe

EVENT_TYPE = "recording"
VOICEMAIL_SOURCES = frozenset({"RecordVerb"})
VOICEMAIL_MAX_SECONDS = 120
NO_ANSWER = frozenset({"no-answer", "busy", "failed"})
_RECORDING_PATH = re.compile(r"^/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Recordings/"
                             r"RE[0-9a-fA-F]{32}$")
_RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")


class RecordingParams(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    call_sid: str = Field(alias="CallSid", min_length=2, max_length=64)
    recording_sid: str = Field(alias="RecordingSid", pattern=_RECORDING_SID.pattern)
    recording_url: str = Field(alias="RecordingUrl", min_length=8, max_length=2000)
    recording_status: str = Field(default="completed", alias="RecordingStatus", max_length=32)
    recording_duration: int | None = Field(default=None, alias="RecordingDuration", ge=0,
                                           le=10_000_000)
    recording_source: str | None = Field(default=None, alias="RecordingSource", max_length=64)


def is_recording(params: dict[str, str]) -> bool:
    """A recording status callback (it has a RecordingSid and no CallStatus)."""
    return bool(params.get("RecordingSid")) and not params.get("CallStatus")


def parse(params: dict[str, str]) -> RecordingParams:
    try:
        return RecordingParams.model_validate(params)
    except ValidationError as exc:
        raise PayloadError(describe(exc)) from None


def event_id(recording: RecordingParams) -> str:
    return f"recording:{recording.recording_sid}"


def recording_items(params: dict[str, str], at: datetime) -> list[NormalizedItem]:
    """The call record names its recording; anything but `completed` is not tracked."""
    recording = parse(params)
    if recording.recording_status != "completed":
        return []
    voicemail = recording.recording_source in VOICEMAIL_SOURCES
    seconds = recording.recording_duration
    label = "Voicemail" if voicemail else "Call recorded"
    text = f"{label}, {seconds} s" if seconds is not None else label
    return [MessageEdit(provider_id=recording.call_sid, text=text, at=at, meta={
        "recording": {k: v for k, v in {
            "sid": recording.recording_sid, "url": recording.recording_url,
            "duration_seconds": seconds, "voicemail": voicemail,
            "source": recording.recording_source}.items() if v is not None}})]


def voicemail_twiml(callback_url: str, greeting: str | None = None) -> bytes:
    """Ask the caller to leave a message; the recording comes back to `callback_url`."""
    say = greeting or ("Nobody can take your call right now. Please leave a message after "
                       "the tone, and we will call you back.")
    body = (f"<Say>{_text(say)}</Say><Record maxLength=\"{VOICEMAIL_MAX_SECONDS}\" "
            f"playBeep=\"true\" recordingStatusCallback={quoteattr(callback_url)} "
            f"recordingStatusCallbackEvent=\"completed\"/><Hangup/>")
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'.encode()


def fetch_recording(account: AccountConfig, attachment: Attachment, http: httpx.Client, *,
                    max_bytes: int) -> MediaBytes:
    """The audio of a recording: basic auth, sent only to this account's own Recordings
    path on Twilio's API host (or the sandbox the account points at)."""
    url = (attachment.url or "").split("?", 1)[0]
    base = account.provider_base(client.TWILIO_API)
    sid = str(account.get("account_sid") or "")
    if url.endswith(".mp3"):
        url = url[:-4]
    if not (url.startswith(f"{base}/{client.API_VERSION}/Accounts/{sid}/Recordings/")
            and _RECORDING_PATH.match(url[len(base):])):
        raise PermanentSendError("not this account's Twilio recording URL; credentials are "
                                 "not sent there", code="unsafe_url")
    user, secret = client.auth(account)
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    data, declared = download(http, url + ".mp3", headers={"authorization": f"Basic {token}"},
                              max_bytes=max_bytes)
    name = url.rpartition("/")[2] + ".mp3"
    return MediaBytes(data=data, mime_type=declared or "audio/mpeg", name=name)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
