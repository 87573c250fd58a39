"""Channel hops from the conversation view: offer a move to private (DM invitation, private
reply, chat link, callback form, email form) and send the public follow-up after resolving."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from threadline.errors import NotFound
from threadline.hops.flow import details as details_flow
from threadline.hops.flow import offers as hop_flow
from threadline.hops.records import takers
from threadline.web.deps import PostedForm
from threadline.web.desktop.actions import _pane
from threadline.web.desktop.security import (
    DesktopRoute,
    DeskUser,
    WriteSession,
    current_user,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)

@router.post("/conversations/{conversation_id}/hop")
def offer(conversation_id: uuid.UUID, request: Request, form: PostedForm,
          user: Annotated[DeskUser, Depends(current_user)],
          session: WriteSession) -> Response:
    hop_flow.offer(session, user.workspace_id, conversation_id,
                   method=form_value(form, "method"), reason=form_value(form, "reason"),
                   actor=user.actor, base_url=str(request.base_url))
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/details")
def request_details(conversation_id: uuid.UUID, request: Request, form: PostedForm,
                    user: Annotated[DeskUser, Depends(current_user)],
                    session: WriteSession) -> Response:
    """Send the customer a secure form for the ticked details."""
    fields = [str(v) for v in form.getlist("fields")]
    details_flow.request_details(session, user.workspace_id, conversation_id, fields,
                                 user.actor,
                                 base_url=request.app.state.runtime.settings.public_url
                                 or str(request.base_url),
                                 note=form_value(form, "note") or None)
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/follow-up")
def follow_up(conversation_id: uuid.UUID, request: Request, form: PostedForm,
              user: Annotated[DeskUser, Depends(current_user)],
              session: WriteSession) -> Response:
    hop_flow.send_follow_up(session, user.workspace_id, conversation_id, user.actor,
                            text=form_value(form, "text") or None)
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/takers/{taker_id}/confirm")
def confirm_taker(conversation_id: uuid.UUID, taker_id: uuid.UUID, request: Request,
                  user: Annotated[DeskUser, Depends(current_user)],
                  session: WriteSession) -> Response:
    """The agent confirms that whoever took the public link is the customer (audited)."""
    taker = takers.access_taker(session, user.workspace_id, taker_id)
    if taker.conversation_id != conversation_id:
        raise NotFound("this person is not known here", code="taker_not_found")
    takers.prove(session, taker, by="agent", actor=user.actor)
    return _pane(request, session, user, conversation_id)
