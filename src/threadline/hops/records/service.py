"""Channel hops (docs/hops.md): offer, take, return to origin; the short links behind the forms;
consent and verification of the coordinates a customer gives. Services never commit.

A hop is offered by an agent (a method and a reason), taken by the customer (a form submitted,
a private message written) and closed by the public follow-up on the original post.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.contacts.models import Consent, Customer, Evidence, Identity
from threadline.contacts.service import (
    find_identity,
    link_identity,
    record_consent,
    suggest_merge,
)
from threadline.conversations.models import Conversation, Message
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, PolicyViolation, ThreadlineError, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.hops.records.links import create_short_link, find_link
from threadline.hops.records.models import Callback, Hop, HopTaker, ShortLink

METHODS = ("dm_invite", "private_reply", "chat_link", "callback_form", "email_form",
           "choice_link")
REASONS = ("privacy", "practicality", "customer_choice")
LINK_PURPOSE = {"chat_link": "chat", "callback_form": "callback", "email_form": "email",
                "choice_link": "choice"}
TARGET_CHANNEL = {"chat_link": "webchat", "callback_form": "voice", "email_form": "email"}
DEFAULT_LINK_TTL = timedelta(days=7)
SESSION_LINK_TTL = timedelta(days=30)
VERIFY_LINK_TTL = timedelta(days=1)


class LinkUnavailable(ThreadlineError):
    """A short link that cannot be used: the page says why, and nothing changes."""

    status = 404
    code = "link_not_found"


class ConsentRequired(PolicyViolation):
    code = "consent_required"


@dataclass(frozen=True)
class Offer:
    hop: Hop
    link: ShortLink | None
    code: str | None


# --- offer ------------------------------------------------------------------------------------


def offer_hop(session: Session, workspace_id: uuid.UUID, conv: Conversation, *, method: str,
              reason: str, to_channel: str | None, to_account_id: uuid.UUID | None,
              actor_type: str, actor_id: str | None,
              ttl: timedelta = DEFAULT_LINK_TTL, choices: tuple[str, ...] = ()) -> Offer:
    """Record an offered hop (and the short link behind its form). A `choice_link` names the
    `choices` the customer may pick from (links.CHOICE_FORMS and CHOICE_CHANNELS)."""
    if method not in METHODS:
        raise ValidationFailed(f"method must be one of {', '.join(METHODS)}",
                               code="invalid_hop_method")
    if reason not in REASONS:
        raise ValidationFailed(f"reason must be one of {', '.join(REASONS)}",
                               code="invalid_hop_reason")
    if conv.merged_into_id is not None:
        raise ValidationFailed("this conversation was merged into another",
                               code="conversation_merged")
    link: ShortLink | None = None
    code: str | None = None
    if method in LINK_PURPOSE:
        link, code = create_short_link(session, workspace_id, purpose=LINK_PURPOSE[method],
                                       conversation_id=conv.id, customer_id=conv.customer_id,
                                       ttl=ttl,
                                       meta={"choices": list(choices)} if choices else None)
    hop = Hop(id=new_id(), workspace_id=workspace_id, conversation_id=conv.id,
              from_channel=conv.origin_channel or "unknown",
              from_visibility=conv.origin_visibility or "public",
              to_channel=to_channel or TARGET_CHANNEL.get(method), to_visibility="private",
              to_account_id=to_account_id, reason=reason, method=method,
              origin_message_id=_origin_message(session, conv),
              short_link_id=link.id if link else None, offered_at=utcnow(),
              meta={"choices": list(choices)} if choices else {})
    session.add(hop)
    session.flush()
    audit(session, workspace_id, "hop.offered", "conversation", conv.id, actor_type=actor_type,
          actor_id=actor_id, data={"hop_id": str(hop.id), "method": method, "reason": reason})
    publish(session, workspace_id, Live.HOP_OFFERED,
            {"conversation_id": str(conv.id), "hop_id": str(hop.id), "method": method})
    return Offer(hop, link, code)


def _origin_message(session: Session, conv: Conversation) -> uuid.UUID | None:
    """The post the hop starts from (its public follow-up answers it): the conversation's
    first message, else the latest public one the customer wrote."""
    if conv.origin_message_id is not None:
        return conv.origin_message_id
    return session.scalar(select(Message.id).where(
        Message.conversation_id == conv.id, Message.direction == "inbound",
        Message.visibility == "public").order_by(Message.created_at.desc()).limit(1))


Scoped = TypeVar("Scoped", Hop, HopTaker, Callback)


def access_scoped(session: Session, model: type[Scoped], workspace_id: uuid.UUID,
                  row_id: uuid.UUID, message: str, code: str) -> Scoped:
    """A hop-domain row of this workspace, else NotFound (another workspace's ids too)."""
    row = session.get(model, row_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(message, code=code)
    return row


def access_hop(session: Session, workspace_id: uuid.UUID, hop_id: uuid.UUID) -> Hop:
    return access_scoped(session, Hop, workspace_id, hop_id, "hop not found", "hop_not_found")


def hops_of(session: Session, conversation_id: uuid.UUID) -> list[Hop]:
    return list(session.scalars(select(Hop).where(Hop.conversation_id == conversation_id)
                                .order_by(Hop.offered_at, Hop.id)))


def set_hop_meta(hop: Hop, **values: Any) -> None:
    meta = dict(hop.meta or {})
    meta.update({k: v for k, v in values.items() if v is not None})
    hop.meta = meta


# --- short links behind the forms -------------------------------------------------------------


def open_link(session: Session, code: str, purposes: tuple[str, ...]) -> ShortLink:
    """The live link a code names. Raises LinkUnavailable (forged, expired, used, other
    purpose); reading a link changes nothing."""
    link = find_link(session, code)
    if link is None or link.purpose not in purposes:
        raise LinkUnavailable("this link is not valid", code="link_not_found")
    if link.used_at is not None:
        raise LinkUnavailable("this link has been used already", code="link_used", status=410)
    if link.expires_at <= utcnow():
        raise LinkUnavailable("this link has expired", code="link_expired", status=410)
    return link


def hop_of_link(session: Session, link: ShortLink) -> Hop | None:
    return session.scalar(select(Hop).where(Hop.short_link_id == link.id))


def take_link(session: Session, link: ShortLink, *, to_channel: str, taker: HopTaker,
              consent: Consent | None, visitor: str | None = None) -> Hop | None:
    """Someone submitted the form behind `link`: it is used up, the hop is taken. Who took it
    is a pending taker (hops/takers.py), not yet the customer the link was sent to."""
    now = utcnow()
    link.used_at = now
    hop = hop_of_link(session, link)
    if hop is not None:
        hop.taken_at = hop.taken_at or now
        hop.to_channel = to_channel
        if consent is not None:
            hop.consent_id = consent.id
    audit(session, link.workspace_id, "hop.taken", "conversation", link.conversation_id,
          actor_type="customer", actor_id=visitor,
          data={"link_id": str(link.id), "hop_id": str(hop.id) if hop else None,
                "to_channel": to_channel, "taker_id": str(taker.id)})
    set_preferred_channel(session, taker.customer_id, to_channel)
    publish(session, link.workspace_id, Live.HOP_TAKEN,
            {"conversation_id": str(link.conversation_id),
             "hop_id": str(hop.id) if hop else None, "to_channel": to_channel})
    return hop


def mark_taken(session: Session, hop: Hop, at: datetime) -> None:
    """A private hop (DM invitation, private reply) is taken when the customer writes there."""
    if hop.taken_at is not None:
        return
    hop.taken_at = at
    conv = session.get(Conversation, hop.conversation_id)
    if conv is not None and conv.customer_id is not None and hop.to_channel:
        set_preferred_channel(session, conv.customer_id, hop.to_channel)
    audit(session, hop.workspace_id, "hop.taken", "conversation", hop.conversation_id,
          actor_type="customer", data={"hop_id": str(hop.id), "to_channel": hop.to_channel})


def set_preferred_channel(session: Session, customer_id: uuid.UUID, channel: str) -> None:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.preferred_channel == channel:
        return
    customer.preferred_channel = channel
    customer.updated_at = utcnow()
    audit(session, customer.workspace_id, "customer.updated", "customer", customer.id,
          actor_type="customer", data={"fields": ["preferred_channel"], "via": "hop"})


def give_coordinate(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID, *,
                    kind: str, address: str, evidence: str = Evidence.CUSTOMER,
                    ) -> Identity | None:
    """Link a coordinate the customer (or an agent) gave. When another customer holds it,
    nothing moves: a merge suggestion is made and None is returned."""
    existing = find_identity(session, workspace_id, kind, address)
    if existing is None:
        return link_identity(session, workspace_id, customer_id, kind=kind, address=address,
                             evidence=evidence, actor_type="customer")
    if existing.customer_id != customer_id:
        suggest_merge(session, workspace_id, customer_id, existing.customer_id,
                      reason=f"{kind} given on a hop form is held by another customer")
        return None
    return existing


def form_consent(session: Session, link: ShortLink, customer_id: uuid.UUID, *, kind: str,
                 address: str, purpose: str, wording: str) -> Consent:
    """Submitting a form is the opt-in of whoever submitted it on the coordinate he typed
    (the consent stays with the taker's own customer)."""
    return record_consent(session, link.workspace_id, customer_id, kind=kind,
                          address=address, purpose=purpose, method="form", wording=wording,
                          source=f"short_link:{link.id}")


def session_link(session: Session, link: ShortLink, visitor: str,
                 customer_id: uuid.UUID) -> str:
    """The private continuation of a taken chat link, for the taker's browser only."""
    _, code = create_short_link(session, link.workspace_id, purpose="chat_session",
                                conversation_id=link.conversation_id,
                                customer_id=customer_id, ttl=SESSION_LINK_TTL,
                                meta={"from_link": str(link.id), "visitor": visitor})
    return code


# --- return to origin -------------------------------------------------------------------------

FOLLOW_UP_TEXT = ("Update: we have followed up with you in private and this is now resolved. "
                  "Thank you for your patience; reply here any time if anything else comes up.")


def draft_follow_up(hop: Hop) -> str:
    """The public close-out on the original post: a template, no personal data."""
    text = str((hop.meta or {}).get("follow_up_text") or FOLLOW_UP_TEXT)
    set_hop_meta(hop, follow_up_text=text, follow_up_drafted_at=utcnow().isoformat())
    return text


def mark_returned(session: Session, hop: Hop, message_id: uuid.UUID, at: datetime) -> None:
    if hop.returned_at is not None:
        return
    hop.returned_at = at
    set_hop_meta(hop, follow_up_message_id=str(message_id))
    audit(session, hop.workspace_id, "hop.returned", "conversation", hop.conversation_id,
          data={"hop_id": str(hop.id), "message_id": str(message_id)})
    publish(session, hop.workspace_id, Live.HOP_RETURNED,
            {"conversation_id": str(hop.conversation_id), "hop_id": str(hop.id)})


def list_hops(session: Session, workspace_id: uuid.UUID, *, open_public_closeout: bool = True,
              resolved_only: bool = False, limit: int = 200) -> list[tuple[Hop, Conversation]]:
    """With `open_public_closeout`: hops that started in public and have no public follow-up
    yet (the supervisors' list)."""
    stmt = (select(Hop, Conversation).join(Conversation, Conversation.id == Hop.conversation_id)
            .where(Hop.workspace_id == workspace_id))
    if open_public_closeout:
        stmt = stmt.where(Hop.returned_at.is_(None), Hop.from_visibility == "public")
    if resolved_only:
        stmt = stmt.where(Conversation.status.in_(("resolved", "closed")))
    rows = session.execute(stmt.order_by(Hop.offered_at).limit(limit)).all()
    return [(hop, conv) for hop, conv in rows]


def first_private_inbound(session: Session, hop: Hop) -> Message | None:
    """The customer's first private message on the hop's account after the offer."""
    if hop.to_account_id is None or hop.offered_at is None:
        return None
    return session.scalar(select(Message).where(
        Message.conversation_id == hop.conversation_id, Message.direction == "inbound",
        Message.visibility == "private", Message.channel_account_id == hop.to_account_id,
        Message.created_at >= hop.offered_at - timedelta(seconds=5))
        .order_by(Message.created_at).limit(1))


# --- verification -----------------------------------------------------------------------------


def start_verification(session: Session, workspace_id: uuid.UUID, identity: Identity,
                       conversation_id: uuid.UUID) -> tuple[ShortLink, str]:
    if identity.workspace_id != workspace_id:
        raise NotFound("identity not found", code="identity_not_found")
    if identity.evidence == Evidence.VERIFIED:
        raise ValidationFailed("this coordinate is verified already", code="already_verified")
    link, code = create_short_link(session, workspace_id, purpose="verify",
                                   conversation_id=conversation_id,
                                   customer_id=identity.customer_id, ttl=VERIFY_LINK_TTL,
                                   meta={"identity_id": str(identity.id)})
    audit(session, workspace_id, "identity.verification_sent", "customer", identity.customer_id,
          data={"identity_id": str(identity.id), "link_id": str(link.id)})
    return link, code


def confirm_verification(session: Session, link: ShortLink) -> Identity:
    """The link sent over the coordinate was opened and confirmed: the link is the evidence."""
    identity = session.get(Identity, uuid.UUID(str(link.meta.get("identity_id"))))
    if identity is None or identity.workspace_id != link.workspace_id:
        raise LinkUnavailable("this link is not valid", code="link_not_found")
    link.used_at = utcnow()
    identity.evidence = Evidence.VERIFIED
    identity.verified_at = link.used_at
    audit(session, link.workspace_id, "identity.verified", "customer", identity.customer_id,
          actor_type="customer", data={"identity_id": str(identity.id), "method": "link",
                                       "link_id": str(link.id)})
    return identity
