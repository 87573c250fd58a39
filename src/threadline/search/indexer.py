"""Keeping Threadline's own kinds in the index: conversations, messages and customers.

Index-on-event (decision 0329). Every change of a conversation already enqueues a
`conversation.event` job in the transaction that makes it (a customer's message, a reply, a
status change, a merge, a split); the `search` hook, the last stage of that job, indexes the
conversation, its customer and its messages whose indexed version differs from the stored
one. The job runs as soon as the change commits (the worker is woken on commit), so a new
message is findable well within a second (`threadline bench search` measures it). The
`search.sweep` job, every few seconds, catches what no conversation event announces
(agents' notes, replies held for approval): messages of the last minutes with no document,
read from a minute before its previous run (not the whole window again).

What is indexed is what agents see: a message posted in public by a customer is indexed
with its personal data masked (`conversations.privacy.masked_text`), never in clear; card
numbers, security codes and passwords were never stored in clear in the first place.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer, Identity
from threadline.conversations.models import Conversation, Message
from threadline.conversations.privacy import masked_text
from threadline.db.base import utcnow
from threadline.events.service import ConversationEvent, ensure_pending
from threadline.jobs.hooks import ConversationEvents, conversations_hook
from threadline.jobs.registry import Job, handler
from threadline.search import backends
from threadline.search.documents import document_row
from threadline.search.models import Kind, SearchDocument

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger(__name__)

SEARCH_STAGE = 90  # after automation, routing, service levels, KPIs: nothing depends on it
SWEEP_JOB = "search.sweep"
SWEEP_SECONDS = 5.0
SWEEP_WINDOW = timedelta(minutes=10)
CHUNK = 500
SWEEP_CHUNK = 200  # conversations indexed together by the sweep
_DIGITS = re.compile(r"\D+")
_PUNCT = re.compile(r"[\W_]+")


def _version(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode())
    return digest.hexdigest()[:32]


# --- what a document says ----------------------------------------------------------------------


def message_document(message: Message, conv_language: str | None,
                     now: datetime) -> dict[str, Any]:
    """A message as agents see it: personal data posted in public masked."""
    body = masked_text(message)
    visibility = "note" if message.kind == "note" else message.visibility
    language = (message.triage or {}).get("language") or conv_language
    if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,4})?",
                                                          language):
        language = None
    title = message.subject or ""
    return document_row(
        message.workspace_id, kind=Kind.MESSAGE, ref_id=message.id, title=title, body=body,
        language=language, conversation_id=message.conversation_id, channel=message.channel,
        visibility=visibility, author_type=message.author_type,
        version=_version(message.conversation_id, visibility, title, body, language),
        created_at=message.created_at, now=now)


def conversation_document(conv: Conversation, customer_name: str | None,
                          now: datetime) -> dict[str, Any]:
    title = conv.subject or (f"Conversation with {customer_name}" if customer_name
                             else "Conversation")
    labels = " ".join(str(label) for label in conv.labels or [])
    body = " ".join(p for p in (customer_name, labels, conv.category) if p)
    return document_row(
        conv.workspace_id, kind=Kind.CONVERSATION, ref_id=conv.id, title=title, body=body,
        language=conv.language if conv.language and len(conv.language) <= 16 else None,
        conversation_id=conv.id, customer_id=conv.customer_id, channel=conv.origin_channel,
        version=_version(title, body, conv.customer_id), created_at=conv.created_at, now=now)


def customer_document(customer: Customer, identities: Sequence[Identity],
                      now: datetime) -> dict[str, Any]:
    """Names, handles, emails and phones (a phone also as its digits alone, so "+1 (555)
    010-0199" is found by 15550100199)."""
    names = [customer.name] + [i.display_name for i in identities]
    title = next((n for n in names if n), None) or next(
        (i.handle or i.address for i in identities), "Customer")
    parts: list[str] = []
    for ident in identities:
        parts += [p for p in (ident.display_name, ident.handle, ident.address) if p]
        if ident.address and "@" in ident.address:  # an email: its parts too (PostgreSQL
            parts.append(_PUNCT.sub(" ", ident.address))  # keeps the address one token)
        if ident.kind in ("phone", "sms", "whatsapp", "voice") or (
                ident.address and re.fullmatch(r"\+?[\d\s().-]{6,}", ident.address)):
            digits = _DIGITS.sub("", ident.address or "")
            if digits:
                parts.append(digits)
    body = " ".join(dict.fromkeys(p for p in [customer.name, *parts] if p))
    return document_row(
        customer.workspace_id, kind=Kind.CUSTOMER, ref_id=customer.id, title=title, body=body,
        language=None, customer_id=customer.id, version=_version(title, body),
        created_at=customer.created_at, now=now)


# --- writing them ---------------------------------------------------------------------------------


def _versions(session: Session, workspace_id: uuid.UUID, kind: str,
              ref_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    found: dict[uuid.UUID, str | None] = {}
    for start in range(0, len(ref_ids), CHUNK):
        chunk = list(ref_ids[start:start + CHUNK])
        found.update(session.execute(select(SearchDocument.ref_id, SearchDocument.version).where(
            SearchDocument.workspace_id == workspace_id, SearchDocument.kind == kind,
            SearchDocument.ref_id.in_(chunk))).all())
    return found


def _write_changed(session: Session, workspace_id: uuid.UUID, kind: str,
                   rows: list[dict[str, Any]], gone: Sequence[uuid.UUID] = ()) -> int:
    known = _versions(session, workspace_id, kind, [r["ref_id"] for r in rows])
    changed = [r for r in rows if r["ref_id"] not in known or known[r["ref_id"]] != r["version"]]
    for start in range(0, len(changed), CHUNK):
        backends.write(session, changed[start:start + CHUNK])
    backends.delete(session, workspace_id, kind, list(gone))
    return len(changed)


def index_customers(session: Session, workspace_id: uuid.UUID,
                    customer_ids: Iterable[uuid.UUID]) -> int:
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return 0
    now = utcnow()
    rows: list[dict[str, Any]] = []
    gone: list[uuid.UUID] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        customers = session.scalars(select(Customer).where(
            Customer.workspace_id == workspace_id, Customer.id.in_(chunk))).all()
        identities: dict[uuid.UUID, list[Identity]] = defaultdict(list)
        for ident in session.scalars(select(Identity).where(
                Identity.workspace_id == workspace_id, Identity.customer_id.in_(chunk))
                .order_by(Identity.created_at, Identity.id)):
            identities[ident.customer_id].append(ident)
        present = {c.id for c in customers}
        gone += [i for i in chunk if i not in present]
        for customer in customers:
            if customer.merged_into_id is not None:
                gone.append(customer.id)
            else:
                rows.append(customer_document(customer, identities[customer.id], now))
    return _write_changed(session, workspace_id, Kind.CUSTOMER, rows, gone)


def index_conversations(session: Session, workspace_id: uuid.UUID,
                        conversation_ids: Iterable[uuid.UUID], *,
                        message_ids: Sequence[uuid.UUID] | None = None) -> int:
    """Index the conversations, their customers and their messages (only `message_ids` when
    given, else every message, deleting the documents of messages gone or moved)."""
    conv_ids = list(dict.fromkeys(conversation_ids))
    if not conv_ids:
        return 0
    now = utcnow()
    convs = session.scalars(select(Conversation).where(
        Conversation.workspace_id == workspace_id, Conversation.id.in_(conv_ids))).all()
    customer_ids = [c.customer_id for c in convs if c.customer_id]
    names = dict(session.execute(select(Customer.id, Customer.name).where(
        Customer.id.in_(customer_ids))).all()) if customer_ids else {}
    conv_rows = [conversation_document(c, names.get(c.customer_id) if c.customer_id else None,
                                       now) for c in convs if c.merged_into_id is None]
    conv_gone = [c.id for c in convs if c.merged_into_id is not None]
    count = _write_changed(session, workspace_id, Kind.CONVERSATION, conv_rows, conv_gone)
    languages = {c.id: c.language for c in convs}
    stmt = select(Message).where(Message.workspace_id == workspace_id)
    if message_ids is not None:
        stmt = stmt.where(Message.id.in_(list(message_ids)))
    else:
        stmt = stmt.where(Message.conversation_id.in_(conv_ids))
    messages = session.scalars(stmt).all()
    rows = [message_document(m, languages.get(m.conversation_id), now) for m in messages
            if m.deleted_at is None]
    gone = [m.id for m in messages if m.deleted_at is not None]
    if message_ids is None:
        present = {m.id for m in messages}
        gone += [ref for ref in session.scalars(select(SearchDocument.ref_id).where(
            SearchDocument.workspace_id == workspace_id, SearchDocument.kind == Kind.MESSAGE,
            SearchDocument.conversation_id.in_(conv_ids))) if ref not in present]
    count += _write_changed(session, workspace_id, Kind.MESSAGE, rows, gone)
    return count + index_customers(session, workspace_id, customer_ids)


def reindex_workspace(session: Session, workspace_id: uuid.UUID) -> int:
    """Every conversation, message and customer of the workspace (after an upgrade, or to
    repair); documents already up to date are left alone."""
    count = 0
    conv_ids = list(session.scalars(select(Conversation.id).where(
        Conversation.workspace_id == workspace_id)))
    for start in range(0, len(conv_ids), 200):
        count += index_conversations(session, workspace_id, conv_ids[start:start + 200])
    customer_ids = list(session.scalars(select(Customer.id).where(
        Customer.workspace_id == workspace_id)))
    return count + index_customers(session, workspace_id, customer_ids)


# --- when -----------------------------------------------------------------------------------------

# events that can only add messages (the others may move, edit or delete them)
_ADDING = frozenset({ConversationEvent.MESSAGE_RECEIVED, ConversationEvent.REPLIED})


@conversations_hook(SEARCH_STAGE, "search")
def index_on_events(runtime: Runtime, session: Session,
                    batches: Sequence[ConversationEvents]) -> None:
    """The conversations of `conversation.event` jobs (one, or the group a worker runs
    together), their customers and their messages: those the events name when they can
    only add messages, else all. A failure here is logged and left to the sweep: it never
    undoes routing or rules."""
    by_workspace: dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID], list[uuid.UUID]]] \
        = {}
    for batch in batches:
        only_new, message_ids, everything = by_workspace.setdefault(
            batch.workspace_id, ([], [], []))
        ids = [e.get("message_id") for e in batch.events]
        if batch.names <= _ADDING and all(ids):
            only_new.append(batch.conversation_id)
            message_ids += [uuid.UUID(str(i)) for i in ids]
        else:
            everything.append(batch.conversation_id)
    try:
        with session.begin_nested():
            for workspace_id, (only_new, message_ids, everything) in by_workspace.items():
                if only_new:
                    index_conversations(session, workspace_id, only_new,
                                        message_ids=message_ids)
                if everything:
                    index_conversations(session, workspace_id, everything)
            schedule_sweep(session)
    except Exception:
        log.exception("search: indexing %d conversations failed", len(batches))


def _uuid7_floor(moment: datetime) -> uuid.UUID:
    """The smallest version-7 id of `moment` (ids are time-ordered: `db.base.new_id`)."""
    millis = int(moment.timestamp() * 1000)
    return uuid.UUID(int=(millis & 0xFFFF_FFFF_FFFF) << 80)


def sweep(session: Session, now: datetime | None = None, *,
          since: datetime | None = None) -> int:
    """Index the recent messages that have no document yet (by id range: ids are
    time-ordered), conversation by conversation: those of the last `SWEEP_WINDOW`, or from
    `since` when that is later."""
    floor_at = (now or utcnow()) - SWEEP_WINDOW
    floor = _uuid7_floor(max(floor_at, since) if since is not None else floor_at)
    missing = session.execute(
        select(Message.workspace_id, Message.conversation_id, Message.id)
        .outerjoin(SearchDocument, and_(SearchDocument.workspace_id == Message.workspace_id,
                                        SearchDocument.kind == Kind.MESSAGE,
                                        SearchDocument.ref_id == Message.id))
        .where(Message.id >= floor, SearchDocument.id.is_(None),
               Message.deleted_at.is_(None))).all()
    # a few queries per chunk of conversations, not per conversation: after a burst the
    # sweep may find thousands of messages whose conversations' jobs have not run yet
    by_ws: dict[uuid.UUID, dict[uuid.UUID, list[uuid.UUID]]] = defaultdict(
        lambda: defaultdict(list))
    for ws, conv, msg in missing:
        by_ws[ws][conv].append(msg)
    count = 0
    for ws, by_conv in by_ws.items():
        chunk: list[uuid.UUID] = []
        msg_ids: list[uuid.UUID] = []
        for conv, ids in by_conv.items():
            chunk.append(conv)
            msg_ids += ids
            if len(chunk) >= SWEEP_CHUNK or len(msg_ids) >= CHUNK * 4:
                count += index_conversations(session, ws, chunk, message_ids=msg_ids)
                chunk, msg_ids = [], []
        if chunk:
            count += index_conversations(session, ws, chunk, message_ids=msg_ids)
    return count


def schedule_sweep(session: Session, *, delay: timedelta = timedelta(0),
                   exclude: int | None = None) -> None:
    """Make sure one sweep is pending."""
    ensure_pending(session, SWEEP_JOB, delay=delay, exclude=exclude)


# When this process's last sweep started (it committed): the next one looks at the messages
# from a minute before it, not at the whole window again (after a burst or an import of many
# messages, the window holds hundreds of thousands of them, every few seconds). A message
# commits within a minute of the moment its id was made; a process's first sweep, or one after
# a failure, covers the whole window.
_SWEPT: dict[str, datetime] = {}  # database URL -> when
SWEEP_OVERLAP = timedelta(minutes=1)


@handler(SWEEP_JOB)
def sweep_job(runtime: Runtime, job: Job) -> None:
    started = utcnow()
    last = _SWEPT.get(runtime.settings.database_url)
    with runtime.db.session() as session:
        sweep(session, started, since=last - SWEEP_OVERLAP if last is not None else None)
        schedule_sweep(session, delay=timedelta(seconds=SWEEP_SECONDS), exclude=job.id)
    _SWEPT[runtime.settings.database_url] = started
