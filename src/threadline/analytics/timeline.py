"""Read models for the agent desktop: one conversation's whole cross-channel story, and one
customer's file (identities, consents, every conversation, merges). Read-only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Consent, Customer, CustomerMerge, Identity, MergeSuggestion
from threadline.contacts.service import access_customer
from threadline.conversations.inbox import InboxFilter, InboxRow, list_inbox
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import conversation_view
from threadline.hops.records.models import Hop
from threadline.workspace.models import Agent, ChannelAccount


@dataclass
class TimelineEntry:
    at: datetime
    message: Message | None = None
    hop: Hop | None = None
    author: str = ""
    account_name: str | None = None


@dataclass
class ConversationStory:
    conversation: Conversation
    customer: Customer | None
    entries: list[TimelineEntry]
    identities: list[Identity]
    accounts: list[ChannelAccount]
    agents: dict[uuid.UUID, Agent]
    default_account_id: uuid.UUID | None
    default_visibility: str
    last_private_inbound: dict[uuid.UUID, datetime] = field(default_factory=dict)


def workspace_agents(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, Agent]:
    return {a.id: a for a in session.scalars(select(Agent).where(
        Agent.workspace_id == workspace_id).order_by(Agent.name))}


def conversation_story(session: Session, workspace_id: uuid.UUID,
                       conversation_id: uuid.UUID) -> ConversationStory:
    conv, customer, messages = conversation_view(session, workspace_id, conversation_id)
    accounts = list(session.scalars(select(ChannelAccount).where(
        ChannelAccount.workspace_id == workspace_id).order_by(ChannelAccount.name)))
    account_names = {a.id: a.name for a in accounts}
    agents = workspace_agents(session, workspace_id)
    identity_ids = {m.identity_id for m in messages if m.identity_id}
    identities: dict[uuid.UUID, Identity] = {}
    if identity_ids:
        identities = {i.id: i for i in session.scalars(
            select(Identity).where(Identity.id.in_(identity_ids)))}
    entries: list[TimelineEntry] = []
    last_inbound: Message | None = None
    last_private: dict[uuid.UUID, datetime] = {}
    for m in messages:
        entries.append(TimelineEntry(at=m.created_at, message=m,
                                     author=_author(m, customer, identities, agents),
                                     account_name=account_names.get(m.channel_account_id)
                                     if m.channel_account_id else None))
        if m.direction == "inbound" and m.kind != "note" and m.channel_account_id:
            if m.kind != "call" or last_inbound is None or last_inbound.kind == "call":
                last_inbound = m  # where he last wrote; a call only when he never wrote
            if m.visibility == "private":
                last_private[m.channel_account_id] = m.created_at
    for hop in session.scalars(select(Hop).where(Hop.conversation_id == conv.id)):
        entries.append(TimelineEntry(at=hop.offered_at or hop.created_at, hop=hop,
                                     author="hop"))
    entries.sort(key=lambda e: e.at)
    customer_identities = list(session.scalars(select(Identity).where(
        Identity.customer_id == conv.customer_id).order_by(Identity.linked_at))) \
        if conv.customer_id else []
    return ConversationStory(
        conversation=conv, customer=customer, entries=entries,
        identities=customer_identities, accounts=[a for a in accounts if a.active],
        agents=agents,
        default_account_id=last_inbound.channel_account_id if last_inbound else (
            conv.origin_account_id),
        default_visibility=last_inbound.visibility if last_inbound else (
            conv.origin_visibility or "public"),
        last_private_inbound=last_private)


def _author(m: Message, customer: Customer | None, identities: dict[uuid.UUID, Identity],
            agents: dict[uuid.UUID, Agent]) -> str:
    if m.author_agent_id and m.author_agent_id in agents:
        return agents[m.author_agent_id].name
    if m.author_type == "customer" or m.direction == "inbound":
        ident = identities.get(m.identity_id) if m.identity_id else None
        if ident is not None:
            return ident.display_name or ident.handle or ident.address
        return (customer.name if customer else None) or "Customer"
    return {"automation": "Automation", "agent": "Agent"}.get(m.author_type, m.author_type)


@dataclass
class CustomerFile:
    customer: Customer
    identities: list[Identity]
    consents: list[Consent]
    conversations: list[InboxRow]
    suggestions: list[tuple[MergeSuggestion, Customer | None]]
    merges: list[tuple[CustomerMerge, Customer | None]]
    channels: dict[str, int]
    surfaces: dict[uuid.UUID, list[str]]  # identity -> where it wrote: public, private


def customer_file(session: Session, workspace_id: uuid.UUID,
                  customer_id: uuid.UUID) -> CustomerFile:
    customer = access_customer(session, workspace_id, customer_id)
    identities = list(session.scalars(select(Identity).where(
        Identity.customer_id == customer.id).order_by(Identity.linked_at)))
    consents = list(session.scalars(select(Consent).where(
        Consent.customer_id == customer.id).order_by(Consent.granted_at)))
    rows, _ = list_inbox(session, workspace_id,
                         InboxFilter(view="all", customer_id=customer.id, relevance="all",
                                      sort="recent"), limit=100)
    suggestions_raw = list(session.scalars(select(MergeSuggestion).where(
        MergeSuggestion.workspace_id == workspace_id, MergeSuggestion.status == "open",
        or_(MergeSuggestion.customer_a_id == customer.id,
            MergeSuggestion.customer_b_id == customer.id))))
    merges_raw = list(session.scalars(select(CustomerMerge).where(
        CustomerMerge.workspace_id == workspace_id,
        or_(CustomerMerge.target_id == customer.id, CustomerMerge.source_id == customer.id))
        .order_by(CustomerMerge.created_at.desc()).limit(20)))
    others = {s.customer_b_id if s.customer_a_id == customer.id else s.customer_a_id
              for s in suggestions_raw}
    others |= {m.source_id if m.target_id == customer.id else m.target_id for m in merges_raw}
    people = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_(others)))} if others else {}
    suggestions = [(s, people.get(s.customer_b_id if s.customer_a_id == customer.id
                                  else s.customer_a_id)) for s in suggestions_raw]
    merges = [(m, people.get(m.source_id if m.target_id == customer.id else m.target_id))
              for m in merges_raw]
    channels: dict[str, int] = {}
    surfaces: dict[uuid.UUID, set[str]] = {}
    for kind, visibility, identity_id in session.execute(
            select(Message.channel, Message.visibility, Message.identity_id).join(
                Conversation, Conversation.id == Message.conversation_id).where(
                Conversation.customer_id == customer.id, Message.direction == "inbound")
            .limit(5000)).all():
        channels[kind] = channels.get(kind, 0) + 1
        if identity_id is not None:
            surfaces.setdefault(identity_id, set()).add(visibility)
    return CustomerFile(customer=customer, identities=identities, consents=consents,
                        conversations=rows, suggestions=suggestions, merges=merges,
                        channels=channels,
                        surfaces={k: sorted(v) for k, v in surfaces.items()})


def as_dict(value: Any) -> dict[str, Any]:
    """Custom fields as a plain dict (JSON columns may hold anything)."""
    return dict(value) if isinstance(value, dict) else {}


SOCIAL_HISTORY_LIMIT = 5


def social_history(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID | None,
                   limit: int = SOCIAL_HISTORY_LIMIT) -> list[Message]:
    """What the customer said in public lately, on any channel and in any of his
    conversations, newest first: shown beside a phone call so that the agent can pick up
    where social left off (thank him for a kind post, mention the complaint he made)."""
    if customer_id is None:
        return []
    return list(session.scalars(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.workspace_id == workspace_id,
               Conversation.customer_id == customer_id,
               Message.direction == "inbound", Message.visibility == "public",
               Message.deleted_at.is_(None))
        .order_by(Message.created_at.desc()).limit(limit)))
