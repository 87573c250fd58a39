"""A conversation told at chosen times, for the KPI tests: each step writes the rows the
pipeline writes for it (a message as inbound/batch.py or outbound/replies.py store it, a
status change as conversations.service.set_status audits it, a hop as hops.records stores
it) and then runs the KPIS hook with the events that step enqueues, as the worker would.
The hand-computed fixtures and the property test tell their stories through it; the
end-to-end test (test_kpis_pipeline.py) goes through the real webhook, API and worker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation, Message, Status
from threadline.db.base import new_id
from threadline.events.models import AuditEvent
from threadline.events.service import ConversationEvent
from threadline.hops.records.models import Hop
from threadline.jobs.hooks import ConversationEvents
from threadline.jobs.runtime import Runtime
from threadline.kpis import engine
from threadline.kpis.models import (
    AgentActivity,
    ConversationEpisode,
    ConversationFacts,
    ConversationSegment,
)
from threadline.kpis.tracking import recompute
from threadline.workspace.models import Agent

FACT_COLUMNS = [c.name for c in ConversationFacts.__table__.columns if c.name != "updated_at"]
EPISODE_COLUMNS = [c.name for c in ConversationEpisode.__table__.columns if c.name != "id"]
SEGMENT_COLUMNS = [c.name for c in ConversationSegment.__table__.columns if c.name != "id"]
ACTIVITY_COLUMNS = [c.name for c in AgentActivity.__table__.columns if c.name != "id"]


def new_agent(runtime: Runtime, workspace_id: uuid.UUID, name: str = "Ana") -> uuid.UUID:
    with runtime.db.session() as session:
        agent = Agent(workspace_id=workspace_id, email=f"{uuid.uuid4().hex[:8]}@example.com",
                      name=name, role="agent")
        session.add(agent)
        session.flush()
        return agent.id


@dataclass
class Story:
    runtime: Runtime
    workspace_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    messages: list[uuid.UUID] = field(default_factory=list)
    now: datetime | None = None  # the hook's clock (None: the real one)

    @classmethod
    def begin(cls, runtime: Runtime, workspace_id: uuid.UUID, at: datetime, *,
              channel: str = "x", visibility: str = "public", customer_id: uuid.UUID | None
              = None, now: datetime | None = None, **message: Any) -> Story:
        """The customer's first message opens the conversation (`now`: the hook's clock)."""
        story = cls(runtime, workspace_id, now=now)
        with runtime.db.session() as session:
            if customer_id is None:
                customer = Customer(workspace_id=workspace_id, name="Customer")
                session.add(customer)
                session.flush()
                customer_id = customer.id
            story.customer_id = customer_id
            conv = Conversation(id=new_id(), workspace_id=workspace_id, customer_id=customer_id,
                                status=Status.OPEN, origin_channel=channel,
                                origin_visibility=visibility, created_at=at,
                                last_message_at=at, updated_at=at, labels=[],
                                required_skills=[], message_count=0)
            session.add(conv)
            story.conversation_id = conv.id
        story.customer(at, channel, visibility, _events=[ConversationEvent.CREATED], **message)
        return story

    # --- steps ---------------------------------------------------------------------------

    def customer(self, at: datetime, channel: str = "x", visibility: str = "public", *,
                 sentiment: str | None = None, kind: str = "message",
                 meta: dict[str, Any] | None = None, run: bool = True,
                 _events: list[str] | None = None) -> uuid.UUID:
        events = [*(_events or [])]
        with self.runtime.db.session() as session:
            conv = self._conv(session)
            if conv.status in (Status.RESOLVED, Status.CLOSED):  # as inbound/batch.py does
                conv.status = Status.OPEN
                conv.reopen_count += 1
                events.append(ConversationEvent.REOPENED)
            message_id = self._message(session, conv, at, channel, visibility, "inbound",
                                       triage={"sentiment": sentiment} if sentiment else {},
                                       kind=kind, meta=meta, author_type="customer")
        events.append(ConversationEvent.MESSAGE_RECEIVED)
        if run:
            self.run(*events, message_id=message_id)
        return message_id

    def agent(self, at: datetime, channel: str = "x", visibility: str = "public", *,
              agent_id: uuid.UUID | None = None, kind: str = "message",
              meta: dict[str, Any] | None = None, delivery: str = "sent",
              run: bool = True) -> uuid.UUID:
        with self.runtime.db.session() as session:
            conv = self._conv(session)
            if kind != "note" and delivery != "held" and conv.first_response_at is None:
                conv.first_response_at = at
            message_id = self._message(session, conv, at, channel, visibility, "outbound",
                                       kind=kind, meta=meta, author_type="agent",
                                       author_agent_id=agent_id, delivery=delivery)
        if run and kind != "note" and delivery != "held":
            self.run(ConversationEvent.REPLIED, message_id=message_id)
        return message_id

    def status(self, at: datetime, status: str, *, agent_id: uuid.UUID | None = None,
               run: bool = True) -> None:
        """As set_status: the conversation changes and the change is audited."""
        with self.runtime.db.session() as session:
            conv = self._conv(session)
            previous = conv.status
            conv.status = status
            if status == Status.RESOLVED:
                conv.resolved_at = at
            if previous in (Status.RESOLVED, Status.CLOSED) and status in Status.ACTIVE:
                conv.reopen_count += 1
            session.add(AuditEvent(
                workspace_id=self.workspace_id, action=f"conversation.{status}",
                subject_type="conversation", subject_id=str(conv.id),
                actor_type="agent" if agent_id else "system",
                actor_id=str(agent_id) if agent_id else None,
                data={"from": previous, "to": status}, created_at=at))
        if run:
            self.run(ConversationEvent.STATUS_CHANGED)

    def resolve(self, at: datetime, *, agent_id: uuid.UUID | None = None,
                run: bool = True) -> None:
        self.status(at, Status.RESOLVED, agent_id=agent_id, run=run)

    def hop(self, offered_at: datetime, *, from_channel: str = "x",
            to_channel: str = "x", taken_at: datetime | None = None,
            returned_at: datetime | None = None, run: bool = True) -> uuid.UUID:
        with self.runtime.db.session() as session:
            hop = Hop(workspace_id=self.workspace_id, conversation_id=self.conversation_id,
                      from_channel=from_channel, from_visibility="public",
                      to_channel=to_channel, to_visibility="private", reason="privacy",
                      method="dm_invite", offered_at=offered_at, taken_at=taken_at,
                      returned_at=returned_at, created_at=offered_at, meta={})
            session.add(hop)
            session.flush()
            hop_id = hop.id
        if run:
            self.run(ConversationEvent.UPDATED)
        return hop_id

    def set_hop(self, hop_id: uuid.UUID, **changes: Any) -> None:
        with self.runtime.db.session() as session:
            hop = session.get(Hop, hop_id)
            assert hop is not None
            for key, value in changes.items():
                setattr(hop, key, value)
        self.run(ConversationEvent.UPDATED)

    def run(self, *events: str, message_id: uuid.UUID | None = None) -> None:
        """The KPIS hook, with the events of one step (as one conversation.event job)."""
        payload = [{"event": e, **({"message_id": str(message_id)} if message_id
                                   and e in (ConversationEvent.MESSAGE_RECEIVED,
                                             ConversationEvent.REPLIED,
                                             ConversationEvent.MESSAGE_ECHOED,
                                             ConversationEvent.MESSAGE_EDITED) else {})}
                   for e in events]
        assert self.conversation_id is not None
        batch = ConversationEvents(workspace_id=self.workspace_id,
                                   conversation_id=self.conversation_id, events=payload)
        with self.runtime.db.session() as session:
            if self.now is None:
                engine.track(self.runtime, session, batch)
            else:  # told as it happens: the hook's clock is the step's time
                conv = session.get(Conversation, self.conversation_id)
                assert conv is not None
                engine.apply_events(session, conv, engine.rules_of(self.runtime.settings),
                                    payload, now=self.now)

    # --- what is stored --------------------------------------------------------------------

    def facts(self) -> ConversationFacts:
        with self.runtime.db.session(write=False) as session:
            facts = session.get(ConversationFacts, self.conversation_id)
            assert facts is not None
            return facts

    def episodes(self) -> list[ConversationEpisode]:
        with self.runtime.db.session(write=False) as session:
            return list(session.scalars(select(ConversationEpisode).where(
                ConversationEpisode.conversation_id == self.conversation_id)
                .order_by(ConversationEpisode.number)))

    def segments(self) -> list[ConversationSegment]:
        with self.runtime.db.session(write=False) as session:
            return list(session.scalars(select(ConversationSegment).where(
                ConversationSegment.conversation_id == self.conversation_id)
                .order_by(ConversationSegment.number)))

    def snapshot(self, session: Session) -> dict[str, Any]:
        """Every stored KPI row of the conversation, as plain values."""
        facts = session.get(ConversationFacts, self.conversation_id)
        if facts is not None:
            session.refresh(facts)
        return {
            "facts": None if facts is None else {c: getattr(facts, c) for c in FACT_COLUMNS},
            "episodes": [{c: getattr(e, c) for c in EPISODE_COLUMNS} for e in session.scalars(
                select(ConversationEpisode).where(
                    ConversationEpisode.conversation_id == self.conversation_id)
                .order_by(ConversationEpisode.number))],
            "segments": [{c: getattr(s, c) for c in SEGMENT_COLUMNS} for s in session.scalars(
                select(ConversationSegment).where(
                    ConversationSegment.conversation_id == self.conversation_id)
                .order_by(ConversationSegment.number))],
            "activity": sorted(({c: getattr(a, c) for c in ACTIVITY_COLUMNS}
                                for a in session.scalars(select(AgentActivity).where(
                                    AgentActivity.conversation_id == self.conversation_id))),
                               key=lambda a: str(a["message_id"])),
        }

    def incremental_and_recomputed(self, *, now: datetime | None = None,
                                   ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What the hook stored, and what a recomputation gives (rolled back)."""
        assert self.conversation_id is not None
        with self.runtime.db.session() as session:
            stored = self.snapshot(session)
            recompute(session, self.conversation_id, engine.rules_of(self.runtime.settings),
                      now=now)
            session.expire_all()
            rebuilt = self.snapshot(session)
            session.rollback()
        return stored, rebuilt

    # --- rows ----------------------------------------------------------------------------

    def _conv(self, session: Session) -> Conversation:
        conv = session.get(Conversation, self.conversation_id)
        assert conv is not None
        return conv

    def _message(self, session: Session, conv: Conversation, at: datetime, channel: str,
                 visibility: str, direction: str, *, kind: str, author_type: str,
                 meta: dict[str, Any] | None = None, triage: dict[str, Any] | None = None,
                 author_agent_id: uuid.UUID | None = None, delivery: str = "received",
                 ) -> uuid.UUID:
        message = Message(id=new_id(), workspace_id=self.workspace_id, conversation_id=conv.id,
                          channel="note" if kind == "note" else channel, direction=direction,
                          visibility=visibility, kind=kind, text="...", attachments=[],
                          created_at=at, delivery=delivery, author_type=author_type,
                          author_agent_id=author_agent_id, triage=triage or {},
                          meta=meta or {})
        session.add(message)
        conv.message_count += 1
        if at > conv.last_message_at:
            conv.last_message_at = at
        if direction == "inbound":
            conv.last_inbound_at = at
        self.messages.append(message.id)
        return message.id
