"""The sync itself, as outbox jobs (every CRM call leaves through the outbox):

- the `crm` conversation hook enqueues `crm.sync` for each enabled connection when a
  conversation is created, answered, merged, resolved or reopened;
- `crm.sync` matches the customer to a contact (stored link, stored external id, email,
  phone; or creates one when the connection says so), writes the conversation's activity on
  the contact's timeline (created once, then updated: its provider id is stored, a lost answer
  is found again by its marker) and pulls the mapped fields for the panel;
- `crm.refresh` matches and pulls for one customer (the panel's button);
- `crm.backfill` enqueues the workspace's conversations in batches, counting progress.

Each run reads in one transaction, calls the CRM outside any transaction, and writes the
outcome (link, activity id, fields, a sync-log row) in a second one. A 429 (or Salesforce's
REQUEST_LIMIT_EXCEEDED) becomes RetryLater with the provider's delay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.adapters.config import url_policy
from threadline.contacts.models import Customer, CustomerMerge, Identity
from threadline.conversations.customer_merge import on_customer_merge
from threadline.conversations.models import Conversation, Message, Status
from threadline.db.base import utcnow
from threadline.events.service import ConversationEvent, enqueue
from threadline.integrations.crm.base import (
    ActivityIn,
    Contact,
    CrmError,
    CrmPermanent,
    CrmRetry,
    CustomerRef,
)
from threadline.integrations.crm.connectors import build
from threadline.integrations.crm.models import (
    CrmActivity,
    CrmConnection,
    CrmLink,
    CrmSyncLog,
    Outcome,
)
from threadline.integrations.crm.service import (
    BACKFILL_JOB,
    REFRESH_JOB,
    SYNC_JOB,
    backfill_scope,
    enabled_connections,
)
from threadline.jobs.hooks import ConversationEvents, conversation_hook
from threadline.jobs.registry import Job, PermanentFailure, RetryLater, handler
from threadline.jobs.runtime import Runtime

CRM_STAGE = 70  # after automation, routing, service levels, CSAT and the KPIs
LEASE = timedelta(seconds=60)
LEASE_WAIT_SECONDS = 5.0
FIELDS_FRESH = timedelta(seconds=60)
BATCH = 50
SUMMARY_MESSAGES = 6
LINE_CHARS = 200
TRIGGERS = frozenset({ConversationEvent.CREATED, ConversationEvent.REPLIED,
                      ConversationEvent.REOPENED, ConversationEvent.MERGED,
                      ConversationEvent.STATUS_CHANGED})
CHANNEL_NAMES = {"x": "X", "webchat": "Web chat", "email": "Email", "whatsapp": "WhatsApp",
                 "facebook": "Messenger", "instagram": "Instagram", "telegram": "Telegram",
                 "twilio": "SMS/voice", "api": "API"}


def marker(conversation_id: uuid.UUID) -> str:
    """The conversation's key in the CRM (one token: found by search, an external id)."""
    return f"tl{conversation_id.hex}"


# --- reacting to conversations ------------------------------------------------------------


@conversation_hook(CRM_STAGE, "crm")
def on_conversation(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    if not batch.names & TRIGGERS:
        return
    if batch.names <= {ConversationEvent.STATUS_CHANGED} and not any(
            e.get("to") == Status.RESOLVED or e.get("from") == Status.RESOLVED
            for e in batch.of(ConversationEvent.STATUS_CHANGED)):
        return  # snoozed, pending...: nothing the CRM shows changed
    for conn in enabled_connections(session, batch.workspace_id):
        enqueue(session, SYNC_JOB, {"connection_id": str(conn.id),
                                    "conversation_id": str(batch.conversation_id)},
                workspace_id=batch.workspace_id)


@on_customer_merge("crm")
def follow_merge(session: Session, merge: CustomerMerge) -> None:
    """One link per surviving customer: the source's link moves to the target, or is dropped
    when the target has one on that connection; the source's log rows move with it."""
    targets = {link.connection_id: link for link in session.scalars(select(CrmLink).where(
        CrmLink.customer_id == merge.target_id))}
    for link in session.scalars(select(CrmLink).where(CrmLink.customer_id == merge.source_id)):
        kept = targets.get(link.connection_id)
        if kept is None:
            link.customer_id, link.updated_at = merge.target_id, utcnow()
            detail = f"link to contact {link.external_id} moved from a merged customer"
        else:
            session.delete(link)
            detail = (f"merged customer's contact {link.external_id} dropped; "
                      f"kept {kept.external_id}")
        session.add(CrmSyncLog(workspace_id=merge.workspace_id,
                               connection_id=link.connection_id, customer_id=merge.target_id,
                               action="merge", outcome=Outcome.OK, detail=detail))
    session.flush()
    session.execute(update(CrmSyncLog).where(CrmSyncLog.customer_id == merge.source_id)
                    .values(customer_id=merge.target_id))


# --- jobs ---------------------------------------------------------------------------------


def _ids(job: Job, *names: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(str(job.workspace_id))] + [
            uuid.UUID(str(job.payload[n])) for n in names]
    except (KeyError, ValueError, TypeError) as exc:
        raise PermanentFailure(f"malformed {job.name} job: {type(exc).__name__}") from None


@handler(SYNC_JOB)
def sync_job(runtime: Runtime, job: Job) -> None:
    workspace_id, connection_id, conversation_id = _ids(job, "connection_id",
                                                        "conversation_id")
    sync_conversation(runtime, workspace_id, connection_id, conversation_id,
                      backfill=bool(job.payload.get("backfill")))


@handler(REFRESH_JOB)
def refresh_job(runtime: Runtime, job: Job) -> None:
    workspace_id, connection_id, customer_id = _ids(job, "connection_id", "customer_id")
    refresh_customer(runtime, workspace_id, connection_id, customer_id)


@handler(BACKFILL_JOB)
def backfill_job(runtime: Runtime, job: Job) -> None:
    workspace_id, connection_id = _ids(job, "connection_id")
    after = job.payload.get("after")
    with runtime.db.session() as session:
        conn = session.get(CrmConnection, connection_id)
        if conn is None or conn.workspace_id != workspace_id or not conn.enabled:
            return
        stmt = (select(Conversation.id, Conversation.created_at)
                .where(*backfill_scope(workspace_id))
                .order_by(Conversation.created_at, Conversation.id).limit(BATCH))
        if isinstance(after, list) and len(after) == 2:
            when, last = datetime.fromisoformat(str(after[0])), uuid.UUID(str(after[1]))
            stmt = stmt.where((Conversation.created_at > when)
                              | ((Conversation.created_at == when) & (Conversation.id > last)))
        rows = session.execute(stmt).all()
        for conv_id, _ in rows:
            enqueue(session, SYNC_JOB, {"connection_id": str(conn.id),
                                        "conversation_id": str(conv_id), "backfill": True},
                    workspace_id=workspace_id)
        if len(rows) == BATCH:
            last_id, last_at = rows[-1]
            enqueue(session, BACKFILL_JOB, {"connection_id": str(conn.id),
                                            "after": [last_at.isoformat(), str(last_id)]},
                    workspace_id=workspace_id)


# --- one conversation ---------------------------------------------------------------------


@dataclass
class Plan:
    """What the read transaction found: enough to call the CRM without the database."""

    conn: CrmConnection
    customer_id: uuid.UUID
    ref: CustomerRef
    link_external: str | None
    fields_stale: bool
    activity: ActivityIn | None = None
    activity_id: uuid.UUID | None = None
    activity_external: str | None = None
    maybe_created: bool = False
    create: bool = False


def _customer_ref(session: Session, customer: Customer, kind: str) -> CustomerRef:
    identities = list(session.scalars(select(Identity).where(
        Identity.customer_id == customer.id).order_by(Identity.linked_at)))
    emails = [i.address.lower() for i in identities if i.kind == "email"][:3]
    phones = [i.address for i in identities if i.kind in ("phone", "whatsapp")][:3]
    external = (customer.external_ids or {}).get(kind)
    return CustomerRef(customer_id=str(customer.id), name=customer.name, emails=emails,
                       phones=phones, external_id=str(external)[:64] if external else None)


def _live_customer(session: Session, customer_id: uuid.UUID | None) -> Customer | None:
    customer = session.get(Customer, customer_id) if customer_id else None
    seen = 0
    while customer is not None and customer.merged_into_id is not None and seen < 16:
        customer, seen = session.get(Customer, customer.merged_into_id), seen + 1
    return customer


def summary(session: Session, conv: Conversation, settings_url: str | None) -> ActivityIn:
    """The conversation for the CRM: subject, status, channels, the last messages (public
    and private replies, never internal notes), a link back to Threadline."""
    live = (Message.conversation_id == conv.id, Message.kind != "note",
            Message.deleted_at.is_(None))
    channels: list[str] = []
    count = 0
    for (channel,) in session.execute(select(Message.channel).where(*live)
                                      .order_by(Message.created_at, Message.id)):
        count += 1  # one narrow column per message: a long conversation stays cheap
        name = CHANNEL_NAMES.get(channel, channel)
        if not channels or channels[-1] != name:
            channels.append(name)
    messages = list(reversed(list(session.scalars(select(Message).where(*live).order_by(
        Message.created_at.desc(), Message.id.desc()).limit(SUMMARY_MESSAGES)))))
    first = session.scalar(select(Message.text).where(
        *live, Message.direction == "inbound", Message.text != "")
        .order_by(Message.created_at, Message.id).limit(1)) or ""
    topic = " ".join((conv.subject or first or "conversation").split())[:80]
    resolved = conv.status == Status.RESOLVED
    lines = [f"Status: {'Resolved' if resolved else conv.status.capitalize()}",
             f"Channels: {' → '.join(channels) or '—'}", f"Messages: {count}", ""]
    for m in messages:
        who = "Customer" if m.direction == "inbound" else "Agent"
        text = " ".join((m.text or "").split())
        text = text if len(text) <= LINE_CHARS else text[:LINE_CHARS - 1] + "…"
        lines.append(f"{who} ({CHANNEL_NAMES.get(m.channel, m.channel)}, {m.visibility}): "
                     f"{text}")
    link = f"{(settings_url or '').rstrip('/')}/conversations/{conv.id}"
    lines += ["", f"Open in Threadline: {link}"]
    when = conv.resolved_at if resolved and conv.resolved_at else conv.created_at
    return ActivityIn(marker=marker(conv.id), subject=f"Threadline: {topic}",
                      body="\n".join(lines), when=when, resolved=resolved,
                      channel=conv.origin_channel)


def _log(session: Session, conn_id: uuid.UUID, workspace_id: uuid.UUID,
         customer_id: uuid.UUID | None, conversation_id: uuid.UUID | None, action: str,
         outcome: str, detail: str = "") -> None:
    session.add(CrmSyncLog(workspace_id=workspace_id, connection_id=conn_id,
                           customer_id=customer_id, conversation_id=conversation_id,
                           action=action, outcome=outcome, detail=detail[:300]))


def _plan(session: Session, runtime: Runtime, workspace_id: uuid.UUID, connection_id: uuid.UUID,
          conversation_id: uuid.UUID) -> Plan | str | None:
    conn = session.get(CrmConnection, connection_id)
    conv = session.get(Conversation, conversation_id)
    if conn is None or conn.workspace_id != workspace_id or not conn.enabled:
        return None
    if conv is None or conv.workspace_id != workspace_id or conv.merged_into_id is not None:
        return None
    customer = _live_customer(session, conv.customer_id)
    if customer is None:
        return None
    link = session.scalar(select(CrmLink).where(CrmLink.connection_id == conn.id,
                                                CrmLink.customer_id == customer.id))
    now = utcnow()
    activity = session.scalar(select(CrmActivity).where(
        CrmActivity.connection_id == conn.id, CrmActivity.conversation_id == conv.id))
    if activity is None:
        activity = CrmActivity(workspace_id=workspace_id, connection_id=conn.id,
                               conversation_id=conv.id)
        session.add(activity)
        maybe_created = False
        activity.lease_until = now + LEASE
        session.flush()  # a second worker's insert fails on the unique key: it retries
    else:
        maybe_created = activity.external_id is None and activity.attempted_at is not None
        taken: Any = session.execute(update(CrmActivity).where(
            CrmActivity.id == activity.id,
            CrmActivity.lease_until.is_(None) | (CrmActivity.lease_until <= now))
            .values(lease_until=now + LEASE).execution_options(synchronize_session=False))
        if not taken.rowcount:
            return "leased"  # another worker writes this activity now
    return Plan(conn=conn, customer_id=customer.id,
                ref=_customer_ref(session, customer, conn.kind),
                link_external=link.external_id if link else None,
                fields_stale=link is None or link.fields_at is None
                or link.fields_at < now - FIELDS_FRESH,
                activity=summary(session, conv, runtime.settings.public_url),
                activity_id=activity.id, activity_external=activity.external_id,
                maybe_created=maybe_created, create=conn.create_contacts)


def _mark_attempt(runtime: Runtime, activity_id: uuid.UUID) -> None:
    with runtime.db.session() as session:
        session.execute(update(CrmActivity).where(CrmActivity.id == activity_id)
                        .values(attempted_at=utcnow()))


@dataclass
class Done:
    contact: Contact | None = None
    matched_by: str | None = None
    activity_external: str | None = None
    fields: dict[str, Any] | None = None
    created_activity: bool = False


def _match(client: Any, plan: Plan, done: Done) -> str | None:
    """The contact id (stored link first); None when unmatched and not to be created."""
    if plan.link_external:
        return plan.link_external
    found = client.find_contact(plan.ref)
    if found is not None:
        done.contact, done.matched_by = found
        return str(done.contact.id)
    if plan.create and (plan.ref.emails or plan.ref.phones or plan.ref.name):
        done.contact, done.matched_by = client.create_contact(plan.ref), "created"
        return str(done.contact.id)
    return None


def sync_conversation(runtime: Runtime, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                      conversation_id: uuid.UUID, *, backfill: bool = False) -> None:
    with runtime.db.session() as session:
        plan = _plan(session, runtime, workspace_id, connection_id, conversation_id)
    if plan == "leased":
        raise RetryLater("another worker is writing this conversation's activity",
                         LEASE_WAIT_SECONDS)
    if not isinstance(plan, Plan):
        if backfill:
            _count_backfill(runtime, connection_id)
        return
    client = build(plan.conn, runtime.http, url_policy(runtime.settings))
    done = Done()
    error: CrmError | None = None
    try:
        contact_id = _match(client, plan, done)
        if contact_id is not None and plan.activity is not None:
            external = plan.activity_external
            if external is None and plan.maybe_created:
                external = client.find_activity(contact_id, plan.activity.marker)
            if external is None:
                assert plan.activity_id is not None
                _mark_attempt(runtime, plan.activity_id)
                done.created_activity = True
            done.activity_external = client.put_activity(contact_id, plan.activity, external)
            if plan.fields_stale and (plan.conn.contact_fields or plan.conn.account_fields):
                done.fields = client.read_fields(contact_id, list(plan.conn.contact_fields),
                                                 list(plan.conn.account_fields))
    except CrmError as exc:
        error = exc
    _conclude(runtime, plan, client, done, error, conversation_id, backfill)
    if isinstance(error, CrmRetry):
        raise RetryLater(error.reason, error.seconds)


def _store_link(session: Session, plan: Plan, done: Done) -> CrmLink | None:
    link = session.scalar(select(CrmLink).where(CrmLink.connection_id == plan.conn.id,
                                                CrmLink.customer_id == plan.customer_id))
    if link is None and done.contact is not None and done.matched_by:
        link = CrmLink(workspace_id=plan.conn.workspace_id, connection_id=plan.conn.id,
                       customer_id=plan.customer_id, external_id=done.contact.id,
                       matched_by=done.matched_by, fields={})
        session.add(link)
        action = "contact_created" if done.matched_by == "created" else "matched"
        _log(session, plan.conn.id, plan.conn.workspace_id, plan.customer_id, None, action,
             Outcome.OK, f"contact {done.contact.id} by {done.matched_by}")
    if link is not None and done.fields is not None:
        link.fields, link.fields_at = done.fields, utcnow()
    if link is not None:
        link.updated_at = utcnow()
    return link


def _conclude(runtime: Runtime, plan: Plan, client: Any, done: Done, error: CrmError | None,
              conversation_id: uuid.UUID | None, backfill: bool) -> None:
    ws, conn_id = plan.conn.workspace_id, plan.conn.id
    with runtime.db.session() as session:
        conn = session.get(CrmConnection, conn_id)
        if conn is not None and client.refreshed is not None:
            conn.session_token = client.refreshed  # the new access token, encrypted
        link = _store_link(session, plan, done)
        if link is not None and plan.link_external == link.external_id \
                and isinstance(error, CrmPermanent) and error.code == "http_404":
            # The linked contact is gone from the CRM: unlink; the next sync matches again.
            session.delete(link)
            _log(session, conn_id, ws, plan.customer_id, None, "link_dropped", Outcome.OK,
                 f"contact {link.external_id} no longer exists in the CRM")
            link = None
        if plan.activity_id is not None:
            values: dict[str, Any] = {"lease_until": None}
            if done.activity_external is not None and plan.activity is not None:
                values.update(external_id=done.activity_external, synced_at=utcnow(),
                              state="resolved" if plan.activity.resolved else "open",
                              contact_external_id=link.external_id if link else None)
                verb = "activity_created" if done.created_activity else "activity_updated"
                _log(session, conn_id, ws, plan.customer_id, conversation_id, verb, Outcome.OK,
                     f"{'resolved' if plan.activity.resolved else 'open'} conversation "
                     f"as {done.activity_external}")
            session.execute(update(CrmActivity).where(CrmActivity.id == plan.activity_id)
                            .values(**values))
        if done.fields is not None:
            _log(session, conn_id, ws, plan.customer_id, None, "fields_pulled", Outcome.OK,
                 f"{sum(len(v) for v in done.fields.values())} fields")
        if error is not None:
            outcome = Outcome.RETRY if isinstance(error, CrmRetry) else Outcome.FAILED
            wait = (f" (retry in {error.seconds:g}s)" if isinstance(error, CrmRetry)
                    and error.seconds is not None else "")
            _log(session, conn_id, ws, plan.customer_id, conversation_id, "sync", outcome,
                 f"{error.code}: {error.reason}{wait}")
        elif link is None and done.activity_external is None and conversation_id is not None:
            _log(session, conn_id, ws, plan.customer_id, conversation_id, "match",
                 Outcome.SKIPPED, "no contact matches this customer's email, phone or id")
        if backfill and not isinstance(error, CrmRetry):
            session.execute(update(CrmConnection).where(CrmConnection.id == conn_id).values(
                backfill_done=CrmConnection.backfill_done + 1))


def _count_backfill(runtime: Runtime, connection_id: uuid.UUID) -> None:
    with runtime.db.session() as session:
        session.execute(update(CrmConnection).where(CrmConnection.id == connection_id).values(
            backfill_done=CrmConnection.backfill_done + 1))


def refresh_customer(runtime: Runtime, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                     customer_id: uuid.UUID) -> None:
    """Match (never create) and pull the mapped fields for one customer."""
    with runtime.db.session(write=False) as session:
        conn = session.get(CrmConnection, connection_id)
        customer = _live_customer(session, customer_id)
        if conn is None or conn.workspace_id != workspace_id or not conn.enabled \
                or customer is None or customer.workspace_id != workspace_id:
            return
        link = session.scalar(select(CrmLink).where(CrmLink.connection_id == conn.id,
                                                    CrmLink.customer_id == customer.id))
        plan = Plan(conn=conn, customer_id=customer.id,
                    ref=_customer_ref(session, customer, conn.kind),
                    link_external=link.external_id if link else None, fields_stale=True)
    client = build(plan.conn, runtime.http, url_policy(runtime.settings))
    done = Done()
    error: CrmError | None = None
    try:
        contact_id = _match(client, plan, done)
        if contact_id is not None:
            done.fields = client.read_fields(contact_id, list(plan.conn.contact_fields),
                                             list(plan.conn.account_fields))
    except CrmError as exc:
        error = exc
    _conclude(runtime, plan, client, done, error, None, False)
    if isinstance(error, CrmRetry):
        raise RetryLater(error.reason, error.seconds)

