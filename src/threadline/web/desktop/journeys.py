"""A customer's journey across all his conversations, and the "Origin" card of a conversation
(where it began off the platform: store, order page, website, a campaign), which any agent
may set."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from threadline.contacts.service import access_customer
from threadline.conversations.service import access_conversation
from threadline.errors import Conflict, ValidationFailed
from threadline.kpis.dashboards.build import step_label
from threadline.kpis.dashboards.journeys import customer_journey
from threadline.kpis.dashboards.origins import CAMPAIGN, ORIGINS, record_origin
from threadline.kpis.models import ConversationFacts
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import TEMPLATES, render
from threadline.web.desktop.security import (
    Anyone,
    DesktopRoute,
    ReadSession,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
TEMPLATES.env.filters.update(step=step_label)


@router.get("/customers/{customer_id}/journey")
def journey_page(customer_id: uuid.UUID, request: Request, user: Anyone,
                 session: ReadSession) -> Response:
    customer = access_customer(session, user.workspace_id, customer_id)
    return render(request, "customer_journey.html", {
        "customer": customer, "stops": customer_journey(session, user.workspace_id,
                                                         customer_id)})


def _card(request: Request, conversation_id: uuid.UUID, origin: str | None, *,
          error: ValidationFailed | Conflict | None = None, saved: bool = False,
          ready: bool = True, status: int = 200) -> Response:
    campaign = origin.removeprefix(CAMPAIGN) if origin and origin.startswith(CAMPAIGN) else ""
    return render(request, "partials/origin_card.html", {
        "conversation_id": conversation_id, "origin": origin, "origins": ORIGINS,
        "campaign": campaign, "error": error, "saved": saved, "ready": ready}, status=status)


@router.get("/conversations/{conversation_id}/origin")
def origin_card(conversation_id: uuid.UUID, request: Request, user: Anyone,
                session: ReadSession) -> Response:
    access_conversation(session, user.workspace_id, conversation_id)
    facts = session.get(ConversationFacts, conversation_id)
    return _card(request, conversation_id, facts.origin_source if facts else None,
                 ready=facts is not None)


@router.post("/conversations/{conversation_id}/origin")
def save_origin(conversation_id: uuid.UUID, request: Request, form: PostedForm, user: Anyone,
                session: WriteSession) -> Response:
    choice = form_value(form, "origin")[:60]
    if choice == "campaign":
        choice = CAMPAIGN + form_value(form, "campaign")[:60]
    try:
        facts = record_origin(session, user.workspace_id, conversation_id, choice, user.actor)
    except (ValidationFailed, Conflict) as exc:
        access_conversation(session, user.workspace_id, conversation_id)
        return _card(request, conversation_id, None, error=exc, status=exc.status)
    return _card(request, conversation_id, facts.origin_source, saved=True)
