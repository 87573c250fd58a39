"""The phone callback queue on the desktop (issue 15): every callback the workspace owes,
soonest window first, with "Call now" for a scheduled one and the outcome of a placed one
(completed, no answer, busy, failed, canceled, with a note). The same services as
`/api/v1/callbacks`; a callback's state changes reach open pages through the stream
(`callback.requested`, `callback.updated`). Scheduled callbacks are grouped as due, overdue
and later; one not placed yet can be rescheduled or canceled.

The conversation's phone card (`/conversations/{id}/phone`, loaded into the conversation
pane) places a click-to-call and, after a call ended, suggests inviting the customer to
follow the brand where he has a social identity (hops/flow/phone.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from threadline.conversations.service import access_conversation
from threadline.db.base import utcnow
from threadline.errors import ThreadlineError, ValidationFailed
from threadline.hops.flow import phone
from threadline.hops.flow.callbacks import sync_outcomes
from threadline.hops.records import callbacks as service
from threadline.web.deps import PostedForm, ReadSession
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Anyone,
    DesktopRoute,
    DeskUser,
    WriteSession,
    form_value,
)
from threadline.workspace.models import Agent

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
PAGE = "/callbacks"
SHOWN_STATES = ("scheduled", "placing", "placed", "requested", *service.OUTCOMES)
NOTICES = {"placed": "The call is being placed.", "outcome": "Outcome recorded.",
           "rescheduled": "Callback rescheduled.", "canceled": "Callback canceled."}
GROUPS = ("overdue", "due", "scheduled")


def masked_phone(phone: str) -> str:
    """The number with all but its last four digits hidden (the call is placed by
    Threadline; the agent needs to recognise the number, not to dial it)."""
    digits = [c for c in phone if c.isdigit()]
    return f"+•••• {''.join(digits[-4:])}" if len(digits) > 4 else "••••"


def _page(request: Request, session: Any, user: DeskUser, *, status: int = 200,
          error: ThreadlineError | None = None) -> Response:
    items = service.list_callbacks(session, user.workspace_id, states=SHOWN_STATES)
    sync_outcomes(session, items)
    open_items = [c for c in items if c.state in ("requested", *service.OPEN_STATES)]
    done = [c for c in items if c.state in service.OUTCOMES][-50:]
    now = utcnow()
    groups: dict[str, list[Any]] = {g: [] for g in (*GROUPS, "in_progress")}
    for c in open_items:
        groups[service.due_group(c, now) if c.state == "scheduled" else "in_progress"].append(c)
    return render(request, "callbacks.html", {
        "open_items": open_items, "groups": groups, "done": list(reversed(done)),
        "outcomes": service.OUTCOMES,
        "masked_phone": masked_phone, "error": error,
        "notice": NOTICES.get(request.query_params.get("notice", ""))}, status=status)


@router.get(PAGE)
def callbacks_page(request: Request, user: Anyone, session: WriteSession) -> Response:
    return _page(request, session, user)


def _act(request: Request, session: Any, user: DeskUser, callback_id: uuid.UUID,
         notice: str, change: Callable[[Any], object]) -> Response:
    """Apply `change` to the workspace's callback, then back to the queue with `notice`; a
    refusal rolls back and shows the queue with the error."""
    callback = service.access_callback(session, user.workspace_id, callback_id)
    try:
        change(callback)
    except ThreadlineError as exc:
        session.rollback()
        return _page(request, session, user, status=exc.status, error=exc)
    return RedirectResponse(f"{PAGE}?notice={notice}", status_code=303)


@router.post(PAGE + "/{callback_id}/place")
def call_now(callback_id: uuid.UUID, request: Request, user: Anyone,
             session: WriteSession) -> Response:
    return _act(request, session, user, callback_id, "placed", lambda c: service.place_now(
        session, c, actor_type=user.actor.type, actor_id=user.actor.id))


@router.post(PAGE + "/{callback_id}/outcome")
def outcome(callback_id: uuid.UUID, request: Request, form: PostedForm, user: Anyone,
            session: WriteSession) -> Response:
    return _act(request, session, user, callback_id, "outcome", lambda c: service.record_outcome(
        session, c, form_value(form, "outcome"), form_value(form, "note") or None,
        actor_type=user.actor.type, actor_id=user.actor.id))


def _when(form: Any, name: str, *, required: bool) -> datetime | None:
    """A `datetime-local` field, in UTC (as the desktop's other time fields)."""
    text = form_value(form, name)
    if not text:
        if required:
            raise ValidationFailed(f"give {name.replace('_', ' ')}", code="invalid_window")
        return None
    if len(text) > 40:
        raise ValidationFailed(f"{name.replace('_', ' ')} is not a time", code="invalid_window")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{name.replace('_', ' ')} is not a time",
                               code="invalid_window") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.post(PAGE + "/{callback_id}/reschedule")
def reschedule(callback_id: uuid.UUID, request: Request, form: PostedForm, user: Anyone,
               session: WriteSession) -> Response:
    return _act(request, session, user, callback_id, "rescheduled", lambda c: service.reschedule(
        session, c, window_start=_when(form, "window_start", required=True),
        window_end=_when(form, "window_end", required=False),
        actor_type=user.actor.type, actor_id=user.actor.id))


@router.post(PAGE + "/{callback_id}/cancel")
def cancel(callback_id: uuid.UUID, request: Request, form: PostedForm, user: Anyone,
           session: WriteSession) -> Response:
    return _act(request, session, user, callback_id, "canceled", lambda c: service.cancel(
        session, c, form_value(form, "note") or None, actor_type=user.actor.type,
        actor_id=user.actor.id))


# --- the conversation's phone card -------------------------------------------------------


def _phone_card(request: Request, session: Any, user: DeskUser, conversation_id: uuid.UUID,
                *, status: int = 200, error: ThreadlineError | None = None,
                notice: str | None = None) -> Response:
    conv = access_conversation(session, user.workspace_id, conversation_id)
    agent = session.get(Agent, user.agent_id)
    customer = phone.customer_phone(session, conv)
    own = phone.agent_phone(agent) if agent is not None else None
    return render(request, "partials/phone.html", {
        "conv": conv, "error": error, "notice": notice,
        "agent_phone": masked_phone(own) if own else None,
        "customer_phone": masked_phone(customer) if customer else None,
        "hints": phone.follow_hints(session, conv)}, status=status)


@router.get("/conversations/{conversation_id}/phone")
def phone_card(conversation_id: uuid.UUID, request: Request, user: Anyone,
               session: ReadSession) -> Response:
    return _phone_card(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/call")
def click_to_call(conversation_id: uuid.UUID, request: Request, form: PostedForm,
                  user: Anyone, session: WriteSession) -> Response:
    agent = session.get(Agent, user.agent_id)
    try:
        if agent is None or agent.workspace_id != user.workspace_id:
            raise phone.CallRefused("only an agent can place a call", code="no_agent_phone")
        phone.click_to_call(session, user.workspace_id, conversation_id, agent)
    except ThreadlineError as exc:
        if exc.status == 404:
            raise
        session.rollback()
        return _phone_card(request, session, user, conversation_id, status=exc.status,
                           error=exc)
    return _phone_card(request, session, user, conversation_id,
                       notice="Calling your phone: answer it, and the customer is dialled.")
