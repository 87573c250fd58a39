"""Merging customers moves identities, consents and conversations, records exactly what
moved, and can be undone. Nothing is destroyed by a merge."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.contacts.models import (
    Consent,
    Customer,
    CustomerMerge,
    Identity,
    MergeSuggestion,
)
from threadline.contacts.service import access_customer
from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, publish

# What higher layers keep per customer (CRM links) follows a merge in its transaction.
MergeHook = Callable[[Session, CustomerMerge], None]
_merge_hooks: dict[str, MergeHook] = {}


def on_customer_merge(name: str) -> Callable[[MergeHook], MergeHook]:
    def register(fn: MergeHook) -> MergeHook:
        _merge_hooks[name] = fn
        return fn

    return register


def merge_customers(session: Session, workspace_id: uuid.UUID, source_id: uuid.UUID,
                    target_id: uuid.UUID, actor: Actor) -> CustomerMerge:
    if source_id == target_id:
        raise ValidationFailed("cannot merge a customer into itself")
    source = access_customer(session, workspace_id, source_id)
    target = access_customer(session, workspace_id, target_id)
    if source.merged_into_id or target.merged_into_id:
        raise ValidationFailed("customer already merged", code="customer_merged")
    identity_ids = list(session.scalars(select(Identity.id).where(
        Identity.customer_id == source.id)))
    consent_ids = list(session.scalars(select(Consent.id).where(
        Consent.customer_id == source.id)))
    conversation_ids = list(session.scalars(select(Conversation.id).where(
        Conversation.customer_id == source.id)))
    for model, ids in ((Identity, identity_ids), (Consent, consent_ids),
                       (Conversation, conversation_ids)):
        if ids:
            session.execute(update(model).where(model.id.in_(ids))  # type: ignore[attr-defined]
                            .values(customer_id=target.id))
    source.merged_into_id = target.id
    for field in ("name", "language", "timezone", "preferred_channel"):
        if getattr(target, field) is None and getattr(source, field) is not None:
            setattr(target, field, getattr(source, field))
    merge = CustomerMerge(
        id=new_id(), workspace_id=workspace_id, source_id=source.id, target_id=target.id,
        actor_id=actor.id,
        moved={"identities": [str(i) for i in identity_ids],
               "consents": [str(i) for i in consent_ids],
               "conversations": [str(i) for i in conversation_ids]})
    session.add(merge)
    session.execute(update(MergeSuggestion).where(
        MergeSuggestion.workspace_id == workspace_id,
        MergeSuggestion.customer_a_id.in_([source.id, target.id]),
        MergeSuggestion.customer_b_id.in_([source.id, target.id])).values(status="merged"))
    session.flush()
    for hook in _merge_hooks.values():
        hook(session, merge)
    audit(session, workspace_id, "customer.merged", "customer", target.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"source": str(source.id), "merge_id": str(merge.id), **merge.moved})
    publish(session, workspace_id, Live.CUSTOMER_MERGED,
            {"customer_id": str(target.id), "source_id": str(source.id)})
    return merge


def undo_merge(session: Session, workspace_id: uuid.UUID, merge_id: uuid.UUID,
               actor: Actor) -> Customer:
    merge = session.get(CustomerMerge, merge_id)
    if merge is None or merge.workspace_id != workspace_id:
        raise NotFound("merge not found")
    if merge.undone_at is not None:
        raise ValidationFailed("this merge was already undone", code="merge_undone")
    source = access_customer(session, workspace_id, merge.source_id)
    for model, key in ((Identity, "identities"), (Consent, "consents"),
                       (Conversation, "conversations")):
        ids = [uuid.UUID(i) for i in merge.moved.get(key, [])]
        if ids:
            # Only what still sits on the target moves back (later changes are respected).
            session.execute(update(model).where(  # type: ignore[attr-defined]
                model.id.in_(ids), model.customer_id == merge.target_id)  # type: ignore[attr-defined]
                .values(customer_id=source.id))
    source.merged_into_id = None
    merge.undone_at = utcnow()
    audit(session, workspace_id, "customer.merge_undone", "customer", source.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"merge_id": str(merge.id), "target": str(merge.target_id)})
    publish(session, workspace_id, Live.CUSTOMER_UNMERGED,
            {"customer_id": str(source.id), "target_id": str(merge.target_id)})
    return source
