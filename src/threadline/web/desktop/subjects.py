"""Data-subject requests on the customer page (admins): download the customer's archive,
and erase him after a confirmation step (type his name or ERASE)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from threadline.contacts.service import access_customer
from threadline.subjects.service import (
    CONFIRM_WORD,
    check_confirmation,
    erase_customer,
    erased_at,
    export_customer,
)
from threadline.subjects.subject import collect
from threadline.web.api.subjects import archive_response
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Admin,
    DesktopRoute,
    ReadSession,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)


@router.post("/customers/{customer_id}/export")
def export(customer_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    archive = export_customer(session, user.workspace_id, customer_id, user.actor)
    return archive_response(archive, customer_id)


@router.get("/customers/{customer_id}/erase")
def confirm_page(customer_id: uuid.UUID, request: Request, user: Admin,
                 session: ReadSession) -> Response:
    subject = collect(session, user.workspace_id, customer_id)
    customer = access_customer(session, user.workspace_id, customer_id)
    return render(request, "erase.html", {
        "customer": customer, "subject": subject, "confirm_word": CONFIRM_WORD,
        "erased_at": erased_at(session, user.workspace_id, customer_id)})


@router.post("/customers/{customer_id}/erase")
def erase(customer_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
          session: WriteSession) -> Response:
    customer = access_customer(session, user.workspace_id, customer_id)
    check_confirmation(customer, form_value(form, "confirm"))
    report = erase_customer(session, user.workspace_id, customer_id, user.actor)
    return RedirectResponse(f"/customers/{report.customer_id}?notice=erased", status_code=303)
