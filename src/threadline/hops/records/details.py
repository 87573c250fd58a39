"""Secure forms (docs/hops.md): details an agent asks the customer for privately — a delivery
address for a returns box, an order number, a date of birth for verification — given on a
signed, single-use form behind a short link (purpose `details`). The values are stored
encrypted (`DetailRequest.values`, decision 0104), shown to agents in the conversation and
refused by the guard in public replies (outbound/policy.py). Services never commit."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.contacts.rules import normalize_email, normalize_phone
from threadline.db.base import new_id, utcnow
from threadline.errors import ThreadlineError, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.hops.records.links import create_short_link
from threadline.hops.records.models import DetailRequest, ShortLink

LINK_TTL = timedelta(days=3)
MAX_NOTE = 300
MAX_OPEN = 5  # unanswered requests per conversation
_ORDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 #/_.\-]{0,63}")


@dataclass(frozen=True)
class Field:
    label: str
    kind: str  # how the guard knows it (triage Known): ADDRESS, ORDER_NUMBER, ...
    hint: str


FIELDS: dict[str, Field] = {
    "delivery_address": Field("Delivery address", "ADDRESS",
                              "Street and number, postcode, town, country"),
    "order_number": Field("Order number", "ORDER_NUMBER", "As on your confirmation email"),
    "date_of_birth": Field("Date of birth", "DATE_OF_BIRTH", "To confirm it is you"),
    "email": Field("Email address", "EMAIL", ""),
    "phone": Field("Phone number", "PHONE", "With the country code, e.g. +1 555 123 4567"),
}


def check_fields(fields: list[str]) -> list[str]:
    clean = list(dict.fromkeys(fields))
    if not clean or len(clean) > len(FIELDS) or any(f not in FIELDS for f in clean):
        raise ValidationFailed(f"fields: one or more of {', '.join(FIELDS)}",
                               code="invalid_detail_fields", details={"field": "fields"})
    return clean


def create_request(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                   customer_id: uuid.UUID | None, fields: list[str], note: str | None, *,
                   actor_type: str, actor_id: str | None) -> tuple[DetailRequest, str]:
    """A request and the code of its form's link (the caller sends the link)."""
    clean = check_fields(fields)
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationFailed(f"the note has at most {MAX_NOTE} characters",
                               code="invalid_detail_note", details={"field": "note"})
    waiting = session.scalars(select(DetailRequest.id).where(
        DetailRequest.conversation_id == conversation_id,
        DetailRequest.submitted_at.is_(None)).limit(MAX_OPEN + 1)).all()
    if len(waiting) >= MAX_OPEN:
        raise ValidationFailed(f"{MAX_OPEN} requests are waiting for the customer already",
                               code="too_many_detail_requests")
    link, code = create_short_link(session, workspace_id, purpose="details",
                                   conversation_id=conversation_id, customer_id=customer_id,
                                   ttl=LINK_TTL)
    request = DetailRequest(id=new_id(), workspace_id=workspace_id,
                            conversation_id=conversation_id, short_link_id=link.id,
                            fields=clean, note=note, requested_by=actor_id, values=None)
    session.add(request)
    session.flush()
    audit(session, workspace_id, "details.requested", "conversation", conversation_id,
          actor_type=actor_type, actor_id=actor_id,
          data={"request_id": str(request.id), "fields": clean})
    return request, code


def request_of_link(session: Session, link: ShortLink) -> DetailRequest | None:
    return session.scalar(select(DetailRequest).where(DetailRequest.short_link_id == link.id))


def clean_values(fields: list[str], values: dict[str, str]) -> dict[str, str]:
    """The submitted values of the asked fields, checked; a ValidationFailed whose message is
    for the customer."""
    out: dict[str, str] = {}
    for name in fields:
        raw = values.get(name, "").strip()
        label = FIELDS[name].label
        if not raw:
            raise ValidationFailed(f"Please fill in: {label}.", code="missing_detail",
                                   details={"field": name})
        if name == "delivery_address":
            lines = [" ".join(line.split()) for line in raw.splitlines() if line.strip()]
            if not 5 <= len(" ".join(lines)) <= 500 or len(lines) > 8:
                raise ValidationFailed("Please enter the address in at most 8 lines and 500 "
                                       "characters.", code="invalid_detail",
                                       details={"field": name})
            out[name] = "\n".join(lines)
        elif name == "order_number":
            if not _ORDER.fullmatch(raw):
                raise ValidationFailed("Please enter the order number as it is written on "
                                       "your confirmation.", code="invalid_detail",
                                       details={"field": name})
            out[name] = raw
        elif name == "date_of_birth":
            try:
                born = date.fromisoformat(raw)
            except ValueError:
                born = None
            if born is None or not date(1900, 1, 1) <= born <= utcnow().date():
                raise ValidationFailed("Please enter your date of birth as a date.",
                                       code="invalid_detail", details={"field": name})
            out[name] = born.isoformat()
        else:
            try:
                out[name] = normalize_email(raw) if name == "email" else normalize_phone(raw)
            except ThreadlineError:
                raise ValidationFailed(f"Please enter a valid {label.lower()}.",
                                       code="invalid_detail", details={"field": name}) from None
    return out


def submit(session: Session, link: ShortLink, values: dict[str, str]) -> DetailRequest:
    """The customer's answer, on a link opened in this (writing) session: stored encrypted,
    the link used up."""
    request = request_of_link(session, link)
    if request is None:
        raise ValidationFailed("This form is no longer available.", code="details_gone")
    request.values = clean_values(list(request.fields), values)
    request.submitted_at = utcnow()
    link.used_at = request.submitted_at
    audit(session, link.workspace_id, "details.received", "conversation",
          request.conversation_id, actor_type="customer",
          data={"request_id": str(request.id), "fields": list(request.fields)})
    publish(session, link.workspace_id, Live.CONVERSATION_UPDATED,
            {"conversation_id": str(request.conversation_id)})
    return request


def requests_of(session: Session, conversation_id: uuid.UUID) -> list[DetailRequest]:
    return list(session.scalars(select(DetailRequest).where(
        DetailRequest.conversation_id == conversation_id).order_by(DetailRequest.created_at)))


def known_details(session: Session, conversation_id: uuid.UUID) -> list[tuple[str, str]]:
    """What the guard must refuse in public for this conversation: (kind, value) of every
    detail given (emails and phones as the customer's coordinates, the rest by kind)."""
    found: list[tuple[str, str]] = []
    for request in requests_of(session, conversation_id):
        for name, value in (request.values or {}).items():
            if name in FIELDS and isinstance(value, str) and value:
                found.append((FIELDS[name].kind, value))
    return found


def as_rows(requests: list[DetailRequest]) -> list[dict[str, Any]]:
    """For display: each request's fields with their labels and values (None until given)."""
    return [{"id": r.id, "note": r.note, "created_at": r.created_at,
             "submitted_at": r.submitted_at,
             "fields": [{"name": f, "label": FIELDS[f].label if f in FIELDS else f,
                         "value": (r.values or {}).get(f)} for f in r.fields]}
            for r in requests]
