"""The callback queue on the desktop (issue 15): callbacks the workspace owes, soonest
first, the number masked; Call now and the outcome through CSRF-checked forms; bad outcomes
and another workspace's callbacks refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from tests.desktop.conftest import desk_for
from tests.factories import only_api_conversation
from threadline.contacts.service import record_consent
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent, OutboxJob
from threadline.hops.records.callbacks import PLACE_JOB
from threadline.workspace import service as workspace_service

PHONE = "+1 415 555 0188"


def _callback(runtime, workspace_id, client, worker) -> tuple[str, str]:
    conv = only_api_conversation(runtime, workspace_id, client, worker, "please call me back")
    with runtime.db.session() as s:
        record_consent(s, workspace_id, uuid.UUID(conv["customer_id"]), kind="phone",
                       address=PHONE, purpose="callback", method="verbal",
                       wording="You may call me back on this number")
    start = (utcnow() + timedelta(hours=2)).isoformat()
    answer = client.post(f"/api/v1/conversations/{conv['id']}/callbacks",
                         json={"phone": PHONE, "window_start": start})
    assert answer.status_code == 201, answer.text
    return conv["id"], answer.json()["id"]


def test_the_queue_call_now_and_the_outcome(runtime, workspace_id, client, worker, app):
    conv, callback = _callback(runtime, workspace_id, client, worker)
    desk = desk_for(app, runtime, workspace_id, "agent")
    page = desk.get("/callbacks").text
    assert f'data-callback="{callback}" data-state="scheduled"' in page
    assert "+•••• 0188" in page and "555 0188" not in page and "4155550188" not in page
    assert f"/conversations/{conv}" in page

    assert desk.post(f"/callbacks/{callback}/place", csrf=False).status_code == 403
    placed = desk.post(f"/callbacks/{callback}/place")
    assert placed.status_code == 303 and placed.headers["location"] == "/callbacks?notice=placed"
    with runtime.db.session(write=False) as s:
        jobs = list(s.scalars(select(OutboxJob).where(OutboxJob.name == PLACE_JOB,
                                                      OutboxJob.workspace_id == workspace_id)))
        assert len(jobs) == 2  # at the window's start, and now
        assert min(j.due_at for j in jobs) <= utcnow()
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "callback.place_now",
                                                   AuditEvent.subject_id == conv)) is not None

    bad = desk.post(f"/callbacks/{callback}/outcome", {"outcome": "exploded"})
    assert bad.status_code == 422 and 'data-code="invalid_outcome"' in bad.text
    done = desk.post(f"/callbacks/{callback}/outcome",
                     {"outcome": "no_answer", "note": "voicemail, will try tomorrow"})
    assert done.status_code == 303
    page = desk.get("/callbacks?notice=outcome").text
    assert "Outcome recorded." in page
    assert f'data-callback="{callback}" data-state="no_answer"' in page
    assert "no_answer: voicemail, will try tomorrow" in page


def test_another_workspaces_callback_is_unknown(runtime, workspace_id, client, worker, app):
    _, callback = _callback(runtime, workspace_id, client, worker)
    with runtime.db.session() as s:
        other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}").id
    stranger = desk_for(app, runtime, other, "agent")
    assert f'data-callback="{callback}"' not in stranger.get("/callbacks").text
    for path in (f"/callbacks/{callback}/place", f"/callbacks/{callback}/outcome",
                 f"/callbacks/{uuid.uuid4()}/place"):
        assert stranger.post(path, {"outcome": "completed"}).status_code == 404, path
    assert stranger.post("/callbacks/not-a-uuid/place").status_code == 422
