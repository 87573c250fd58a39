"""Customers and identities: exact links only; probable duplicates become suggestions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from threadline.contacts.models import (
    Consent,
    Customer,
    Evidence,
    Identity,
    MergeSuggestion,
)
from threadline.contacts.rules import canonical_kind, normalize_address
from threadline.db.base import new_id, utcnow
from threadline.errors import Conflict, NotFound, ValidationFailed
from threadline.events.service import audit


def access_customer(session: Session, workspace_id: uuid.UUID,
                    customer_id: uuid.UUID) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound("customer not found")
    return customer


def find_identity(session: Session, workspace_id: uuid.UUID, kind: str,
                  address: str) -> Identity | None:
    kind = canonical_kind(kind)
    stmt = select(Identity).where(Identity.workspace_id == workspace_id, Identity.kind == kind,
                                  Identity.address == normalize_address(kind, address))
    return session.scalar(stmt)


def create_customer(session: Session, workspace_id: uuid.UUID, *, name: str | None = None,
                    actor_type: str = "system", actor_id: str | None = None) -> Customer:
    customer = Customer(id=new_id(), workspace_id=workspace_id, name=name,
                        custom_fields={}, external_ids={})
    session.add(customer)
    session.flush()
    audit(session, workspace_id, "customer.created", "customer", customer.id,
          actor_type=actor_type, actor_id=actor_id)
    return customer


def get_or_create_identity(session: Session, workspace_id: uuid.UUID, *, kind: str,
                           address: str, handle: str | None = None,
                           display_name: str | None = None,
                           evidence: str = Evidence.PROVIDER) -> Identity:
    existing = find_identity(session, workspace_id, kind, address)
    if existing is not None:
        return existing
    customer = create_customer(session, workspace_id, name=display_name or handle)
    return link_identity(session, workspace_id, customer.id, kind=kind, address=address,
                         handle=handle, display_name=display_name, evidence=evidence)


def link_identity(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID, *,
                  kind: str, address: str, evidence: str, handle: str | None = None,
                  display_name: str | None = None, actor_type: str = "system",
                  actor_id: str | None = None) -> Identity:
    """Link a coordinate to a customer. If another customer holds it, nothing is moved:
    a merge suggestion is made instead (links are never inferred silently)."""
    if evidence not in Evidence.ALL:
        raise ValidationFailed(f"evidence must be one of {', '.join(Evidence.ALL)}")
    kind = canonical_kind(kind)
    address = normalize_address(kind, address)
    existing = find_identity(session, workspace_id, kind, address)
    if existing is not None:
        if existing.customer_id != customer_id:
            suggest_merge(session, workspace_id, customer_id, existing.customer_id,
                          reason=f"same {kind} {address} given for both")
            raise Conflict("this coordinate belongs to another customer; a merge was suggested",
                           code="identity_taken")
        return existing
    now = utcnow()
    identity = Identity(id=new_id(), workspace_id=workspace_id, customer_id=customer_id,
                        kind=kind, address=address, handle=handle, display_name=display_name,
                        evidence=evidence, linked_at=now,
                        verified_at=now if evidence == Evidence.VERIFIED else None)
    session.add(identity)
    session.flush()
    audit(session, workspace_id, "identity.linked", "customer", customer_id,
          actor_type=actor_type, actor_id=actor_id,
          data={"identity_id": str(identity.id), "kind": kind, "evidence": evidence})
    return identity


def mark_verified(session: Session, identity: Identity, *, actor_type: str = "customer") -> None:
    identity.evidence = Evidence.VERIFIED
    identity.verified_at = utcnow()
    audit(session, identity.workspace_id, "identity.verified", "customer", identity.customer_id,
          actor_type=actor_type, data={"identity_id": str(identity.id)})


def suggest_merge(session: Session, workspace_id: uuid.UUID, a: uuid.UUID, b: uuid.UUID, *,
                  reason: str) -> MergeSuggestion | None:
    if a == b:
        return None
    first, second = sorted((a, b), key=str)
    existing = session.scalar(select(MergeSuggestion).where(
        MergeSuggestion.workspace_id == workspace_id, MergeSuggestion.customer_a_id == first,
        MergeSuggestion.customer_b_id == second))
    if existing is not None:
        return existing
    suggestion = MergeSuggestion(id=new_id(), workspace_id=workspace_id,
                                 customer_a_id=first, customer_b_id=second, reason=reason,
                                 status="open")
    session.add(suggestion)
    session.flush()
    audit(session, workspace_id, "customer.merge_suggested", "customer", first,
          data={"other": str(second), "reason": reason})
    return suggestion


def list_suggestions(session: Session, workspace_id: uuid.UUID,
                     customer_id: uuid.UUID) -> list[MergeSuggestion]:
    stmt = select(MergeSuggestion).where(
        MergeSuggestion.workspace_id == workspace_id, MergeSuggestion.status == "open",
        or_(MergeSuggestion.customer_a_id == customer_id,
            MergeSuggestion.customer_b_id == customer_id))
    return list(session.scalars(stmt))


def identities_of(session: Session, customer_id: uuid.UUID) -> list[Identity]:
    stmt = select(Identity).where(Identity.customer_id == customer_id).order_by(
        Identity.linked_at)
    return list(session.scalars(stmt))


def consents_of(session: Session, customer_id: uuid.UUID) -> list[Consent]:
    stmt = select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.granted_at)
    return list(session.scalars(stmt))


def record_consent(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID, *,
                   kind: str, address: str, purpose: str, method: str, wording: str,
                   source: str | None = None, at: datetime | None = None) -> Consent:
    kind = canonical_kind(kind)
    consent = Consent(id=new_id(), workspace_id=workspace_id, customer_id=customer_id,
                      kind=kind, address=normalize_address(kind, address), purpose=purpose,
                      method=method, wording=wording, source=source, granted_at=at or utcnow())
    session.add(consent)
    session.flush()
    audit(session, workspace_id, "consent.granted", "customer", customer_id,
          actor_type="customer", data={"consent_id": str(consent.id), "purpose": purpose})
    return consent


def revoke_consent(session: Session, consent: Consent) -> None:
    consent.revoked_at = utcnow()
    audit(session, consent.workspace_id, "consent.revoked", "customer", consent.customer_id,
          actor_type="customer", data={"consent_id": str(consent.id)})


def has_consent(session: Session, workspace_id: uuid.UUID, *, kind: str, address: str,
                purpose: str | None = None) -> bool:
    kind = canonical_kind(kind)
    stmt = select(Consent.id).where(Consent.workspace_id == workspace_id, Consent.kind == kind,
                                    Consent.address == normalize_address(kind, address),
                                    Consent.revoked_at.is_(None))
    if purpose is not None:
        stmt = stmt.where(Consent.purpose == purpose)
    return session.scalar(stmt.limit(1)) is not None


def update_customer(session: Session, customer: Customer, changes: dict[str, Any], *,
                    actor_type: str, actor_id: str | None) -> Customer:
    allowed = {"name", "language", "timezone", "preferred_channel", "notes", "custom_fields",
               "external_ids"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"unknown fields: {', '.join(sorted(unknown))}")
    for key, value in changes.items():
        setattr(customer, key, value)
    customer.updated_at = utcnow()
    audit(session, customer.workspace_id, "customer.updated", "customer", customer.id,
          actor_type=actor_type, actor_id=actor_id, data={"fields": sorted(changes)})
    return customer
