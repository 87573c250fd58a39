"""The desktop composer's file input: a photo sent with a reply is stored, named on the
message and shown in the timeline; a program named .jpg is refused in the composer with the
typed code; no CSRF token, no upload."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.desktop.conftest import desk_for
from tests.media import samples
from tests.media.conftest import whatsapp_conversation
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.media.models import MediaFile


def test_a_photo_goes_with_the_reply_and_shows_in_the_timeline(
        client: TestClient, worker: Worker, app: Any, runtime: Runtime,
        workspace_id: uuid.UUID) -> None:
    conv, account = whatsapp_conversation(client, worker)
    desk = desk_for(app, runtime, workspace_id, "agent")
    answer = desk.post(f"/conversations/{conv}/reply",
                       {"text": "Here it is", "kind": "message", "visibility": "private",
                        "account_id": account}, htmx=True,
                       files={"file": ("receipt.png", samples.png(), "image/png")})
    assert answer.status_code == 200, answer.text
    assert 'data-role="attachment-image"' in answer.text
    with runtime.db.session(write=False) as session:
        row = session.scalar(select(MediaFile).where(
            MediaFile.conversation_id == uuid.UUID(conv)))
        assert row is not None and row.message_id is not None and row.name == "receipt.png"


def test_a_program_named_jpg_is_refused_in_the_composer(
        client: TestClient, worker: Worker, app: Any, runtime: Runtime,
        workspace_id: uuid.UUID) -> None:
    conv, account = whatsapp_conversation(client, worker)
    desk = desk_for(app, runtime, workspace_id, "agent")
    answer = desk.post(f"/conversations/{conv}/reply",
                       {"text": "cat pic", "kind": "message", "visibility": "private",
                        "account_id": account}, htmx=True,
                       files={"file": ("cat.jpg", samples.EXE, "image/jpeg")})
    assert answer.status_code == 422
    assert 'data-code="media_type_refused"' in answer.text
    with runtime.db.session(write=False) as session:
        assert session.scalar(select(MediaFile).where(
            MediaFile.conversation_id == uuid.UUID(conv))) is None
    forged = desk.post(f"/conversations/{conv}/reply",
                       {"text": "x", "kind": "message", "visibility": "private"}, csrf=False,
                       htmx=True, files={"file": ("a.png", samples.png(), "image/png")})
    assert forged.status_code == 403
