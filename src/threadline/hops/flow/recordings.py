"""A call's recording or voicemail joins its call record (decision 0326).

The voice adapter turns Twilio's recording callback into an edit of the call record whose meta
names the recording (`meta.recording`: RecordingSid, URL, duration, voicemail or not). This
conversation hook then adds the recording to the record's attachments, once per RecordingSid,
and queues the media download (`media.fetch`): the worker fetches the audio from the provider
and keeps it in the media store, from where the desktop plays it through a signed link.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from threadline.conversations.models import Message
from threadline.events.service import ConversationEvent, enqueue
from threadline.jobs.hooks import ConversationEvents, conversation_hook
from threadline.jobs.runtime import Runtime
from threadline.media.fetch import FETCH_JOB, MAX_ATTACHMENTS

RECORDING_STAGE = 6  # right after the media stage (5); it only enqueues a download


def recording_entry(recording: dict[str, Any]) -> dict[str, Any]:
    sid = str(recording.get("sid") or "")
    return {"type": "audio", "url": recording.get("url"), "provider_media_id": sid,
            "mime_type": "audio/mpeg", "name": f"{sid}.mp3",
            "voicemail": bool(recording.get("voicemail")),
            "duration_seconds": recording.get("duration_seconds")}


def attach_recording(session: Session, message: Message) -> int | None:
    """Add the recording named in the record's meta to its attachments (once); the index of
    the new entry, or None when there is nothing to add."""
    recording = (message.meta or {}).get("recording")
    if message.kind != "call" or not isinstance(recording, dict) or not recording.get("sid"):
        return None
    items = list(message.attachments or [])
    if any(isinstance(a, dict) and a.get("provider_media_id") == recording["sid"]
           for a in items) or len(items) >= MAX_ATTACHMENTS:
        return None
    items.append(recording_entry(recording))
    message.attachments = items
    return len(items) - 1


@conversation_hook(RECORDING_STAGE, "call_recordings")
def queue_recordings(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    for event in batch.of(ConversationEvent.MESSAGE_EDITED):
        try:
            message_id = uuid.UUID(str(event.get("message_id")))
        except ValueError:
            continue
        message = session.get(Message, message_id)
        if message is None:
            continue
        index = attach_recording(session, message)
        if index is not None:
            enqueue(session, FETCH_JOB, {"message_id": str(message.id), "index": index},
                    workspace_id=message.workspace_id)
