"""The phone callback queue on the desktop (issue 15): every callback the workspace owes,
soonest window first, with "Call now" for a scheduled one and the outcome of a placed one
(completed, no answer, busy, failed, canceled, with a note). The same services as
`/api/v1/callbacks`; a callback's state changes reach open pages through the stream
(`callback.requested`, `callback.updated`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from threadline.errors import ThreadlineError
from threadline.hops.flow.callbacks import sync_outcomes
from threadline.hops.records import callbacks as service
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    DesktopRoute,
    DeskUser,
    WriteSession,
    form_value,
    require,
)
from threadline.workspace.models import Role

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
Anyone = Annotated[DeskUser, Depends(require(Role.AGENT))]
PAGE = "/callbacks"
SHOWN_STATES = ("scheduled", "placing", "placed", "requested", *service.OUTCOMES)
NOTICES = {"placed": "The call is being placed.", "outcome": "Outcome recorded."}


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
    return render(request, "callbacks.html", {
        "open_items": open_items, "done": list(reversed(done)), "outcomes": service.OUTCOMES,
        "masked_phone": masked_phone, "error": error,
        "notice": NOTICES.get(request.query_params.get("notice", ""))}, status=status)


@router.get(PAGE)
def callbacks_page(request: Request, user: Anyone, session: WriteSession) -> Response:
    return _page(request, session, user)


@router.post(PAGE + "/{callback_id}/place")
def call_now(callback_id: uuid.UUID, request: Request, user: Anyone,
             session: WriteSession) -> Response:
    callback = service.access_callback(session, user.workspace_id, callback_id)
    try:
        service.place_now(session, callback, actor_type=user.actor.type,
                          actor_id=user.actor.id)
    except ThreadlineError as exc:
        session.rollback()
        return _page(request, session, user, status=exc.status, error=exc)
    return RedirectResponse(f"{PAGE}?notice=placed", status_code=303)


@router.post(PAGE + "/{callback_id}/outcome")
def outcome(callback_id: uuid.UUID, request: Request, form: PostedForm, user: Anyone,
            session: WriteSession) -> Response:
    callback = service.access_callback(session, user.workspace_id, callback_id)
    note = form_value(form, "note")
    try:
        service.record_outcome(session, callback, form_value(form, "outcome"), note or None,
                               actor_type=user.actor.type, actor_id=user.actor.id)
    except ThreadlineError as exc:
        session.rollback()
        return _page(request, session, user, status=exc.status, error=exc)
    return RedirectResponse(f"{PAGE}?notice=outcome", status_code=303)
