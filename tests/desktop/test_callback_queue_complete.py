"""The callback queue complete (issue 15): scheduled callbacks grouped as overdue, due and
later; reschedule and cancel with typed errors and audit; another workspace's callbacks and
forgeries refused, nothing changed half-way."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from tests.desktop.conftest import desk_for
from tests.factories import only_api_conversation
from threadline.contacts.models import Consent
from threadline.contacts.service import record_consent, revoke_consent
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent, OutboxJob
from threadline.hops.records.callbacks import PLACE_JOB
from threadline.hops.records.models import Callback
from threadline.workspace import service as workspace_service

PHONE = "+1 415 555 0177"


def _callback(runtime, workspace_id, client, worker, hours: float = 2,
              conv: dict[str, str] | None = None) -> tuple[str, str]:
    if conv is None:
        conv = only_api_conversation(runtime, workspace_id, client, worker,
                                     "please call me back")
        with runtime.db.session() as s:
            record_consent(s, workspace_id, uuid.UUID(conv["customer_id"]), kind="phone",
                           address=PHONE, purpose="callback", method="verbal",
                           wording="You may call me back on this number")
    start = (utcnow() + timedelta(hours=hours)).isoformat()
    answer = client.post(f"/api/v1/conversations/{conv['id']}/callbacks",
                         json={"phone": PHONE, "window_start": start})
    assert answer.status_code == 201, answer.text
    return conv["id"], answer.json()["id"]


def _move(runtime, callback_id: str, start_hours: float, end_hours: float) -> None:
    with runtime.db.session() as s:
        row = s.get(Callback, uuid.UUID(callback_id))
        assert row is not None
        row.window_start = utcnow() + timedelta(hours=start_hours)
        row.window_end = utcnow() + timedelta(hours=end_hours)


def _state(runtime, callback_id: str) -> Callback:
    with runtime.db.session(write=False) as s:
        row = s.get(Callback, uuid.UUID(callback_id))
        assert row is not None
        return row


def _jobs(runtime, workspace_id) -> int:
    with runtime.db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(OutboxJob).where(
            OutboxJob.name == PLACE_JOB, OutboxJob.workspace_id == workspace_id)) or 0)


def _audited(runtime, action: str, callback_id: str) -> bool:
    with runtime.db.session(write=False) as s:
        return any(e.data.get("callback_id") == callback_id for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == action)))


def _group_of(page: str, callback_id: str) -> str:
    marker = f'data-callback="{callback_id}" data-state="scheduled" data-group="'
    assert marker in page
    return page.split(marker)[1].split('"')[0]


class TestGroups:
    def test_overdue_due_and_scheduled(self, runtime, workspace_id, client, worker, app):
        conv_id, later = _callback(runtime, workspace_id, client, worker)
        conv = {"id": conv_id}
        _, due = _callback(runtime, workspace_id, client, worker, conv=conv)
        _, overdue = _callback(runtime, workspace_id, client, worker, conv=conv)
        _move(runtime, due, -1, 1)
        _move(runtime, overdue, -5, -1)
        desk = desk_for(app, runtime, workspace_id, "agent")
        page = desk.get("/callbacks").text
        assert _group_of(page, later) == "scheduled"
        assert _group_of(page, due) == "due"
        assert _group_of(page, overdue) == "overdue"
        assert page.index('data-group="overdue"') < page.index('data-group="due"') \
            < page.index('data-group="scheduled"')
        assert "Overdue: the window passed (1)" in page


class TestReschedule:
    def test_moves_the_window_queues_a_job_and_is_audited(self, runtime, workspace_id,
                                                          client, worker, app):
        _, callback = _callback(runtime, workspace_id, client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        start = (utcnow() + timedelta(days=1)).replace(microsecond=0, tzinfo=None)
        answer = desk.post(f"/callbacks/{callback}/reschedule", {
            "window_start": start.isoformat(timespec="minutes"),
            "window_end": (start + timedelta(hours=3)).isoformat(timespec="minutes")})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/callbacks?notice=rescheduled"
        row = _state(runtime, callback)
        assert row.state == "scheduled"
        assert row.window_start.replace(tzinfo=None) == start.replace(second=0)
        assert (row.window_end - row.window_start) == timedelta(hours=3)
        assert _jobs(runtime, workspace_id) == 2  # the old window's job finds it moved
        assert _audited(runtime, "callback.rescheduled", callback)
        assert "Callback rescheduled." in desk.get("/callbacks?notice=rescheduled").text
        worker.drain()  # the old window's job does not dial a moved callback
        assert _state(runtime, callback).state == "scheduled"

    def test_bad_windows_are_refused_and_nothing_changes(self, runtime, workspace_id, client,
                                                         worker, app):
        _, callback = _callback(runtime, workspace_id, client, worker)
        before = _state(runtime, callback).window_start
        desk = desk_for(app, runtime, workspace_id, "agent")
        now = utcnow().replace(tzinfo=None)
        for form in ({"window_start": ""}, {"window_start": "tomorrow at noon"},
                     {"window_start": "9" * 500},
                     {"window_start": (now + timedelta(days=90)).isoformat()},
                     {"window_start": (now + timedelta(hours=5)).isoformat(),
                      "window_end": (now + timedelta(hours=4)).isoformat()},
                     {"window_start": (now - timedelta(days=3)).isoformat(),
                      "window_end": (now - timedelta(days=2)).isoformat()}):
            answer = desk.post(f"/callbacks/{callback}/reschedule", form)
            assert answer.status_code == 422, form
            assert 'data-code="invalid_window"' in answer.text, form
        assert _state(runtime, callback).window_start == before
        assert _jobs(runtime, workspace_id) == 1
        assert not _audited(runtime, "callback.rescheduled", callback)

    def test_without_consent_any_more(self, runtime, workspace_id, client, worker, app):
        _, callback = _callback(runtime, workspace_id, client, worker)
        with runtime.db.session() as s:
            for consent in s.scalars(select(Consent).where(Consent.workspace_id == workspace_id)):
                revoke_consent(s, consent)
        desk = desk_for(app, runtime, workspace_id, "agent")
        start = (utcnow() + timedelta(days=1)).replace(tzinfo=None).isoformat()
        answer = desk.post(f"/callbacks/{callback}/reschedule", {"window_start": start})
        assert answer.status_code == 422 and 'data-code="consent_required"' in answer.text
        assert _jobs(runtime, workspace_id) == 1


class TestCancel:
    def test_cancels_a_scheduled_callback_with_a_note(self, runtime, workspace_id, client,
                                                      worker, app):
        _, callback = _callback(runtime, workspace_id, client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        answer = desk.post(f"/callbacks/{callback}/cancel", {"note": "solved by email"})
        assert answer.status_code == 303
        row = _state(runtime, callback)
        assert row.state == "canceled" and row.outcome == "canceled: solved by email"
        assert _audited(runtime, "callback.canceled", callback)
        page = desk.get("/callbacks?notice=canceled").text
        assert "Callback canceled." in page and "canceled: solved by email" in page
        _move(runtime, callback, -1, 1)
        with runtime.db.session() as s:  # its job is due now: it dials nothing
            row2 = s.get(Callback, uuid.UUID(callback))
            assert row2 is not None
            row2.window_start = utcnow() - timedelta(minutes=1)
        worker.drain()
        assert _state(runtime, callback).state == "canceled"

    def test_only_a_scheduled_callback_can_be_changed(self, runtime, workspace_id, client,
                                                      worker, app):
        _, callback = _callback(runtime, workspace_id, client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        assert desk.post(f"/callbacks/{callback}/cancel").status_code == 303
        again = desk.post(f"/callbacks/{callback}/cancel")
        assert again.status_code == 422 and 'data-code="callback_not_scheduled"' in again.text
        start = (utcnow() + timedelta(days=1)).replace(tzinfo=None).isoformat()
        moved = desk.post(f"/callbacks/{callback}/reschedule", {"window_start": start})
        assert moved.status_code == 422 and 'data-code="callback_not_scheduled"' in moved.text
        assert _state(runtime, callback).state == "canceled"


class TestForgeries:
    def test_missing_csrf_and_another_workspace(self, runtime, workspace_id, client, worker,
                                                app):
        _, callback = _callback(runtime, workspace_id, client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        start = (utcnow() + timedelta(days=1)).replace(tzinfo=None).isoformat()
        assert desk.post(f"/callbacks/{callback}/cancel", csrf=False).status_code == 403
        assert desk.post(f"/callbacks/{callback}/reschedule", {"window_start": start},
                         csrf=False).status_code == 403
        with runtime.db.session() as s:
            other = workspace_service.create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:8]}")
            other_id = other.id
        stranger = desk_for(app, runtime, other_id, "agent")
        for path in (f"/callbacks/{callback}/cancel", f"/callbacks/{callback}/reschedule",
                     f"/callbacks/{uuid.uuid4()}/cancel"):
            assert stranger.post(path, {"window_start": start}).status_code == 404, path
        assert stranger.post("/callbacks/nope/cancel").status_code == 422
        row = _state(runtime, callback)
        assert row.state == "scheduled"
        assert not _audited(runtime, "callback.canceled", callback)
        assert not _audited(runtime, "callback.rescheduled", callback)
