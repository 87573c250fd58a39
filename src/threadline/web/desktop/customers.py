"""The customer panel (mini-CRM): identities with evidence, consents, editable details,
every conversation on every channel, merge suggestions, merge and undo."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from threadline.analytics.timeline import as_dict, customer_file
from threadline.contacts import service
from threadline.contacts.models import Evidence
from threadline.conversations.customer_merge import merge_customers, undo_merge
from threadline.errors import ValidationFailed
from threadline.subjects.service import erased_at
from threadline.web.desktop.render import CHANNEL_LABELS, render
from threadline.web.desktop.security import (
    DesktopRoute,
    DeskUser,
    ReadSession,
    WriteSession,
    current_user,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
IDENTITY_KINDS = ("email", "phone", "x", "facebook", "instagram", "telegram", "whatsapp",
                  "webchat")


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"choose a valid {what}", code="bad_id") from None


@router.get("/customers/{customer_id}")
def customer_page(customer_id: uuid.UUID, request: Request,
                  user: Annotated[DeskUser, Depends(current_user)],
                  session: ReadSession) -> Response:
    cf = customer_file(session, user.workspace_id, customer_id)
    fields = as_dict(cf.customer.custom_fields)
    return render(request, "customer.html", {
        "cf": cf, "customer": cf.customer,
        "custom_fields_text": "\n".join(f"{k}: {v}" for k, v in fields.items()),
        "identity_kinds": IDENTITY_KINDS, "channel_choices": CHANNEL_LABELS,
        "notice": request.query_params.get("notice"),
        "erased_at": erased_at(session, user.workspace_id, customer_id)})


def _parse_fields(text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValidationFailed("write custom fields as 'name: value', one per line",
                                   code="bad_custom_fields")
        fields[key.strip()[:64]] = value.strip()[:1000]
    if len(fields) > 50:
        raise ValidationFailed("at most 50 custom fields")
    return fields


def _back(customer_id: uuid.UUID, notice: str | None = None) -> Response:
    suffix = f"?notice={notice}" if notice else ""
    return RedirectResponse(f"/customers/{customer_id}{suffix}", status_code=303)


@router.post("/customers/{customer_id}")
async def update(customer_id: uuid.UUID, request: Request,
                 user: Annotated[DeskUser, Depends(current_user)],
                 session: WriteSession) -> Response:
    form = await request.form()
    customer = service.access_customer(session, user.workspace_id, customer_id)
    preferred = form_value(form, "preferred_channel") or None
    if preferred is not None and preferred not in CHANNEL_LABELS:
        raise ValidationFailed("choose a known channel", code="bad_channel")
    name = form_value(form, "name")
    notes = form_value(form, "notes")
    if len(name) > 255 or len(notes) > 20_000:
        raise ValidationFailed("the name or the notes are too long")
    changes = {"name": name or None, "notes": notes or None, "preferred_channel": preferred,
               "language": form_value(form, "language")[:16] or None,
               "custom_fields": _parse_fields(str(form.get("custom_fields") or ""))}
    service.update_customer(session, customer, changes, actor_type="agent",
                            actor_id=str(user.agent_id))
    return _back(customer_id, "saved")


@router.post("/customers/{customer_id}/identities")
async def add_identity(customer_id: uuid.UUID, request: Request,
                       user: Annotated[DeskUser, Depends(current_user)],
                       session: WriteSession) -> Response:
    form = await request.form()
    kind, address = form_value(form, "kind"), form_value(form, "address")
    if kind not in IDENTITY_KINDS or not address or len(address) > 320:
        raise ValidationFailed("choose a kind and give an address", code="bad_identity")
    service.access_customer(session, user.workspace_id, customer_id)
    service.link_identity(session, user.workspace_id, customer_id, kind=kind, address=address,
                          evidence=Evidence.AGENT, actor_type="agent",
                          actor_id=str(user.agent_id))
    return _back(customer_id, "identity-added")


@router.post("/customers/{customer_id}/merge")
async def merge(customer_id: uuid.UUID, request: Request,
                user: Annotated[DeskUser, Depends(current_user)],
                session: WriteSession) -> Response:
    """Merge the other customer into this one."""
    form = await request.form()
    other = _uuid(form_value(form, "other_id"), "customer")
    merge_customers(session, user.workspace_id, other, customer_id, user.actor)
    return _back(customer_id, "merged")


@router.post("/customers/merges/{merge_id}/undo")
async def undo(merge_id: uuid.UUID, request: Request,
               user: Annotated[DeskUser, Depends(current_user)],
               session: WriteSession) -> Response:
    customer = undo_merge(session, user.workspace_id, merge_id, user.actor)
    return _back(customer.id, "merge-undone")

