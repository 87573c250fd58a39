"""The inbox and the conversation view (pages and the fragments HTMX swaps in)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from threadline.analytics.timeline import ConversationStory, conversation_story, social_history
from threadline.channels.base import ChannelError
from threadline.channels.registry import get_adapter
from threadline.conversations.inbox import InboxFilter, counts, facets, list_inbox, neighbours
from threadline.conversations.queue import check_priority
from threadline.conversations.service import access_conversation
from threadline.db.base import utcnow
from threadline.errors import ValidationFailed
from threadline.hops.flow.video import running_call
from threadline.hops.records import details
from threadline.kpis.timeline import Mark
from threadline.kpis.timeline import marks as kpi_marks
from threadline.web.desktop.approval import composer_visibility
from threadline.web.desktop.hop_panel import hop_panel
from threadline.web.desktop.render import is_htmx, render
from threadline.web.desktop.security import DesktopRoute, DeskUser, ReadSession, current_user
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import channel_kinds, list_teams
from threadline.workspace.templates import list_templates

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)


def timeline_marks(session: Session, story: ConversationStory) -> dict[uuid.UUID, Mark]:
    """Where episodes and channel segments start on the timeline (kpis.timeline)."""
    return kpi_marks(session, story.conversation.id,
                     [e.message for e in story.entries if e.message is not None])
FILTER_KEYS = ("view", "channel", "visibility", "category", "priority", "assignee", "team",
               "label", "sla", "relevance", "sort")


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{what} is not a valid id", code="bad_id") from None


def parse_filter(params: Any, user: DeskUser) -> tuple[InboxFilter, dict[str, str]]:
    raw = {k: str(params.get(k) or "").strip() for k in FILTER_KEYS}
    raw = {k: v for k, v in raw.items() if v}
    assignee = raw.get("assignee", "")
    priority = raw.get("priority")
    flt = InboxFilter(
        view=raw.get("view", "active"), channel=raw.get("channel"),
        visibility=raw.get("visibility"), category=raw.get("category"),
        priority=check_priority(priority) if priority is not None else None,
        assignee_id=user.agent_id if assignee == "me" else (
            _uuid(assignee, "assignee") if assignee and assignee != "none" else None),
        unassigned=assignee == "none",
        team_id=_uuid(raw["team"], "team") if raw.get("team") else None,
        label=raw.get("label"), sla=raw.get("sla"), relevance=raw.get("relevance"),
        sort=raw.get("sort", "queue"))
    return flt, raw


# The inbox's tabs: the queue's status views, then the views never in the queue (awareness
# mentions, competitor mentions, chatter: docs/queues.md). The page shows them; a refreshed
# list brings their counts along.
QUEUE_TABS = (("active", "Open"), ("snoozed", "Snoozed"), ("resolved", "Resolved"),
              ("all", "All"))
SIDE_TABS = (("mentions", "Mentions"), ("competitors", "Competitors"), ("chatter", "Chatter"))


def _list_context(session: Session, user: DeskUser, params: Any,
                  cursor: str | None = None) -> dict[str, Any]:
    flt, raw = parse_filter(params, user)
    rows, nxt = list_inbox(session, user.workspace_id, flt, cursor=cursor)
    query = urlencode(raw)
    return {"rows": rows, "next": nxt, "filters": raw, "query": query,
            "queue_tabs": QUEUE_TABS, "side_tabs": SIDE_TABS,
            "more_url": f"/inbox/list?{query}&cursor={nxt}" if nxt else None,
            "append": cursor is not None}


def _shell_context(session: Session, user: DeskUser, params: Any) -> dict[str, Any]:
    ctx = _list_context(session, user, params)
    ctx.update(counts=counts(session, user.workspace_id, user.agent_id),
               facets=facets(session, user.workspace_id),
               teams=list_teams(session, user.workspace_id),
               channel_kinds=channel_kinds(session, user.workspace_id))
    return ctx


@router.get("/inbox")
def inbox(request: Request, user: Annotated[DeskUser, Depends(current_user)],
          session: ReadSession) -> Response:
    ctx = _shell_context(session, user, request.query_params)
    return render(request, "inbox.html", ctx)


@router.get("/inbox/list")
def inbox_list(request: Request, user: Annotated[DeskUser, Depends(current_user)],
               session: ReadSession) -> Response:
    cursor = request.query_params.get("cursor") or None
    ctx = _list_context(session, user, request.query_params, cursor)
    ctx["counts"] = counts(session, user.workspace_id, user.agent_id)
    ctx["counts_oob"] = cursor is None  # a whole list: the tabs' counts come with it
    ctx["selected"] = request.query_params.get("selected", "")
    return render(request, "partials/inbox_list.html", ctx)


def traits_hint(story: ConversationStory, account: ChannelAccount | None,
                visibility: str) -> dict[str, Any]:
    """What the composer shows about the chosen channel: limits and the messaging window."""
    if account is None:
        return {"account": None, "visibility": visibility}
    try:
        traits = get_adapter(account.kind).traits
    except ChannelError:
        return {"account": account, "visibility": visibility, "unknown": True}
    hint: dict[str, Any] = {"account": account, "visibility": visibility, "traits": traits,
                            "char_limit": traits.char_limit, "window": None,
                            "surface_ok": traits.public if visibility == "public"
                            else traits.private}
    if visibility == "private" and traits.window_hours:
        last = story.last_private_inbound.get(account.id)
        if last is None:
            hint["window"] = {"open": False, "hours": traits.window_hours, "closes": None}
        else:
            closes = last + timedelta(hours=traits.window_hours)
            hint["window"] = {"open": closes > utcnow(), "hours": traits.window_hours,
                              "closes": closes}
    return hint


def _social(session: Session, user: DeskUser, story: ConversationStory) -> list[Any]:
    """Beside a phone call, the caller's recent public posts (`analytics.timeline`)."""
    if not any(e.message is not None and e.message.kind == "call" for e in story.entries):
        return []
    return social_history(session, user.workspace_id, story.conversation.customer_id)


def conversation_context(session: Session, user: DeskUser, conversation_id: uuid.UUID,
                         params: Any) -> dict[str, Any]:
    story = conversation_story(session, user.workspace_id, conversation_id)
    conv = story.conversation
    accounts = {a.id: a for a in story.accounts}
    account = accounts.get(story.default_account_id) if story.default_account_id else None
    if account is None and story.accounts:
        account = story.accounts[0]
    _, raw = parse_filter(params, user)
    templates = list_templates(session, user.workspace_id, approved_only=True)
    visibility = composer_visibility(session, user.workspace_id, story)  # public-answer topics
    return {"story": story, "conv": conv, "customer": story.customer,
            "composer": {"account": account, "visibility": visibility,
                         "text": "", "error": None, "kind": "message"},
            "hint": traits_hint(story, account, visibility),
            "templates": templates, "agents": list(story.agents.values()),
            "hop": hop_panel(session, conv), "kpi_marks": timeline_marks(session, story),
            "social": _social(session, user, story),
            "video": {"running": running_call(session, conv.id) is not None, "link": None},
            "details": details.as_rows(details.requests_of(session, conv.id)),
            "detail_fields": [(name, f.label) for name, f in details.FIELDS.items()],
            "filters": raw, "query": urlencode(raw)}


@router.get("/conversations/{conversation_id}")
def conversation(conversation_id: uuid.UUID, request: Request,
                 user: Annotated[DeskUser, Depends(current_user)],
                 session: ReadSession) -> Response:
    ctx = conversation_context(session, user, conversation_id, request.query_params)
    if is_htmx(request) and request.headers.get("hx-target") == "conv-pane":
        return render(request, "partials/conversation.html", ctx)
    ctx.update(_shell_context(session, user, request.query_params))
    ctx["selected"] = str(conversation_id)
    return render(request, "inbox.html", ctx)


@router.get("/conversations/{conversation_id}/next")
def next_conversation(conversation_id: uuid.UUID, request: Request,
                      user: Annotated[DeskUser, Depends(current_user)],
                      session: ReadSession) -> Response:
    """j/k past the loaded rows: the next (step=1) or previous (step=-1) conversation in the
    inbox order."""
    conv = access_conversation(session, user.workspace_id, conversation_id)
    flt, raw = parse_filter(request.query_params, user)
    previous, following = neighbours(session, user.workspace_id, conv, flt)
    target = previous if request.query_params.get("step") == "-1" else following
    query = f"?{urlencode(raw)}" if raw else ""
    return RedirectResponse(f"/conversations/{target or conv.id}{query}", status_code=303)


@router.get("/conversations/{conversation_id}/timeline")
def timeline(conversation_id: uuid.UUID, request: Request,
             user: Annotated[DeskUser, Depends(current_user)],
             session: ReadSession) -> Response:
    story = conversation_story(session, user.workspace_id, conversation_id)
    return render(request, "partials/timeline.html", {"story": story, "conv": story.conversation,
                                                      "hop": hop_panel(session,
                                                                       story.conversation),
                                                      "kpi_marks": timeline_marks(session,
                                                                                  story)})


@router.get("/conversations/{conversation_id}/hint")
def composer_hint(conversation_id: uuid.UUID, request: Request,
                  user: Annotated[DeskUser, Depends(current_user)],
                  session: ReadSession) -> Response:
    story = conversation_story(session, user.workspace_id, conversation_id)
    account = None
    raw = request.query_params.get("account_id") or ""
    if raw:
        account = next((a for a in story.accounts if str(a.id) == raw), None)
    visibility = request.query_params.get("visibility") or "public"
    if request.query_params.get("kind") == "note":
        return render(request, "partials/hint.html", {"hint": {"note": True}})
    return render(request, "partials/hint.html",
                  {"hint": traits_hint(story, account, visibility)})


@router.get("/conversations/{conversation_id}/templates/{template_id}")
def insert_template(conversation_id: uuid.UUID, template_id: uuid.UUID, request: Request,
                    user: Annotated[DeskUser, Depends(current_user)],
                    session: ReadSession) -> Response:
    from threadline.workspace.templates import access_template
    from threadline.workspace.templates import render as fill

    conv = access_conversation(session, user.workspace_id, conversation_id)
    story = conversation_story(session, user.workspace_id, conv.id)
    template = access_template(session, user.workspace_id, template_id)
    customer = story.customer
    handle = next((i.handle for i in story.identities if i.handle), None)
    first = (customer.name or "").split()[0] if customer and customer.name else None
    values = {"customer_name": customer.name if customer else None, "first_name": first,
              "handle": handle, "agent_name": user.name, "agent_first_name":
              user.name.split()[0] if user.name else None,
              "conversation_id": str(conv.id)[:8]}
    return Response(fill(template.body, values), media_type="text/plain; charset=utf-8")
