"""Link takers (docs/decisions/0103): a public short link is in a public reply, so whoever
submits its form first is a stranger until proven. He gets his own customer (his chat identity,
the email or number he typed, his consents) and a `HopTaker` row that ties him to the case and
to the public author he claims to be. His messages land in the case, marked unverified.

He becomes the public author when he proves control of the public account (the proof code he
was shown, posted or sent from that account, recognised by the inbound pipeline) or when an
agent confirms it; either way his customer is merged into the public author (the ordinary,
audited, undoable merge) and his chat identity becomes verified. Services never commit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer, Evidence, Identity
from threadline.contacts.service import create_customer
from threadline.conversations.customer_merge import merge_customers
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.hops.records.models import Callback, HopTaker, ShortLink
from threadline.hops.records.service import access_scoped

PENDING, PROVEN, CONFIRMED = "pending", "proven", "confirmed"
PROOF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
PROOF_LENGTH = 8  # 40 bits
PROOF_RE = re.compile(r"\bTL-([A-HJ-NP-Z2-9]{8})\b", re.IGNORECASE)
PROOF_TTL = timedelta(days=7)
MAX_CODES_PER_MESSAGE = 4
TRUSTED_EVIDENCE = (Evidence.PROVIDER, Evidence.VERIFIED)


@dataclass(frozen=True)
class NewTaker:
    taker: HopTaker
    customer: Customer
    proof_code: str


def proof_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_proof_code() -> str:
    return "TL-" + "".join(secrets.choice(PROOF_ALPHABET) for _ in range(PROOF_LENGTH))


def current_customer(session: Session, customer_id: uuid.UUID) -> Customer | None:
    """The customer an id names now (following merges)."""
    customer = session.get(Customer, customer_id)
    seen = 0
    while customer is not None and customer.merged_into_id is not None and seen < 16:
        customer = session.get(Customer, customer.merged_into_id)
        seen += 1
    return customer


def start_taker(session: Session, link: ShortLink, *, channel: str, hop_id: uuid.UUID | None,
                name: str | None = None) -> NewTaker:
    """The form of `link` was submitted: a new, pending party with his own customer."""
    if link.customer_id is None:
        raise ValidationFailed("this link is not bound to a customer; please write to us again",
                               code="link_without_customer")
    customer = create_customer(session, link.workspace_id, name=name, actor_type="customer")
    conv = session.get(Conversation, link.conversation_id)
    origin = (session.get(Message, conv.origin_message_id)
              if conv is not None and conv.origin_message_id else None)
    code = new_proof_code()
    now = utcnow()
    taker = HopTaker(id=new_id(), workspace_id=link.workspace_id,
                     conversation_id=link.conversation_id, short_link_id=link.id, hop_id=hop_id,
                     customer_id=customer.id, claimed_customer_id=link.customer_id,
                     claimed_identity_id=origin.identity_id if origin else None,
                     channel=channel, state=PENDING, proof_hash=proof_hash(code),
                     proof_expires_at=now + PROOF_TTL, created_at=now, meta={})
    session.add(taker)
    session.flush()
    audit(session, link.workspace_id, "hop.taker_pending", "conversation", link.conversation_id,
          actor_type="customer",
          data={"taker_id": str(taker.id), "customer_id": str(customer.id),
                "claimed_customer_id": str(link.customer_id), "channel": channel})
    _publish(session, taker)
    return NewTaker(taker, customer, code)


def access_taker(session: Session, workspace_id: uuid.UUID, taker_id: uuid.UUID) -> HopTaker:
    return access_scoped(session, HopTaker, workspace_id, taker_id,
                         "this person is not known here", "taker_not_found")


def takers_of_conversation(session: Session, conversation_id: uuid.UUID) -> list[HopTaker]:
    return list(session.scalars(select(HopTaker).where(
        HopTaker.conversation_id == conversation_id).order_by(HopTaker.created_at)))


def takers_of_customer(session: Session, customer_id: uuid.UUID) -> list[HopTaker]:
    """Takers who are this customer, or who claim to be him."""
    return list(session.scalars(select(HopTaker).where(
        or_(HopTaker.customer_id == customer_id, HopTaker.claimed_customer_id == customer_id))
        .order_by(HopTaker.created_at)))


def taker_identities(session: Session, takers: Iterable[HopTaker]) -> dict[uuid.UUID, HopTaker]:
    """The identities of pending takers (their messages are marked unverified)."""
    pending = {t.customer_id: t for t in takers if t.state == PENDING}
    if not pending:
        return {}
    rows = session.scalars(select(Identity).where(Identity.customer_id.in_(pending)))
    return {i.id: pending[i.customer_id] for i in rows}


def claimed_handle(session: Session, taker: HopTaker) -> str:
    """How the public author appears (`@jane`), for the warnings agents see."""
    identity = (session.get(Identity, taker.claimed_identity_id)
                if taker.claimed_identity_id else None)
    if identity is not None and identity.handle:
        return "@" + identity.handle.lstrip("@")
    customer = session.get(Customer, taker.claimed_customer_id)
    return (customer.name if customer is not None and customer.name else "the public author")


def prove(session: Session, taker: HopTaker, *, by: str, actor: Actor,
          message_id: uuid.UUID | None = None) -> HopTaker:
    """The taker is the public author (proof code from his account, or an agent's word): his
    customer is merged into the author's, his chat identity becomes verified."""
    if taker.state != PENDING:
        raise ValidationFailed("this person is confirmed already", code="taker_not_pending")
    target = current_customer(session, taker.claimed_customer_id)
    source = current_customer(session, taker.customer_id)
    if target is None or source is None:
        raise NotFound("the customer is gone", code="customer_not_found")
    now = utcnow()
    merge_id = None
    if source.id != target.id:
        merge = merge_customers(session, taker.workspace_id, source.id, target.id, actor)
        merge_id = str(merge.id)
    method = "agent_confirmed" if by == "agent" else f"proof_code_{by}"
    for raw in (taker.meta or {}).get("identity_ids") or []:
        identity = session.get(Identity, uuid.UUID(str(raw)))
        if (identity is not None and identity.customer_id == target.id
                and identity.evidence != Evidence.VERIFIED):
            identity.evidence = Evidence.VERIFIED
            identity.verified_at = now
            audit(session, taker.workspace_id, "identity.verified", "customer", target.id,
                  actor_type=actor.type, actor_id=actor.id,
                  data={"identity_id": str(identity.id), "method": method,
                        "taker_id": str(taker.id)})
    for callback in session.scalars(select(Callback).where(
            Callback.conversation_id == taker.conversation_id,
            Callback.customer_id == source.id)):
        callback.customer_id = target.id
    taker.state = CONFIRMED if by == "agent" else PROVEN
    taker.proven_by = by
    taker.proven_at = now
    taker.proof_hash = None
    taker.meta = {**(taker.meta or {}), "merge_id": merge_id,
                  "proof_message_id": str(message_id) if message_id else None,
                  "agent_id": str(actor.agent_id) if actor.agent_id else None}
    if target.preferred_channel != taker.channel:
        target.preferred_channel = taker.channel
        target.updated_at = now
    audit(session, taker.workspace_id, "hop.taker_proven", "conversation",
          taker.conversation_id, actor_type=actor.type, actor_id=actor.id,
          data={"taker_id": str(taker.id), "by": by, "merge_id": merge_id,
                "message_id": str(message_id) if message_id else None})
    _publish(session, taker)
    return taker


def remember_identity(taker: HopTaker, identity: Identity | None) -> None:
    """The taker's session identity: verified when he is proven to be the public author."""
    if identity is None:
        return
    ids = list((taker.meta or {}).get("identity_ids") or [])
    if str(identity.id) not in ids:
        ids.append(str(identity.id))
    taker.meta = {**(taker.meta or {}), "identity_ids": ids}


def recognise_proofs(session: Session, workspace_id: uuid.UUID,
                     rows: Iterable[dict[str, object]]) -> int:
    """Inbound messages that carry a pending taker's proof code, from the public author's own
    account (an identity of his customer that the provider vouches for): the taker is proven.
    `rows` are the inbound message rows of a batch. Returns how many takers were proven."""
    found: dict[str, tuple[uuid.UUID, uuid.UUID, str]] = {}
    for row in rows:
        text, identity_id = row.get("text"), row.get("identity_id")
        if (row.get("direction") != "inbound" or not isinstance(text, str)
                or not isinstance(identity_id, uuid.UUID)):
            continue
        for match in islice(PROOF_RE.finditer(text), MAX_CODES_PER_MESSAGE):
            message_id = row["id"]
            assert isinstance(message_id, uuid.UUID)
            found.setdefault(proof_hash("TL-" + match.group(1)),
                             (message_id, identity_id, str(row.get("visibility"))))
    if not found:
        return 0
    proven = 0
    now = utcnow()
    for taker in session.scalars(select(HopTaker).where(
            HopTaker.workspace_id == workspace_id, HopTaker.state == PENDING,
            HopTaker.proof_hash.in_(list(found)))):
        message_id, identity_id, visibility = found[str(taker.proof_hash)]
        identity = session.get(Identity, identity_id)
        author = current_customer(session, taker.claimed_customer_id)
        if (identity is None or author is None or identity.customer_id != author.id
                or identity.evidence not in TRUSTED_EVIDENCE
                or (taker.proof_expires_at is not None and taker.proof_expires_at < now)):
            audit(session, workspace_id, "hop.taker_proof_refused", "conversation",
                  taker.conversation_id, data={"taker_id": str(taker.id),
                                               "message_id": str(message_id)})
            continue
        prove(session, taker, by="public_post" if visibility == "public" else "dm",
              actor=Actor("system"), message_id=message_id)
        proven += 1
    return proven


def _publish(session: Session, taker: HopTaker) -> None:
    publish(session, taker.workspace_id, Live.HOP_TAKER,
            {"conversation_id": str(taker.conversation_id), "taker_id": str(taker.id),
             "state": taker.state})
