"""REST: customers, identities, consent, merge and undo."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from threadline.contacts import service
from threadline.contacts.schemas import (
    ConsentOut,
    CustomerMergeIn,
    CustomerOut,
    CustomerPatch,
    IdentityIn,
    IdentityOut,
    MergeOut,
    SuggestionOut,
)
from threadline.conversations.customer_merge import merge_customers, undo_merge
from threadline.conversations.inbox import InboxFilter
from threadline.conversations.schemas import ConversationOut
from threadline.conversations.service import list_conversations
from threadline.errors import Conflict, NotFound
from threadline.hops.flow.marks import customer_takers
from threadline.hops.flow.schemas import TakerOut
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    current_principal,
)

router = APIRouter(prefix="/customers", tags=["customers"])


class CustomerDetail(CustomerOut):
    identities: list[IdentityOut]
    consents: list[ConsentOut]
    conversations: list[ConversationOut]
    suggestions: list[SuggestionOut]
    takers: list[TakerOut]  # who took a public link as (or claiming to be) this customer


def _detail(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID) -> dict[str, Any]:
    customer = service.access_customer(session, workspace_id, customer_id)
    every = InboxFilter(view="all", customer_id=customer.id, relevance="all", sort="recent")
    convs, _ = list_conversations(session, workspace_id, every, limit=200)
    data = CustomerOut.model_validate(customer).model_dump()
    data.update(
        identities=[IdentityOut.model_validate(i) for i in service.identities_of(session,
                                                                                 customer.id)],
        consents=[ConsentOut.model_validate(c) for c in service.consents_of(session,
                                                                            customer.id)],
        conversations=[ConversationOut.model_validate(c) for c in convs],
        suggestions=[SuggestionOut.model_validate(s)
                     for s in service.list_suggestions(session, workspace_id, customer.id)],
        takers=customer_takers(session, customer.id))
    return data


@router.get("/{customer_id}", response_model=CustomerDetail, responses=errors(NotFound))
def get_customer(customer_id: uuid.UUID,
                 principal: Annotated[Principal, Depends(current_principal)],
                 session: ReadSession) -> CustomerDetail:
    return CustomerDetail.model_validate(_detail(session, principal.workspace_id, customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut, responses=errors(NotFound))
def patch_customer(customer_id: uuid.UUID, body: CustomerPatch,
                   principal: Annotated[Principal, Depends(current_principal)],
                   session: WriteSession) -> CustomerOut:
    customer = service.access_customer(session, principal.workspace_id, customer_id)
    changes = body.model_dump(exclude_unset=True)
    service.update_customer(session, customer, changes, actor_type=principal.actor.type,
                            actor_id=principal.actor.id)
    return CustomerOut.model_validate(customer)


@router.post("/{customer_id}/identities", response_model=IdentityOut, status_code=201,
             responses=errors(NotFound, Conflict))
def add_identity(customer_id: uuid.UUID, body: IdentityIn,
                 principal: Annotated[Principal, Depends(current_principal)],
                 session: WriteSession) -> IdentityOut:
    service.access_customer(session, principal.workspace_id, customer_id)
    identity = service.link_identity(session, principal.workspace_id, customer_id,
                                     kind=body.kind, address=body.address,
                                     evidence=body.evidence, actor_type=principal.actor.type,
                                     actor_id=principal.actor.id)
    return IdentityOut.model_validate(identity)


@router.post("/{customer_id}/merge", response_model=MergeOut, status_code=201,
             responses=errors(NotFound))
def merge(customer_id: uuid.UUID, body: CustomerMergeIn,
          principal: Annotated[Principal, Depends(current_principal)],
          session: WriteSession) -> MergeOut:
    """Merge the other customer into this one."""
    record = merge_customers(session, principal.workspace_id, body.other_id, customer_id,
                             principal.actor)
    return MergeOut.model_validate(record)


@router.post("/merges/{merge_id}/undo", response_model=CustomerOut,
             responses=errors(NotFound))
def undo(merge_id: uuid.UUID, principal: Annotated[Principal, Depends(current_principal)],
         session: WriteSession) -> CustomerOut:
    return CustomerOut.model_validate(undo_merge(session, principal.workspace_id, merge_id,
                                                 principal.actor))
