"""Recordings and voicemail (issue 15): the adapter's side (one event per RecordingSid, the
call record's edit, the voicemail TwiML, the audio fetched only from this account's own
Recordings path), then end to end through Threadline and the sandbox's Twilio: the audio is
stored with the call record and played in the timeline; forgeries and repeats store nothing
more."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from sqlalchemy import func, select
from twilio_helpers import ACCOUNT_SID, CONFIG, VOICE, fixture_request, signed_request

from tests.desktop.conftest import desk_for
from tests.desktop.phone_helpers import random_number, twilio_calls, voice_account
from threadline.channels.base import Attachment, MessageEdit, PayloadError, PermanentSendError
from threadline.channels.twilio.adapter import VoiceAdapter
from threadline.channels.twilio.signature import compute_signature
from threadline.conversations.models import Message
from threadline.events.models import InboundEvent
from threadline.media.models import MediaFile
from threadline.sandbox.providers import twilio as stw

ADAPTER = VoiceAdapter()
REC_URL = (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/"
           "RE00000000000000000000000000000001")


class TestTheAdapter:
    def test_a_voicemail_edits_the_call_record(self) -> None:
        request = fixture_request("recording_status.json")
        ADAPTER.verify(VOICE, request)
        [event] = ADAPTER.split(VOICE, request)
        [edit] = ADAPTER.normalize(VOICE, event.payload)
        assert isinstance(edit, MessageEdit)
        assert edit.provider_id == "CA44444444444444444444444444444444"
        assert edit.text == "Voicemail, 118 s"
        assert edit.meta["recording"] == {
            "sid": "RE00000000000000000000000000000001", "url": REC_URL,
            "duration_seconds": 118, "voicemail": True, "source": "RecordVerb"}

    def test_a_recorded_bridge_is_not_a_voicemail(self) -> None:
        [event] = ADAPTER.split(VOICE, fixture_request("recording_status_dial.json"))
        [edit] = ADAPTER.normalize(VOICE, event.payload)
        assert isinstance(edit, MessageEdit) and edit.text == "Call recorded, 95 s"
        assert edit.meta["recording"]["voicemail"] is False

    def test_a_recording_not_completed_is_not_stored(self) -> None:
        params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "4" * 32,
                  "RecordingSid": "RE" + "1" * 32, "RecordingUrl": REC_URL,
                  "RecordingStatus": "in-progress"}
        assert ADAPTER.split(VOICE, signed_request("https://e.com/w", params)) == []

    @pytest.mark.parametrize("bad", [{"RecordingSid": "RE1"},
                                     {"RecordingSid": "RE" + "z" * 32},
                                     {"RecordingUrl": ""}])
    def test_hostile_parameters_are_refused(self, bad: dict[str, str]) -> None:
        params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "4" * 32,
                  "RecordingSid": "RE" + "1" * 32, "RecordingUrl": REC_URL,
                  "RecordingStatus": "completed", **bad}
        with pytest.raises(PayloadError):
            ADAPTER.split(VOICE, signed_request("https://e.com/w", params))

    def test_voicemail_twiml_for_a_call_nobody_takes(self) -> None:
        config = VOICE.__class__(id=VOICE.id, kind="voice", name="Phone",
                                 config={**CONFIG, "voicemail": True})
        url = "https://care.example.com/webhooks/voice/acct-voice-1"
        ringing = signed_request(url, {"CallSid": "CA" + "1" * 32, "CallStatus": "ringing",
                                       "From": "+15551230000", "To": "+15559870000",
                                       "Direction": "inbound"})
        body = ADAPTER.ack(config, ringing).body.decode()
        assert "<Record " in body and f'recordingStatusCallback="{url}"' in body
        forwarding = VOICE.__class__(id=VOICE.id, kind="voice", name="Phone", config={
            **CONFIG, "voicemail": True, "forward_to": "+15550001111"})
        body = ADAPTER.ack(forwarding, ringing).body.decode()
        assert f'<Dial action="{url}" timeout="20">+15550001111</Dial>' in body
        unanswered = signed_request(url, {"CallSid": "CA" + "1" * 32,
                                          "CallStatus": "in-progress", "From": "+15551230000",
                                          "To": "+15559870000", "Direction": "inbound",
                                          "DialCallStatus": "no-answer"})
        assert "<Record " in ADAPTER.ack(forwarding, unanswered).body.decode()
        assert b"<Record" not in ADAPTER.ack(VOICE, ringing).body  # voicemail off: no change

    @respx.mock
    def test_the_audio_is_fetched_with_basic_auth_from_the_own_path_only(self) -> None:
        route = respx.get(REC_URL + ".mp3").mock(return_value=httpx.Response(
            200, content=stw.SILENT_MP3, headers={"content-type": "audio/mpeg"}))
        with httpx.Client() as http:
            got = ADAPTER.fetch_media(VOICE, Attachment(type="audio", url=REC_URL), http,
                                      max_bytes=10_000)
            assert got.data == stw.SILENT_MP3 and got.name.endswith(".mp3")
            assert route.calls[0].request.headers["authorization"].startswith("Basic ")
            for foreign in (REC_URL.replace(ACCOUNT_SID, "AC" + "9" * 32),
                            "https://evil.example/2010-04-01/Accounts/"
                            f"{ACCOUNT_SID}/Recordings/RE{'1' * 32}",
                            REC_URL + "/../../Messages"):
                with pytest.raises(PermanentSendError):
                    ADAPTER.fetch_media(VOICE, Attachment(type="audio", url=foreign), http,
                                        max_bytes=10_000)
        assert route.call_count == 1


def _post(client, hook) -> int:
    return int(client.post(hook.path, content=hook.body, headers=hook.headers).status_code)


def _inbound_call(runtime, workspace_id, client, worker, sandbox):
    voice_id, config = voice_account(runtime, workspace_id, sandbox.url, voicemail=True)
    number = random_number()
    ring = stw.call_webhook(str(voice_id), config, number, base_url="http://testserver")
    answer = client.post(ring.path, content=ring.body, headers=ring.headers)
    assert answer.status_code == 200 and "<Record " in answer.text  # voicemail takes it
    assert f'recordingStatusCallback="http://testserver/webhooks/voice/{voice_id}"' \
        in answer.text
    call_sid = ring.body.decode().split("CallSid=")[1].split("&")[0]
    worker.drain()
    return voice_id, config, call_sid


def _record(runtime, call_sid: str) -> Message:
    with runtime.db.session(write=False) as s:
        message = s.scalar(select(Message).where(Message.provider_id == call_sid))
        assert message is not None
        return message


class TestEndToEnd:
    def test_a_voicemail_is_stored_with_the_call_and_played(self, runtime, workspace_id,
                                                            client, worker, sandbox, app):
        voice_id, config, call_sid = _inbound_call(runtime, workspace_id, client, worker,
                                                   sandbox)
        recording_sid = stw.put_recording()
        hook = stw.recording_webhook(str(voice_id), config, call_sid, recording_sid,
                                     sandbox_url=sandbox.url, duration=17,
                                     base_url="http://testserver")
        assert _post(client, hook) == 200
        assert _post(client, hook) == 200  # Twilio repeats it: the same RecordingSid
        worker.drain()
        record = _record(runtime, call_sid)
        assert record.kind == "call" and record.meta["recording"]["sid"] == recording_sid
        [audio] = [a for a in record.attachments if a.get("provider_media_id") == recording_sid]
        assert audio.get("attachment_id"), audio
        with runtime.db.session(write=False) as s:
            assert s.scalar(select(func.count()).select_from(InboundEvent).where(
                InboundEvent.channel_account_id == voice_id,
                InboundEvent.provider_event_id == f"recording:{recording_sid}")) == 1
            stored = s.get(MediaFile, uuid.UUID(audio["attachment_id"]))
            assert stored is not None and stored.mime_type == "audio/mpeg"
        fetched = twilio_calls(sandbox.url, f"/Recordings/{recording_sid}.mp3")
        assert len(fetched) == 1 and fetched[0]["headers"]["authorization"].startswith("Basic")
        desk = desk_for(app, runtime, workspace_id, "agent")
        page = desk.get(f"/conversations/{record.conversation_id}").text
        assert 'data-role="call-recording"' in page and "Voicemail" in page
        player = page.split('data-role="call-recording"')[1].split('src="')[1].split('"')[0]
        played = desk.get(player.replace("&amp;", "&"))
        assert played.status_code == 200 and played.content == stw.SILENT_MP3

    def test_a_forged_recording_is_refused_and_stores_nothing(self, runtime, workspace_id,
                                                              client, worker, sandbox):
        voice_id, config, call_sid = _inbound_call(runtime, workspace_id, client, worker,
                                                   sandbox)
        recording_sid = stw.put_recording()
        forged = stw.recording_webhook(str(voice_id), {**config, "auth_token": "guessed"},
                                       call_sid, recording_sid, sandbox_url=sandbox.url,
                                       base_url="http://testserver")
        assert _post(client, forged) in (401, 403)
        unsigned = stw.recording_webhook(str(voice_id), config, call_sid, recording_sid,
                                         sandbox_url=sandbox.url,
                                         base_url="http://testserver")
        del unsigned.headers[stw.SIGNATURE_HEADER]
        assert _post(client, unsigned) in (401, 403)
        worker.drain()
        with runtime.db.session(write=False) as s:
            assert s.scalar(select(func.count()).select_from(InboundEvent).where(
                InboundEvent.provider_event_id == f"recording:{recording_sid}")) == 0
        assert "recording" not in _record(runtime, call_sid).meta

    def test_a_recording_url_of_another_account_gets_no_credentials(
            self, runtime, workspace_id, client, worker, sandbox):
        voice_id, config, call_sid = _inbound_call(runtime, workspace_id, client, worker,
                                                   sandbox)
        recording_sid = stw.put_recording()
        other = {**config, "account_sid": "AC" + secrets.token_hex(16)}
        hook = stw.recording_webhook(str(voice_id), config, call_sid, recording_sid,
                                     sandbox_url=sandbox.url, base_url="http://testserver")
        body = hook.body.decode().replace(config["account_sid"] + "%2FRecordings",
                                          other["account_sid"] + "%2FRecordings")
        resigned = stw.recording_webhook(str(voice_id), config, call_sid, recording_sid,
                                         sandbox_url=sandbox.url, base_url="http://testserver")
        assert body != resigned.body.decode()
        pairs = parse_qsl(body)
        headers = {**hook.headers, stw.SIGNATURE_HEADER: compute_signature(
            config["auth_token"], f"http://testserver{hook.path}", pairs)}
        assert client.post(hook.path, content=body.encode(), headers=headers).status_code == 200
        worker.drain()
        [audio] = _record(runtime, call_sid).attachments
        assert not audio.get("attachment_id") and "credentials" in audio["media_error"]
        assert twilio_calls(sandbox.url, f"/Recordings/{recording_sid}") == []
