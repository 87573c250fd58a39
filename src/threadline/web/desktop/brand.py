"""Settings: the brand's own contact details (admins), the only emails, phones and URLs a public
reply may give. The list is shown on the settings page (partials/brand_contacts.html)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from threadline.contacts.brand import MAX_CONTACTS, MAX_LENGTH, InvalidBrandContact
from threadline.contacts.brand import set_brand_contacts as save
from threadline.web.deps import PostedForm
from threadline.web.desktop.security import Admin, DesktopRoute, WriteSession, form_value

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)


@router.post("/settings/brand-contacts")
def set_brand_contacts(request: Request, form: PostedForm, user: Admin,
                       session: WriteSession) -> Response:
    raw = form_value(form, "contacts")
    if len(raw) > MAX_CONTACTS * (MAX_LENGTH + 2):
        raise InvalidBrandContact(f"at most {MAX_CONTACTS} brand contacts")
    contacts = [line.strip() for line in raw.splitlines() if line.strip()]
    save(session, user.workspace_id, contacts, actor_type=user.actor.type,
         actor_id=user.actor.id)
    return RedirectResponse("/settings?notice=brand-contacts-saved", status_code=303)
