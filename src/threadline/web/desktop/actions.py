"""Conversation actions from the desktop: reply or note, assign, label, snooze,
resolve/reopen, split and merge. Each answers with the refreshed conversation pane."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from threadline.conversations import service
from threadline.conversations.models import Message
from threadline.conversations.queue import check_priority
from threadline.db.base import utcnow
from threadline.errors import NotFound, ThreadlineError, ValidationFailed
from threadline.events.service import audit
from threadline.hops.flow import offers as hop_flow
from threadline.hops.flow.video import end_video, start_video
from threadline.outbound.actions import request_action
from threadline.outbound.deletion import (
    Deletion,
    check_delete,
    deletable_messages,
    request_delete,
)
from threadline.outbound.replies import Reply, post_reply
from threadline.triage import CATEGORIES, SENTIMENTS
from threadline.web.deps import PostedForm
from threadline.web.desktop.inbox import conversation_context, traits_hint
from threadline.web.desktop.render import is_htmx, render
from threadline.web.desktop.security import (
    DesktopRoute,
    DeskUser,
    ReadSession,
    WriteSession,
    current_user,
    form_value,
)
from threadline.web.desktop.wa_templates import composer_extras
from threadline.web.media import composer_upload

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
SNOOZES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1),
           "1w": timedelta(days=7)}


def _pane(request: Request, session: Session, user: DeskUser, conversation_id: uuid.UUID,
          **overrides: Any) -> Response:
    session.flush()
    if not is_htmx(request):
        return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)
    ctx = conversation_context(session, user, conversation_id, request.query_params)
    ctx.update(overrides)
    return render(request, "partials/conversation.html", ctx,
                  headers={"HX-Retarget": "#conv-pane", "HX-Reswap": "innerHTML"})


def _parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"choose a valid {what}", code="bad_id") from None


@router.post("/conversations/{conversation_id}/reply")
def reply(conversation_id: uuid.UUID, request: Request, form: PostedForm,
          user: Annotated[DeskUser, Depends(current_user)],
          session: WriteSession) -> Response:
    text = form_value(form, "text")
    kind = "note" if form_value(form, "kind") == "note" else "message"
    visibility = form_value(form, "visibility") or "public"
    account_raw = form_value(form, "account_id")
    try:
        account_id = _parse_uuid(account_raw, "channel account") if account_raw else None
        if len(text) > 20_000:
            raise ValidationFailed("a message has at most 20,000 characters")
        options = closed_window_options(form) if kind == "message" else {}
        if kind == "message":  # the synced template picker and quick replies
            extras, filled = composer_extras(session, user.workspace_id, account_id, form)
            options.update(extras)
            text = filled if filled is not None else text
        if not text and "template" in options:  # the record of what was sent
            template = options["template"]
            text = f"[WhatsApp template {template['name']}]"
        files = composer_upload(
            form, session, request.app.state.runtime.settings, workspace_id=user.workspace_id,
            conversation_id=conversation_id, account_id=account_id,
            agent_id=str(user.agent_id)) if kind == "message" else ()
        message = post_reply(session, user.workspace_id, conversation_id,
                             Reply(text=text, visibility=visibility, channel_account_id=account_id,
                                   kind=kind, options=options, attachment_ids=files), user.actor)
    except ThreadlineError as exc:
        session.rollback()
        ctx = conversation_context(session, user, conversation_id, request.query_params)
        account = next((a for a in ctx["story"].accounts if str(a.id) == account_raw),
                       ctx["composer"]["account"])
        ctx["composer"] = {"account": account, "visibility": visibility, "text": text,
                           "kind": kind, "error": exc}
        ctx["hint"] = traits_hint(ctx["story"], account, visibility)
        return render(request, "partials/composer.html", ctx, status=exc.status,
                      headers={"HX-Retarget": "#composer", "HX-Reswap": "outerHTML"})
    ctx_override: dict[str, Any] = {}
    response = _pane(request, session, user, conversation_id, **ctx_override)
    if kind == "message" and is_htmx(request):
        response.headers["HX-Trigger"] = f'{{"tl:sent": "{message.id}"}}'
    return response


@router.post("/conversations/{conversation_id}/video")
def video_start(conversation_id: uuid.UUID, request: Request,
                user: Annotated[DeskUser, Depends(current_user)],
                session: WriteSession) -> Response:
    """Send the customer a video call link; the pane offers the agent his own link."""
    started = start_video(session, user.workspace_id, conversation_id, user.actor,
                          agent_name=user.name, settings=request.app.state.runtime.settings)
    return _pane(request, session, user, conversation_id,
                 video={"running": True, "link": started.agent_link.url})


@router.post("/conversations/{conversation_id}/video/end")
def video_end(conversation_id: uuid.UUID, request: Request,
              user: Annotated[DeskUser, Depends(current_user)],
              session: WriteSession) -> Response:
    end_video(session, user.workspace_id, conversation_id, user.actor, agent_name=user.name)
    return _pane(request, session, user, conversation_id)


TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
TEMPLATE_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})?")
MAX_TEMPLATE_PARAMETERS = 20


def closed_window_options(form: Any) -> dict[str, Any]:
    """The composer's ways through a closed messaging window: the human-agent tag
    (Messenger, Instagram; up to 7 days after the customer's last message) and an approved
    WhatsApp template (its name, language and body parameters, one per line). The channel
    adapter decides whether the message may go; this only checks the form's shape."""
    options: dict[str, Any] = {}
    tag = form_value(form, "tag")
    if tag:
        if tag != "HUMAN_AGENT":
            raise ValidationFailed("the only tag the desktop sends is HUMAN_AGENT",
                                   code="unknown_tag", details={"field": "tag"})
        options["tag"] = "HUMAN_AGENT"
    name = form_value(form, "wa_template")
    if name:
        language = form_value(form, "wa_language") or "en_US"
        if not TEMPLATE_NAME.fullmatch(name):
            raise ValidationFailed("a template name is lowercase letters, digits and _",
                                   code="bad_template", details={"field": "wa_template"})
        if not TEMPLATE_LANGUAGE.fullmatch(language):
            raise ValidationFailed("a template language is a code such as en_US or es",
                                   code="bad_template", details={"field": "wa_language"})
        params = [p.strip() for p in form_value(form, "wa_params").splitlines() if p.strip()]
        if len(params) > MAX_TEMPLATE_PARAMETERS or any(len(p) > 1024 for p in params):
            raise ValidationFailed(f"at most {MAX_TEMPLATE_PARAMETERS} parameters of 1,024 "
                                   "characters", code="bad_template",
                                   details={"field": "wa_params"})
        template: dict[str, Any] = {"name": name, "language": language}
        if params:
            template["components"] = [{"type": "body", "parameters": [
                {"type": "text", "text": p} for p in params]}]
        options["template"] = template
    return options


def _conv(session: Session, user: DeskUser, conversation_id: uuid.UUID) -> Any:
    return service.access_conversation(session, user.workspace_id, conversation_id)


@router.post("/conversations/{conversation_id}/status")
def set_status(conversation_id: uuid.UUID, request: Request, form: PostedForm,
               user: Annotated[DeskUser, Depends(current_user)],
               session: WriteSession) -> Response:
    status = form_value(form, "status")
    until = None
    if status == "snoozed":
        preset = form_value(form, "snooze")
        if preset in SNOOZES:
            until = utcnow() + SNOOZES[preset]
        else:
            try:
                until = datetime.fromisoformat(form_value(form, "until")).replace(tzinfo=UTC)
            except ValueError:
                raise ValidationFailed("choose when the snooze ends",
                                       code="bad_snooze") from None
            if until <= utcnow():
                raise ValidationFailed("a snooze must end in the future", code="bad_snooze")
    if status == "resolved":
        # Resolving a hopped conversation also drafts its public follow-up (issue 5).
        hop_flow.resolve(session, user.workspace_id, conversation_id, user.actor)
    else:
        service.set_status(session, _conv(session, user, conversation_id), status, user.actor,
                           snooze_until=until)
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/assign")
def assign(conversation_id: uuid.UUID, request: Request, form: PostedForm,
           user: Annotated[DeskUser, Depends(current_user)],
           session: WriteSession) -> Response:
    raw = form_value(form, "agent_id")
    conv = _conv(session, user, conversation_id)
    if raw == "me":
        agent_id: uuid.UUID | None = user.agent_id
    elif raw in ("", "none"):
        agent_id = None
    else:
        agent_id = _parse_uuid(raw, "agent")
        from threadline.analytics.timeline import workspace_agents

        if agent_id not in workspace_agents(session, user.workspace_id):
            raise ValidationFailed("choose an agent of this workspace", code="unknown_agent")
    team_raw = form_value(form, "team_id")
    team_id = _parse_uuid(team_raw, "team") if team_raw else None
    service.assign(session, conv, agent_id, user.actor, team_id=team_id)
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/labels")
def labels(conversation_id: uuid.UUID, request: Request, form: PostedForm,
           user: Annotated[DeskUser, Depends(current_user)],
           session: WriteSession) -> Response:
    values = [v.strip() for v in form_value(form, "labels").split(",") if v.strip()]
    if any(len(v) > 64 for v in values) or len(values) > 30:
        raise ValidationFailed("at most 30 labels of at most 64 characters")
    service.set_labels(session, _conv(session, user, conversation_id), values, user.actor)
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/triage")
def triage(conversation_id: uuid.UUID, request: Request, form: PostedForm,
           user: Annotated[DeskUser, Depends(current_user)],
           session: WriteSession) -> Response:
    changes: dict[str, Any] = {}
    category = form_value(form, "category")
    if category:
        if category not in CATEGORIES:
            raise ValidationFailed(f"category is one of {', '.join(CATEGORIES)}")
        changes["category"] = category
    sentiment = form_value(form, "sentiment")
    if sentiment:
        if sentiment not in SENTIMENTS:
            raise ValidationFailed(f"sentiment is one of {', '.join(SENTIMENTS)}")
        changes["sentiment"] = sentiment
    priority = form_value(form, "priority")
    if priority:
        changes["priority"] = check_priority(priority)  # 1 (P1) .. 4, a 422 otherwise
    if changes:
        service.set_triage_fields(session, _conv(session, user, conversation_id), changes,
                                  user.actor)
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/split")
def split(conversation_id: uuid.UUID, request: Request, form: PostedForm,
          user: Annotated[DeskUser, Depends(current_user)],
          session: WriteSession) -> Response:
    ids = [_parse_uuid(str(v), "message") for v in form.getlist("message_ids")]
    new = service.split_conversation(session, _conv(session, user, conversation_id), ids,
                                     user.actor)
    return _pane(request, session, user, new.id)


@router.post("/conversations/{conversation_id}/merge")
def merge(conversation_id: uuid.UUID, request: Request, form: PostedForm,
          user: Annotated[DeskUser, Depends(current_user)],
          session: WriteSession) -> Response:
    other = _parse_uuid(form_value(form, "other_id"), "conversation")
    target = _conv(session, user, conversation_id)
    source = _conv(session, user, other)
    service.merge_conversations(session, source, target, user.actor)
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/messages/{message_id}/hide")
def hide(conversation_id: uuid.UUID, message_id: uuid.UUID, request: Request,
         user: Annotated[DeskUser, Depends(current_user)], session: WriteSession) -> Response:
    """Hide a customer's public comment (Facebook, Instagram): queued for the worker; the
    pane shows it pending, then refreshes when the provider has done it."""
    return _moderate(request, session, user, conversation_id, message_id, "hide")


@router.post("/conversations/{conversation_id}/messages/{message_id}/unhide")
def unhide(conversation_id: uuid.UUID, message_id: uuid.UUID, request: Request,
           user: Annotated[DeskUser, Depends(current_user)], session: WriteSession) -> Response:
    """Show a hidden comment again."""
    return _moderate(request, session, user, conversation_id, message_id, "unhide")


def _moderate(request: Request, session: Session, user: DeskUser, conversation_id: uuid.UUID,
              message_id: uuid.UUID, action: str) -> Response:
    _conv(session, user, conversation_id)
    request_action(session, user.workspace_id, conversation_id, message_id, action, user.actor)
    return _pane(request, session, user, conversation_id)


def _deletable_message(session: Session, user: DeskUser, conversation_id: uuid.UUID,
                       message_id: uuid.UUID) -> Message:
    _conv(session, user, conversation_id)
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != user.workspace_id or (
            message.conversation_id != conversation_id):
        raise NotFound("message not found")
    return message


@router.get("/conversations/{conversation_id}/messages/{message_id}/delete")
def delete_confirm(conversation_id: uuid.UUID, message_id: uuid.UUID, request: Request,
                   user: Annotated[DeskUser, Depends(current_user)],
                   session: ReadSession) -> Response:
    """The confirmation step of a delete, in place of the message's Delete button: what goes,
    why (a reason), and the button that does it. Any other open confirmation closes."""
    message = _deletable_message(session, user, conversation_id, message_id)
    check_delete(message, user.role)
    others = deletable_messages(session, conversation_id, user.role, besides=message_id)
    return render(request, "partials/delete_confirm.html",
                  {"conv": {"id": conversation_id}, "m": message, "others": others,
                   "error": None, "note": ""})


@router.post("/conversations/{conversation_id}/messages/{message_id}/delete")
def delete(conversation_id: uuid.UUID, message_id: uuid.UUID, request: Request,
           form: PostedForm, user: Annotated[DeskUser, Depends(current_user)],
           session: WriteSession) -> Response:
    """Delete a public message on its channel once confirmed (`confirm=delete`, a reason):
    queued for the worker; the message shows "deleting", then "deleted" live."""
    _deletable_message(session, user, conversation_id, message_id)
    if form_value(form, "confirm") != "delete":
        raise ValidationFailed("confirm the delete first (the message's Delete button asks)",
                               code="confirmation_required", details={"field": "confirm"})
    request_delete(session, user.workspace_id, conversation_id, message_id, user.actor,
                   user.role, Deletion(form_value(form, "reason"), form_value(form, "note")))
    return _pane(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/messages/{message_id}/reveal")
def reveal(conversation_id: uuid.UUID, message_id: uuid.UUID,
           user: Annotated[DeskUser, Depends(current_user)],
           session: WriteSession) -> Response:
    """Personal data posted in public is masked by default; showing it is audited."""
    _conv(session, user, conversation_id)
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        raise NotFound("message not found")
    audit(session, user.workspace_id, "message.revealed", "message", message.id,
          actor_type=user.actor.type, actor_id=user.actor.id)
    return HTMLResponse(escape(message.text or ""))
