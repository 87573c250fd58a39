"""REST: the brand's own contact details, the only emails, phones and URLs a public reply may
give (read by any agent, replaced by admins; validated, normalised and audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from threadline.contacts.brand import MAX_CONTACTS, MAX_LENGTH, brand_contacts, set_brand_contacts
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, WriteSession, admin, current_principal

router = APIRouter(tags=["settings"])


class BrandContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    contacts: list[Annotated[str, Field(max_length=MAX_LENGTH)]] = Field(
        max_length=MAX_CONTACTS)


class BrandContactsOut(BaseModel):
    contacts: list[str]


@router.get("/settings/brand-contacts", response_model=BrandContactsOut, responses=errors())
def get_brand_contacts(principal: Annotated[Principal, Depends(current_principal)],
                       session: ReadSession) -> BrandContactsOut:
    return BrandContactsOut(contacts=brand_contacts(session, principal.workspace_id))


@router.put("/settings/brand-contacts", response_model=BrandContactsOut,
            responses=errors(role=True))
def put_brand_contacts(body: BrandContactsIn, principal: Annotated[Principal, Depends(admin)],
                       session: WriteSession) -> BrandContactsOut:
    contacts = set_brand_contacts(session, principal.workspace_id, list(body.contacts),
                                  actor_type=principal.actor.type, actor_id=principal.actor.id)
    return BrandContactsOut(contacts=contacts)
