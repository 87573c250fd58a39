"""The customer panel (mini-CRM): identities with evidence, consents, editable details,
every conversation on every channel, merge suggestions, merge and undo."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.analytics.timeline import as_dict, customer_file
from threadline.contacts import service
from threadline.contacts.models import Consent, Evidence, Identity
from threadline.conversations.customer_merge import merge_customers, undo_merge
from threadline.conversations.service import access_conversation
from threadline.errors import NotFound, ValidationFailed, invalid_input
from threadline.hops.flow.contact import send_verification
from threadline.hops.flow.schemas import ConsentIn
from threadline.jobs.runtime import Runtime
from threadline.subjects.service import erased_at
from threadline.web.deps import PostedForm, get_runtime
from threadline.web.desktop.render import CHANNEL_LABELS, render
from threadline.web.desktop.security import (
    DesktopRoute,
    DeskUser,
    ReadSession,
    WriteSession,
    current_user,
    form_value,
)
from threadline.web.hops.api import link_base

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
def update(customer_id: uuid.UUID, request: Request, form: PostedForm,
           user: Annotated[DeskUser, Depends(current_user)],
           session: WriteSession) -> Response:
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
def add_identity(customer_id: uuid.UUID, request: Request, form: PostedForm,
                 user: Annotated[DeskUser, Depends(current_user)],
                 session: WriteSession) -> Response:
    kind, address = form_value(form, "kind"), form_value(form, "address")
    if kind not in IDENTITY_KINDS or not address or len(address) > 320:
        raise ValidationFailed("choose a kind and give an address", code="bad_identity")
    service.access_customer(session, user.workspace_id, customer_id)
    service.link_identity(session, user.workspace_id, customer_id, kind=kind, address=address,
                          evidence=Evidence.AGENT, actor_type="agent",
                          actor_id=str(user.agent_id))
    return _back(customer_id, "identity-added")


@router.post("/customers/{customer_id}/consents")
def add_consent(customer_id: uuid.UUID, request: Request, form: PostedForm,
                user: Annotated[DeskUser, Depends(current_user)],
                session: WriteSession) -> Response:
    """Consent the customer gave outside a form (on a call, in a DM), with the wording he
    was shown; the same checks as `POST /api/v1/customers/{id}/consents`."""
    try:
        body = ConsentIn.model_validate({k: form_value(form, k) for k in (
            "kind", "address", "purpose", "method", "wording")})
    except ValidationError as exc:
        raise invalid_input(exc, "bad_consent", what="consent") from None
    customer = service.access_customer(session, user.workspace_id, customer_id)
    service.record_consent(session, user.workspace_id, customer.id, kind=body.kind,
                           address=body.address, purpose=body.purpose, method=body.method,
                           wording=body.wording, source=f"agent:{user.agent_id}")
    return _back(customer_id, "consent-added")


@router.post("/customers/{customer_id}/consents/{consent_id}/revoke")
def revoke_consent(customer_id: uuid.UUID, consent_id: uuid.UUID,
                   user: Annotated[DeskUser, Depends(current_user)],
                   session: WriteSession) -> Response:
    customer = service.access_customer(session, user.workspace_id, customer_id)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.customer_id != customer.id:
        raise NotFound("consent not found", code="consent_not_found")
    if consent.revoked_at is None:
        service.revoke_consent(session, consent)
    return _back(customer_id, "consent-revoked")


@router.post("/customers/{customer_id}/identities/{identity_id}/verify")
def verify_identity(customer_id: uuid.UUID, identity_id: uuid.UUID, request: Request,
                    form: PostedForm,
                    user: Annotated[DeskUser, Depends(current_user)],
                    session: WriteSession,
                    runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """Send a verification link over the coordinate, in one of the customer's conversations;
    opening it marks the identity verified (needs the customer's consent or his own word)."""
    customer = service.access_customer(session, user.workspace_id, customer_id)
    identity = session.get(Identity, identity_id)
    if identity is None or identity.customer_id != customer.id:
        raise NotFound("identity not found", code="identity_not_found")
    conversation_id = _uuid(form_value(form, "conversation_id"), "conversation")
    conv = access_conversation(session, user.workspace_id, conversation_id)
    send_verification(session, user.workspace_id, identity, conv.id,
                      link_base(request, runtime), user.actor)
    return _back(customer_id, "verification-sent")


@router.post("/customers/{customer_id}/merge")
def merge(customer_id: uuid.UUID, request: Request, form: PostedForm,
          user: Annotated[DeskUser, Depends(current_user)],
          session: WriteSession) -> Response:
    """Merge the other customer into this one."""
    other = _uuid(form_value(form, "other_id"), "customer")
    merge_customers(session, user.workspace_id, other, customer_id, user.actor)
    return _back(customer_id, "merged")


@router.post("/customers/merges/{merge_id}/undo")
def undo(merge_id: uuid.UUID, request: Request,
         user: Annotated[DeskUser, Depends(current_user)],
         session: WriteSession) -> Response:
    customer = undo_merge(session, user.workspace_id, merge_id, user.actor)
    return _back(customer.id, "merge-undone")

