"""Callbacks: a phone call the customer asked for (number and time window), a task for the
agents, placed through the outbox at the window's start, logged in the timeline with its outcome.

States: scheduled -> placing -> placed -> completed | no_answer | busy | failed | canceled;
`expired` when the window passed before the call could be placed; `unknown` when a crash left
the outcome of a placing attempt unknown (never dialled twice).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.contacts.rules import normalize_phone
from threadline.contacts.service import has_consent
from threadline.conversations.models import Conversation
from threadline.db.base import new_id, utcnow
from threadline.errors import ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.hops.records.models import Callback
from threadline.hops.records.service import ConsentRequired, access_scoped

PLACE_JOB = "callback.place"
PURPOSE = "callback"
MAX_AHEAD = timedelta(days=30)
ASAP_WINDOW = timedelta(hours=4)
OUTCOMES = ("completed", "no_answer", "busy", "failed", "canceled")
OPEN_STATES = ("scheduled", "placing", "placed")


def check_window(start: datetime | None, end: datetime | None,
                 now: datetime) -> tuple[datetime, datetime]:
    """A window in the future (as soon as possible when none is given)."""
    begin = max(start or now, now)
    finish = end or begin + ASAP_WINDOW
    if finish <= begin:
        raise ValidationFailed("the time window ends before it starts, or has passed",
                               code="invalid_window")
    if begin - now > MAX_AHEAD:
        raise ValidationFailed("a callback can be asked for at most 30 days ahead",
                               code="invalid_window")
    return begin, finish


def request_callback(session: Session, workspace_id: uuid.UUID, conv: Conversation, *,
                     phone: str, window_start: datetime | None, window_end: datetime | None,
                     actor_type: str, actor_id: str | None,
                     hop_id: uuid.UUID | None = None, customer_id: uuid.UUID | None = None,
                     taker_id: uuid.UUID | None = None) -> Callback:
    """Schedule a call. The number needs the customer's consent for callbacks (a form
    submission records it); without it the request is refused with `consent_required`.
    A callback asked for on a public link is for its taker (`customer_id`, `taker_id`), not
    for the public author, until the taker is proven to be him."""
    number = normalize_phone(phone)
    if not has_consent(session, workspace_id, kind="phone", address=number, purpose=PURPOSE):
        raise ConsentRequired("this number has no consent for callbacks; send the customer a "
                              "callback form instead", details={"allowed": ["callback_form"]})
    start, end = check_window(window_start, window_end, utcnow())
    callback = Callback(id=new_id(), workspace_id=workspace_id, conversation_id=conv.id,
                        customer_id=customer_id or conv.customer_id, phone=number,
                        window_start=start, window_end=end, state="scheduled",
                        meta={"hop_id": str(hop_id) if hop_id else None,
                              "taker_id": str(taker_id) if taker_id else None,
                              "requested_by": actor_type})
    session.add(callback)
    session.flush()
    enqueue(session, PLACE_JOB, {"callback_id": str(callback.id)}, workspace_id=workspace_id,
            due_at=start)
    audit(session, workspace_id, "callback.requested", "conversation", conv.id,
          actor_type=actor_type, actor_id=actor_id,
          data={"callback_id": str(callback.id), "window_start": start.isoformat(),
                "window_end": end.isoformat()})
    publish(session, workspace_id, Live.CALLBACK_REQUESTED,
            {"conversation_id": str(conv.id), "callback_id": str(callback.id)})
    return callback


def access_callback(session: Session, workspace_id: uuid.UUID,
                    callback_id: uuid.UUID) -> Callback:
    return access_scoped(session, Callback, workspace_id, callback_id, "callback not found",
                         "callback_not_found")


def list_callbacks(session: Session, workspace_id: uuid.UUID, *,
                   states: tuple[str, ...] | None = None,
                   conversation_id: uuid.UUID | None = None, limit: int = 200) -> list[Callback]:
    stmt = select(Callback).where(Callback.workspace_id == workspace_id)
    if states:
        stmt = stmt.where(Callback.state.in_(states))
    if conversation_id is not None:
        stmt = stmt.where(Callback.conversation_id == conversation_id)
    return list(session.scalars(stmt.order_by(Callback.window_start, Callback.id).limit(limit)))


def place_now(session: Session, callback: Callback, *, actor_type: str,
              actor_id: str | None) -> Callback:
    """An agent places a scheduled callback now instead of at its window's start."""
    if callback.state != "scheduled":
        raise ValidationFailed(f"this callback is {callback.state}", code="callback_not_scheduled")
    callback.window_start = utcnow()
    enqueue(session, PLACE_JOB, {"callback_id": str(callback.id)},
            workspace_id=callback.workspace_id)
    audit(session, callback.workspace_id, "callback.place_now", "conversation",
          callback.conversation_id, actor_type=actor_type, actor_id=actor_id,
          data={"callback_id": str(callback.id)})
    return callback


def reschedule(session: Session, callback: Callback, *, window_start: datetime | None,
               window_end: datetime | None, actor_type: str,
               actor_id: str | None) -> Callback:
    """Move a scheduled callback to a new window (the customer asked for another time). The
    job of the old window finds its start in the future and does nothing; a new job is queued
    for the new start. The consent is checked again."""
    if callback.state != "scheduled":
        raise ValidationFailed(f"this callback is {callback.state}", code="callback_not_scheduled")
    if window_start is None:
        raise ValidationFailed("give the new window's start", code="invalid_window")
    if not has_consent(session, callback.workspace_id, kind="phone", address=callback.phone,
                       purpose=PURPOSE):
        raise ConsentRequired("this number has no consent for callbacks any more",
                              details={"allowed": ["callback_form"]})
    start, end = check_window(window_start, window_end, utcnow())
    previous = (callback.window_start, callback.window_end)
    callback.window_start, callback.window_end = start, end
    enqueue(session, PLACE_JOB, {"callback_id": str(callback.id)},
            workspace_id=callback.workspace_id, due_at=start)
    audit(session, callback.workspace_id, "callback.rescheduled", "conversation",
          callback.conversation_id, actor_type=actor_type, actor_id=actor_id,
          data={"callback_id": str(callback.id),
                "from": [w.isoformat() if w else None for w in previous],
                "window_start": start.isoformat(), "window_end": end.isoformat()})
    publish(session, callback.workspace_id, Live.CALLBACK_UPDATED,
            {"conversation_id": str(callback.conversation_id), "callback_id": str(callback.id),
             "state": callback.state})
    return callback


def cancel(session: Session, callback: Callback, note: str | None, *, actor_type: str,
           actor_id: str | None) -> Callback:
    """Cancel a callback not placed yet (its job then finds it canceled and does nothing)."""
    if callback.state != "scheduled":
        raise ValidationFailed(f"this callback is {callback.state}; only a scheduled one can "
                               "be canceled", code="callback_not_scheduled")
    text = "canceled" if not note or not note.strip() else f"canceled: {note.strip()[:2000]}"
    set_state(session, callback, "canceled", actor_type=actor_type, actor_id=actor_id,
              outcome=text)
    return callback


def due_group(callback: Callback, now: datetime) -> str:
    """Where a scheduled callback stands: `scheduled` (its window is ahead), `due` (inside
    its window) or `overdue` (the window passed and nobody called)."""
    if callback.window_end is not None and callback.window_end < now:
        return "overdue"
    if callback.window_start is not None and callback.window_start > now:
        return "scheduled"
    return "due"


def set_state(session: Session, callback: Callback, state: str, *, actor_type: str = "system",
              actor_id: str | None = None, outcome: str | None = None,
              call_provider_id: str | None = None) -> None:
    previous = callback.state
    callback.state = state
    if outcome is not None:
        callback.outcome = outcome
    if call_provider_id is not None:
        callback.call_provider_id = call_provider_id
    audit(session, callback.workspace_id, f"callback.{state}", "conversation",
          callback.conversation_id, actor_type=actor_type, actor_id=actor_id,
          data={"callback_id": str(callback.id), "from": previous, "outcome": outcome})
    publish(session, callback.workspace_id, Live.CALLBACK_UPDATED,
            {"conversation_id": str(callback.conversation_id), "callback_id": str(callback.id),
             "state": state})


def record_outcome(session: Session, callback: Callback, outcome: str, note: str | None, *,
                   actor_type: str, actor_id: str | None) -> Callback:
    """The agent (or the call's terminal status) says how the call went."""
    if outcome not in OUTCOMES:
        raise ValidationFailed(f"outcome must be one of {', '.join(OUTCOMES)}",
                               code="invalid_outcome")
    text = outcome if not note else f"{outcome}: {note.strip()[:2000]}"
    set_state(session, callback, outcome, actor_type=actor_type, actor_id=actor_id,
              outcome=text)
    return callback
