"""The in-memory state of one inbound batch: prefetched lookups, threading, pending writes.

Threading follows docs/threading.md, first match wins:
  1. reply chain: the item replies to (or references) a known message; or a message we hold
     already replies to this item, or to the same unknown parent (out-of-order arrivals);
  2. a short-link / form token bound to a conversation;
  3. the same private thread (DM thread, phone number, chat visitor) whose conversation is
     active, or was resolved within the reopen window (it reopens);
  4. the same customer's active conversation on another channel within the window;
  5. otherwise a new conversation.
When one item ties together conversations that were apart (a parent arriving after its
replies), they are merged into the oldest, audited as a system merge.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from threadline.channels.base import (
    DeliveryState,
    Direction,
    InboundMessage,
    MessageKind,
    NormalizedItem,
    StatusUpdate,
    Visibility,
)
from threadline.config import Settings
from threadline.contacts.models import Customer, Evidence, Identity
from threadline.contacts.rules import canonical_kind, normalize_address
from threadline.contacts.service import find_identity, link_identity, suggest_merge
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.queue import DEFAULT_PRIORITY, most_relevant
from threadline.db.base import new_id, utcnow
from threadline.db.locks import customer_locks
from threadline.errors import ValidationFailed
from threadline.events.names import Live
from threadline.events.service import (
    ConversationEvent,
    audit_many,
    conversation_events,
    enqueue,
    publish_many,
)
from threadline.hops.records.links import resolve_link_token
from threadline.hops.records.takers import recognise_proofs
from threadline.inbound.enrich import enrich
from threadline.inbound.first_answer import sla_target
from threadline.inbound.learning import active_model
from threadline.inbound.matching import message_conversation
from threadline.inbound.public_answers import public_answers as load_public_answers
from threadline.inbound.updates import ConvState, MsgRef, StoredMessageUpdates, patch_meta
from threadline.triage import TriageModel
from threadline.triage.public_answers import PublicAnswers
from threadline.triage.redact import stored_text
from threadline.workspace.models import ChannelAccount

CHUNK = 500


def table(model: Any) -> Table:
    """The Core table of a model: executemany without the ORM's per-row bookkeeping."""
    t: Table = model.__table__
    return t


def _chunks(values: Iterable[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    items = list(values)
    for i in range(0, len(items), size):
        yield items[i:i + size]


_CONV_FIELDS = ("id", "workspace_id", "customer_id", "status", "origin_channel",
                "origin_visibility", "created_at", "last_message_at", "last_inbound_at",
                "message_count", "resolved_at", "reopen_count", "merged_into_id", "updated_at",
                "category", "sentiment", "language", "priority", "relevance", "sla_due_at")


def item_keys(account_id: uuid.UUID, item: NormalizedItem) -> list[str]:
    """What threading an item reads and writes beyond its customer: its own provider id, the
    messages it answers or refers to, its author's identity, its private thread. Two
    items sharing none of these can be threaded at once (decision 0334)."""
    keys = [f"p:{item.provider_id}"] if item.provider_id else []
    if isinstance(item, InboundMessage):
        keys += [f"p:{ref}" for ref in (item.in_reply_to, *item.references) if ref]
        if not item.author.is_self:
            kind = canonical_kind(item.author.identity_kind)
            keys.append(f"i:{kind}:{safe_address(kind, item.author.provider_user_id)}")
        if item.thread_key and item.visibility is Visibility.PRIVATE:
            keys.append(f"t:{account_id}:{item.thread_key}")
    elif isinstance(item, StatusUpdate) and item.thread_key:
        keys.append(f"t:{account_id}:{item.thread_key}")
    return keys


def safe_address(kind: str, address: str) -> str:
    try:
        return normalize_address(kind, address)
    except ValidationFailed:
        return address.strip()


@dataclass
class BatchContext(StoredMessageUpdates):
    session: Session
    workspace_id: uuid.UUID
    settings: Settings
    now: datetime = field(default_factory=utcnow)
    messages: dict[str, MsgRef] = field(default_factory=dict)  # provider id -> message
    waiting: dict[str, set[uuid.UUID]] = field(default_factory=dict)  # parent pid -> convs
    identities: dict[tuple[str, str], tuple[uuid.UUID, uuid.UUID]] = field(default_factory=dict)
    convs: dict[uuid.UUID, ConvState] = field(default_factory=dict)
    thread_latest: dict[tuple[uuid.UUID, str], uuid.UUID] = field(default_factory=dict)
    customer_active: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    new_customers: list[dict[str, Any]] = field(default_factory=list)
    # what the operations layer is told, per conversation (jobs/hooks.py)
    ops: dict[uuid.UUID, list[dict[str, Any]]] = field(default_factory=dict)
    new_identities: list[dict[str, Any]] = field(default_factory=list)
    new_messages: list[dict[str, Any]] = field(default_factory=list)
    message_updates: list[dict[str, Any]] = field(default_factory=list)
    meta_patches: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)
    watermarks: list[tuple[uuid.UUID, str, datetime, str]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    stream: list[tuple[uuid.UUID, Live, dict[str, Any]]] = field(default_factory=list)
    merges: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    coordinates: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)
    hide: list[uuid.UUID] = field(default_factory=list)
    model: TriageModel | None = None
    answers: PublicAnswers = field(default_factory=PublicAnswers)

    # --- prefetch --------------------------------------------------------------------------

    def prefetch(self, items: Sequence[tuple[ChannelAccount, NormalizedItem]]) -> None:
        pids: set[str] = set()
        parents: set[str] = set()
        idkeys: dict[str, set[str]] = {}
        threads: set[tuple[uuid.UUID, str]] = set()
        for account, item in items:
            pids.add(item.provider_id)
            if isinstance(item, InboundMessage):
                if item.in_reply_to:
                    parents.add(item.in_reply_to)
                parents.update(item.references)
                if not item.author.is_self:
                    kind = canonical_kind(item.author.identity_kind)
                    idkeys.setdefault(kind, set()).add(
                        safe_address(kind, item.author.provider_user_id))
                if item.thread_key and item.visibility is Visibility.PRIVATE:
                    threads.add((account.id, item.thread_key))
        pids.discard("")
        ws = self.workspace_id
        self.model = active_model(self.session, ws)
        self.answers = load_public_answers(self.session, ws)
        for chunk in _chunks(pids | parents):
            for row in self.session.execute(
                    select(Message.provider_id, Message.id, Message.conversation_id,
                           Message.direction, Message.delivery)
                    .where(Message.workspace_id == ws, Message.provider_id.in_(chunk))):
                if row[0] is not None:
                    self.messages[row[0]] = MsgRef(row[1], row[2], row[3], row[4])
        for chunk in _chunks(pids | parents):
            for pid, conv_id in self.session.execute(
                    select(Message.reply_to_provider_id, Message.conversation_id)
                    .where(Message.workspace_id == ws,
                           Message.reply_to_provider_id.in_(chunk))):
                if pid is not None:
                    self.waiting.setdefault(pid, set()).add(conv_id)
        for kind, addresses in idkeys.items():
            for chunk in _chunks(addresses):
                for address, ident_id, customer_id in self.session.execute(
                        select(Identity.address, Identity.id, Identity.customer_id)
                        .where(Identity.workspace_id == ws, Identity.kind == kind,
                               Identity.address.in_(chunk))):
                    self.identities[(kind, address)] = (ident_id, customer_id)
        self._prefetch_threads(threads)
        conv_ids = {m.conversation_id for m in self.messages.values()}
        conv_ids.update(c for s in self.waiting.values() for c in s)
        conv_ids.update(self.thread_latest.values())
        customers = {cid for _, cid in self.identities.values()}
        # another worker's batch may hold the same customer by another channel (his other
        # identities): one decides at a time about his conversations (decision 0334)
        customer_locks(self.session, ws, customers)
        times = [i.created_at for _, i in items if isinstance(i, InboundMessage)]
        since = (min(times) if times else self.now) - timedelta(
            hours=self.settings.cross_channel_window_hours)
        self._load_conversations(conv_ids, customers, since)

    def _prefetch_threads(self, threads: set[tuple[uuid.UUID, str]]) -> None:
        """The conversation of the latest message of each private thread (rule 3)."""
        by_account: dict[uuid.UUID, set[str]] = {}
        for account_id, key in threads:
            by_account.setdefault(account_id, set()).add(key)
        for account_id, keys in by_account.items():
            for chunk in _chunks(keys):
                latest = (select(Message.thread_key, func.max(Message.created_at).label("at"))
                          .where(Message.channel_account_id == account_id,
                                 Message.thread_key.in_(chunk))
                          .group_by(Message.thread_key).subquery())
                rows = self.session.execute(
                    select(Message.thread_key, Message.conversation_id)
                    .join(latest, (Message.thread_key == latest.c.thread_key)
                          & (Message.created_at == latest.c.at))
                    .where(Message.channel_account_id == account_id))
                for thread_key, conv_id in rows:
                    if thread_key is not None:
                        self.thread_latest[(account_id, thread_key)] = conv_id

    def _load_conversations(self, conv_ids: set[uuid.UUID], customers: set[uuid.UUID],
                            active_since: datetime | None = None) -> None:
        cols = [getattr(Conversation, f) for f in _CONV_FIELDS]
        rows: list[Any] = []
        for chunk in _chunks(conv_ids - set(self.convs)):
            rows.extend(self.session.execute(select(*cols).where(Conversation.id.in_(chunk))))
        for chunk in _chunks(customers):
            rows.extend(self.session.execute(
                select(*cols).where(Conversation.customer_id.in_(chunk),
                                    Conversation.status.in_(Status.ACTIVE),
                                    Conversation.merged_into_id.is_(None),
                                    Conversation.last_message_at >= active_since)))
        for row in rows:
            state = ConvState(dict(zip(_CONV_FIELDS, row, strict=True)))
            if state.id in self.convs:
                continue
            if state.row["merged_into_id"] is not None:
                state.merged_into = state.row["merged_into_id"]
            self.convs[state.id] = state
            self._track_active(state)
        # Follow merge pointers of conversations merged earlier.
        targets = {s.merged_into for s in self.convs.values() if s.merged_into} - set(self.convs)
        if targets:
            self._load_conversations(targets, set(), active_since)

    def _track_active(self, state: ConvState) -> None:
        cid = state.row["customer_id"]
        if cid is not None and state.row["status"] in Status.ACTIVE and not state.merged_into:
            bucket = self.customer_active.setdefault(cid, [])
            if state.id not in bucket:
                bucket.append(state.id)

    # --- helpers ---------------------------------------------------------------------------

    def _customer_for(self, item: InboundMessage) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        if item.author.is_self:
            return None, None
        kind = canonical_kind(item.author.identity_kind)
        address = safe_address(kind, item.author.provider_user_id)
        found = self.identities.get((kind, address))
        if found is not None:
            return found
        customer_id, ident_id = new_id(), new_id()
        name = item.author.display_name or item.author.handle
        self.new_customers.append({"id": customer_id, "workspace_id": self.workspace_id,
                                   "name": name, "custom_fields": {}, "external_ids": {},
                                   "created_at": self.now, "updated_at": self.now})
        self.new_identities.append({
            "id": ident_id, "workspace_id": self.workspace_id, "customer_id": customer_id,
            "kind": kind, "address": address, "handle": item.author.handle,
            "display_name": item.author.display_name, "evidence": Evidence.PROVIDER,
            "created_at": self.now, "linked_at": self.now})
        self.audits.append(self._audit("customer.created", "customer", customer_id,
                                       {"identity_kind": kind}))
        self.identities[(kind, address)] = (ident_id, customer_id)
        return ident_id, customer_id

    # --- threading -------------------------------------------------------------------------

    def _chain_conversations(self, item: InboundMessage) -> list[uuid.UUID]:
        found: list[uuid.UUID] = []
        for pid in (item.in_reply_to, *item.references):
            if pid and pid in self.messages:
                found.append(self.resolve(self.messages[pid].conversation_id))
        for pid in (item.provider_id, item.in_reply_to):
            if pid:
                found.extend(self.resolve(c) for c in self.waiting.get(pid, ()))
        return list(dict.fromkeys(found))

    def _thread(self, account: ChannelAccount, item: InboundMessage,
                customer_id: uuid.UUID | None) -> uuid.UUID | None:
        chain = self._chain_conversations(item)
        if chain:
            target = min(chain, key=lambda c: (self.convs[c].row["created_at"], str(c)))
            for other in chain:
                if other != target:
                    self._merge(other, target)
            return target
        if item.link_token:
            linked = (resolve_link_token(self.session, self.workspace_id, item.link_token)
                      or message_conversation(self.session, self.workspace_id, item.link_token))
            if linked is not None:
                self._load_conversations({linked}, set(), self.now)
                return self.resolve(linked)
        if item.visibility is Visibility.PRIVATE and item.thread_key:
            latest = self.thread_latest.get((account.id, item.thread_key))
            if latest is not None:
                conv = self.convs[self.resolve(latest)]
                if conv.row["status"] in Status.ACTIVE:
                    return conv.id
                resolved_at = conv.row["resolved_at"]
                window = timedelta(hours=self.settings.reopen_window_hours)
                if (conv.row["status"] == Status.RESOLVED and resolved_at is not None
                        and item.created_at - resolved_at <= window):
                    return conv.id
        if customer_id is not None:
            window = timedelta(hours=self.settings.cross_channel_window_hours)
            channel = (account.kind, item.visibility.value)
            candidates = [self.convs[self.resolve(c)]
                          for c in self.customer_active.get(customer_id, ())]
            candidates = [c for c in candidates
                          if c.row["status"] in Status.ACTIVE and c.merged_into is None
                          and (c.row["origin_channel"], c.row["origin_visibility"]) != channel
                          and item.created_at - c.row["last_message_at"] <= window]
            if candidates:
                return max(candidates, key=lambda c: c.row["last_message_at"]).id
        return None

    def _merge(self, source: uuid.UUID, target: uuid.UUID) -> None:
        src, dst = self.convs[source], self.convs[target]
        src.merged_into = target
        src.dirty = True
        src.row.update(merged_into_id=target, status=Status.CLOSED, updated_at=self.now)
        dst.row["message_count"] += src.row["message_count"]
        src.row["message_count"] = 0
        for key in ("last_message_at",):
            if src.row[key] and src.row[key] > dst.row[key]:
                dst.row[key] = src.row[key]
        if src.row["last_inbound_at"] and (dst.row["last_inbound_at"] is None
                                           or src.row["last_inbound_at"]
                                           > dst.row["last_inbound_at"]):
            dst.row["last_inbound_at"] = src.row["last_inbound_at"]
        dst.dirty = True
        self.merges.append((source, target))
        self.ops.setdefault(target, []).append({"event": ConversationEvent.MERGED,
                                                "other_id": str(source)})
        self.audits.append(self._audit("conversation.merged", "conversation", source,
                                       {"into": str(target), "reason": "reply_chain"}))
        self.stream.append((self.workspace_id, Live.CONVERSATION_MERGED,
                            {"conversation_id": str(source), "into": str(target)}))

    def _new_conversation(self, account: ChannelAccount, item: InboundMessage,
                          customer_id: uuid.UUID | None, message_id: uuid.UUID) -> ConvState:
        state = ConvState({
            "id": new_id(), "workspace_id": self.workspace_id, "customer_id": customer_id,
            "status": Status.OPEN, "origin_channel": account.kind,
            "origin_visibility": item.visibility.value, "created_at": item.created_at,
            "last_message_at": item.created_at, "last_inbound_at": None, "message_count": 0,
            "resolved_at": None, "reopen_count": 0, "merged_into_id": None,
            "updated_at": self.now, "category": None, "sentiment": None, "language": None,
            "priority": DEFAULT_PRIORITY, "relevance": None, "sla_due_at": None},
            new=True, dirty=True)
        state.row["origin_message_id"] = message_id
        state.row["origin_account_id"] = account.id
        state.row["subject"] = item.subject
        self.convs[state.id] = state
        self._track_active(state)
        self.audits.append(self._audit("conversation.created", "conversation", state.id,
                                       {"channel": account.kind}))
        self.ops.setdefault(state.id, []).append({"event": ConversationEvent.CREATED})
        return state

    # --- items -----------------------------------------------------------------------------

    def add_message(self, account: ChannelAccount, item: InboundMessage) -> None:
        if item.provider_id in self.messages:
            return  # a redelivery, or the echo of a message we sent
        if item.author.is_self and self._bind_echo(item.provider_id, item.meta):
            return  # the echo of our send whose provider id was not committed yet
        ident_id, customer_id = self._customer_for(item)
        message_id = new_id()
        conv_id = self._thread(account, item, customer_id)
        state = (self._new_conversation(account, item, customer_id, message_id)
                 if conv_id is None else self.convs[conv_id])
        inbound = not item.author.is_self
        extra = enrich(account, item, self.model, self.answers) if inbound else None
        text, triage = stored_text(item.text, extra.triage if extra else None)
        row = state.row
        if extra is not None:
            tri = extra.triage
            if row.get("category") is None:
                row["category"] = tri["category"]
            row["sentiment"] = tri["sentiment"]
            row["language"] = row.get("language") or tri["language"]
            # the most urgent and the most relevant of the conversation's messages
            row["priority"] = min(row.get("priority") or DEFAULT_PRIORITY, extra.priority)
            row["relevance"] = most_relevant(row.get("relevance"), extra.relevance)
            if extra.hide:
                self.hide.append(message_id)
        if inbound and row["status"] in (Status.RESOLVED, Status.CLOSED):
            row["status"] = Status.OPEN
            row["reopen_count"] += 1
            self.audits.append(self._audit("conversation.reopened", "conversation", state.id,
                                           {"by": "customer"}))
            self.ops.setdefault(state.id, []).append({"event": ConversationEvent.REOPENED})
        if customer_id is not None:
            self.coordinates.extend((customer_id, c.kind, c.address)
                                    for c in item.author.coordinates)
        if row["customer_id"] is None and customer_id is not None:
            row["customer_id"] = customer_id
            self._track_active(state)
        row["message_count"] += 1
        if item.created_at > row["last_message_at"]:
            row["last_message_at"] = item.created_at
        if item.created_at < row["created_at"]:
            row["created_at"] = item.created_at
        if inbound and (row["last_inbound_at"] is None or item.created_at
                        > row["last_inbound_at"]):
            row["last_inbound_at"] = item.created_at
        if inbound and row["sla_due_at"] is None:
            row["sla_due_at"] = item.created_at + sla_target(
                self.settings, account.kind, item.visibility.value,
                row.get("priority") or DEFAULT_PRIORITY)
        row["updated_at"] = self.now
        state.dirty = True
        direction = Direction.INBOUND if inbound else Direction.OUTBOUND
        self.new_messages.append({
            "id": message_id, "workspace_id": self.workspace_id, "conversation_id": state.id,
            "channel_account_id": account.id, "channel": account.kind,
            "identity_id": ident_id, "direction": direction.value,
            "visibility": item.visibility.value, "kind": item.kind.value,
            "provider_id": item.provider_id, "reply_to_provider_id": item.in_reply_to,
            "root_provider_id": item.root_provider_id, "thread_key": item.thread_key,
            "text": text, "html": item.html, "subject": item.subject,
            "attachments": [a.__dict__ for a in item.attachments],
            "provider_created_at": item.created_at, "created_at": item.created_at,
            "delivery": (DeliveryState.RECEIVED if inbound else DeliveryState.SENT).value,
            "author_type": "customer" if inbound else "external",
            "triage": triage,
            "meta": dict(item.meta)})
        self.messages[item.provider_id] = MsgRef(message_id, state.id, direction.value,
                                                 "received", new=True)
        if item.in_reply_to and item.in_reply_to not in self.messages:
            self.waiting.setdefault(item.in_reply_to, set()).add(state.id)
        if item.visibility is Visibility.PRIVATE and item.thread_key:
            self.thread_latest[(account.id, item.thread_key)] = state.id
        self.audits.append(self._audit("message.received" if inbound else "message.echoed",
                                       "message", message_id,
                                       {"conversation_id": str(state.id)}))
        self.ops.setdefault(state.id, []).append(  # an echo: the brand wrote on the channel
            {"event": ConversationEvent.MESSAGE_RECEIVED if inbound
             else ConversationEvent.MESSAGE_ECHOED, "message_id": str(message_id)})
        self.stream.append((self.workspace_id, Live.MESSAGE_CREATED,
                            {"conversation_id": str(state.id), "message_id": str(message_id),
                             "direction": direction.value}))
        if inbound and item.kind is MessageKind.CALL:  # the desktops ring (desktop.js)
            self.stream.append((self.workspace_id, Live.CALL_INCOMING,
                                {"conversation_id": str(state.id),
                                 "message_id": str(message_id)}))
        if extra is not None and extra.public_pii:
            self.audits.append(self._audit("message.pii_flagged", "message", message_id, {
                "types": sorted({p["type"] for p in extra.triage["pii"]})}))
            self.stream.append((self.workspace_id, Live.MESSAGE_PII, {
                "conversation_id": str(state.id), "message_id": str(message_id),
                "suggest_hop": "privacy"}))

    # --- write -----------------------------------------------------------------------------

    def flush(self) -> None:
        s = self.session
        if self.new_customers:
            s.execute(table(Customer).insert(), self.new_customers)
            s.execute(table(Identity).insert(), self.new_identities)
        new_convs = [c.row for c in self.convs.values() if c.new]
        if new_convs:
            s.execute(table(Conversation).insert(), new_convs)
        if self.new_messages:
            for row in self.new_messages:
                row["conversation_id"] = self.resolve(row["conversation_id"])
            s.execute(table(Message).insert(), self.new_messages)
        for source, target in self.merges:
            s.execute(update(Message).where(Message.conversation_id == source)
                      .values(conversation_id=self.resolve(target)))
        dirty = [c for c in self.convs.values() if c.dirty and not c.new]
        if dirty:
            conv_table = table(Conversation)
            fields = ("customer_id", "status", "last_message_at", "last_inbound_at",
                      "message_count", "reopen_count", "merged_into_id", "updated_at",
                      "created_at", "category", "sentiment", "language", "priority",
                      "relevance", "sla_due_at")
            s.execute(conv_table.update().where(conv_table.c.id == bindparam("_id"))
                      .values({f: bindparam(f) for f in fields}),
                      [{"_id": c.id, **{f: c.row[f] for f in fields}} for c in dirty])
        for update_row in self._merged_updates():
            s.execute(update(Message).where(Message.id == update_row.pop("id"))
                      .values(**update_row))
        patch_meta(s, self.meta_patches)
        for account_id, key, at, state in self.watermarks:
            lower = [d.value for d in DeliveryState if d.rank < DeliveryState(state).rank
                     and d is not DeliveryState.FAILED]
            s.execute(update(Message).where(
                Message.channel_account_id == account_id, Message.thread_key == key,
                Message.direction == Direction.OUTBOUND.value, Message.created_at <= at,
                Message.delivery.in_(lower)).values(delivery=state))
        audit_many(s, self.audits)
        publish_many(s, self.stream)
        ops: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for conv_id, events in self.ops.items():
            ops.setdefault(self.resolve(conv_id), []).extend(events)
        conversation_events(s, self.workspace_id, ops)
        for message_id in self.hide:
            enqueue(s, "channel.act", {"message_id": str(message_id), "action": "hide"},
                    workspace_id=self.workspace_id)
        for customer_id, kind, address in dict.fromkeys(self.coordinates):
            self._link_coordinate(customer_id, kind, address)
        recognise_proofs(s, self.workspace_id, self.new_messages)  # link takers' proof codes

    def _link_coordinate(self, customer_id: uuid.UUID, kind: str, address: str) -> None:
        """A coordinate the provider says the author gave (a form's email, a shared contact):
        linked as customer-asserted when free; when another customer holds it, a merge
        suggestion is made and nothing moves."""
        try:
            address = normalize_address(canonical_kind(kind), address)
        except ValidationFailed:
            return
        existing = find_identity(self.session, self.workspace_id, kind, address)
        if existing is None:
            link_identity(self.session, self.workspace_id, customer_id, kind=kind,
                          address=address, evidence=Evidence.CUSTOMER)
        elif existing.customer_id != customer_id:
            suggest_merge(self.session, self.workspace_id, customer_id, existing.customer_id,
                          reason=f"same {canonical_kind(kind)} given on two handles")

    def _merged_updates(self) -> list[dict[str, Any]]:
        merged: dict[uuid.UUID, dict[str, Any]] = {}
        for row in self.message_updates:
            merged.setdefault(row["id"], {"id": row["id"]}).update(row)
        return list(merged.values())
