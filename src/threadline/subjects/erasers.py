"""The erasure registry: one entry per table, saying what erasing a customer does to it.

Every table of the schema has an entry, and every column that can hold text (strings, JSON,
bytes) is named in it: either scrubbed by the entry's eraser or kept, with the reason it holds
nothing about the customer. tests/subjects/test_registry.py compares this registry with the
migrated database, so a new table or column fails the suite until someone decides here what
erasure does with it.

Erasers run in the order of ERASERS (messages lose their identity before identities go).
Provider ids (message ids, thread keys, raw event ids) are replaced by a salted one-way hash
whose salt is thrown away: the unique constraints still hold and nothing links back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Integer,
    LargeBinary,
    Select,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    delete,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import column as core_column
from sqlalchemy import table as core_table
from sqlalchemy.orm import InstrumentedAttribute, Session

from threadline.contacts.models import Consent, Customer, Identity, MergeSuggestion
from threadline.conversations.approvals import ReplyApproval
from threadline.conversations.models import Conversation, Message, Status
from threadline.db.base import UTCDateTime, utcnow
from threadline.db.models import load_all
from threadline.events.models import AuditEvent, InboundEvent, OutboxJob, StreamEvent, WorkStatus
from threadline.events.names import Live
from threadline.hops.records.models import Callback, DetailRequest, Hop, HopTaker, ShortLink
from threadline.subjects.matching import Matcher
from threadline.subjects.subject import Subject
from threadline.workspace.models import TriageModelRecord

CHUNK = 500
LABEL_ACTION = "conversation.classified"  # a person's label: training data (inbound.learning)
HUMAN_ACTORS = ("agent", "token")
ERASED = "erased"
ERASED_ACTION = Live.CUSTOMER_ERASED
EXPORTED_ACTION = "customer.exported"
REQUEST_ACTIONS = (ERASED_ACTION, EXPORTED_ACTION)  # the requests' own records: kept


@dataclass
class Erasure:
    """One erasure in progress: the subject, a throwaway salt and what each eraser did."""

    subject: Subject
    salt: bytes
    now: datetime = field(default_factory=utcnow)
    matcher: Matcher | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def token(self, value: str | None) -> str | None:
        if value is None:
            return None
        digest = hashlib.sha256(self.salt + value.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{ERASED}:{digest[:40]}"

    def match(self) -> Matcher:
        if self.matcher is None:
            self.matcher = Matcher.of(self.subject)
        return self.matcher


EraseFn = Callable[[Session, Erasure], int]


@dataclass(frozen=True)
class Eraser:
    table: str
    run: EraseFn | None  # None: the table holds nothing about customers
    scrubbed: tuple[str, ...] = ()  # text columns the eraser clears or replaces
    kept: dict[str, str] = field(default_factory=dict)  # text column -> why it is kept
    deletes_rows: bool = False  # his rows are deleted (kept columns are other people's)


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _update(session: Session, column: InstrumentedAttribute[Any], ids: Sequence[Any],
            values: dict[str, Any]) -> int:
    done = 0
    for chunk in _chunks(ids):
        result: Any = session.execute(update(column.class_).where(column.in_(chunk))
                                      .values(**values).execution_options(
                                          synchronize_session=False))
        done += int(result.rowcount or 0)
    return done


def _delete(session: Session, column: Any, ids: Sequence[Any]) -> int:
    """Delete the rows whose `column` (a model's attribute, or a named table's column) is in
    `ids`, in chunks."""
    target = column.class_ if isinstance(column, InstrumentedAttribute) else column.table
    done = 0
    for chunk in _chunks(ids):
        result: Any = session.execute(delete(target).where(column.in_(chunk))
                                      .execution_options(synchronize_session=False))
        done += int(result.rowcount or 0)
    return done


def _mentioning(session: Session, stmt: Select[Any], erasure: Erasure) -> list[Any]:
    """Ids of the rows of `stmt` (selecting id, document) whose document mentions him."""
    matcher = erasure.match()
    return [row_id for row_id, document in session.execute(
        stmt.execution_options(yield_per=1000)) if matcher.document(document)]


# --- erasers ----------------------------------------------------------------------------------


def erase_triage_models(session: Session, e: Erasure) -> int:
    """A workspace model trained after a person labelled one of his conversations may carry
    his words in its vocabulary: it is deleted (the workspace falls back to the rules or its
    older model until it retrains)."""
    first_label = None
    for chunk in _chunks([str(c) for c in e.subject.conversation_ids]):
        at = session.scalar(select(func.min(AuditEvent.created_at)).where(
            AuditEvent.workspace_id == e.subject.workspace_id,
            AuditEvent.action == LABEL_ACTION, AuditEvent.subject_type == "conversation",
            AuditEvent.subject_id.in_(chunk), AuditEvent.actor_type.in_(HUMAN_ACTORS)))
        if at is not None and (first_label is None or at < first_label):
            first_label = at
    if first_label is None:
        return 0
    ids = list(session.scalars(select(TriageModelRecord.id).where(
        TriageModelRecord.workspace_id == e.subject.workspace_id,
        TriageModelRecord.created_at >= first_label)))
    return _delete(session, TriageModelRecord.id, ids)


def erase_inbound_events(session: Session, e: Erasure) -> int:
    """Raw provider events that carry him (his messages, his handle, his address), on the
    accounts he wrote through: payload and error emptied, the provider's event id hashed.
    A raw event batching several senders loses the others' copy too (their messages stay)."""
    if not e.subject.account_ids:
        return 0
    ids = _mentioning(session, select(InboundEvent.id, InboundEvent.payload).where(
        InboundEvent.workspace_id == e.subject.workspace_id,
        InboundEvent.channel_account_id.in_(e.subject.account_ids)), e)
    for row_id in ids:
        event = session.get(InboundEvent, row_id)
        if event is None:
            continue
        event.provider_event_id = e.token(event.provider_event_id) or ERASED
        event.payload = {}
        event.last_error = None
        if event.status == WorkStatus.PENDING:
            event.status = WorkStatus.DONE
            event.processed_at = e.now
    session.flush()
    return len(ids)


def _delete_mentioning(session: Session, e: Erasure, model: Any) -> int:
    stmt = select(model.id, model.payload).where(model.workspace_id == e.subject.workspace_id)
    if e.subject.since is not None:
        stmt = stmt.where(model.created_at >= e.subject.since)
    return _delete(session, model.id, _mentioning(session, stmt, e))


def erase_outbox(session: Session, e: Erasure) -> int:
    """Jobs about him (a send, a callback to place) are deleted: pending ones never run."""
    return _delete_mentioning(session, e, OutboxJob)


def erase_stream_events(session: Session, e: Erasure) -> int:
    """Live events naming him are deleted (desktops that missed them reload)."""
    return _delete_mentioning(session, e, StreamEvent)


def _about_him(e: Erasure) -> list[ColumnElement[bool]]:
    s = e.subject
    out = []
    for subject_type, ids in (("customer", s.customer_ids), ("conversation", s.conversation_ids),
                              ("message", s.message_ids)):
        for chunk in _chunks([str(i) for i in ids]):
            out.append(and_(AuditEvent.subject_type == subject_type,
                            AuditEvent.subject_id.in_(chunk)))
    return out


def erase_audit_events(session: Session, e: Erasure) -> int:
    """The audit about him, his conversations and messages is deleted; other records that
    name him (a merge suggestion's reason) keep their action and lose their data. The
    records of the requests themselves (exported, erased: who, when, counts) are kept."""
    ws = e.subject.workspace_id
    done = 0
    for clause in _about_him(e):
        result: Any = session.execute(delete(AuditEvent).where(
            AuditEvent.workspace_id == ws, AuditEvent.action.not_in(REQUEST_ACTIONS), clause)
                                      .execution_options(synchronize_session=False))
        done += int(result.rowcount or 0)
    needles = [str(c) for c in e.subject.customer_ids] + sorted(e.subject.coordinates)
    if needles:
        ids = _mentioning(session, select(AuditEvent.id, AuditEvent.data).where(
            AuditEvent.workspace_id == ws, AuditEvent.action.not_in(REQUEST_ACTIONS), or_(*[
                func.lower(cast(AuditEvent.data, Text)).contains(n.lower(), autoescape=True)
                for n in needles])), e)
        done += _update(session, AuditEvent.id, ids, {"data": {}})
    return done


def erase_messages(session: Session, e: Erasure) -> int:
    """Every message of his conversations (his, the agents' answers to him, internal notes)
    and every message written from his identities elsewhere: text, markup, subject,
    attachments' metadata, triage spans and provider metadata cleared; provider ids hashed.
    The rows stay (counts, response times, the other side of a thread)."""
    table = Message.__table__
    stmt = table.update().where(table.c.id == bindparam("_id")).values(  # type: ignore[attr-defined]
        text="", html=None, subject=None, attachments=[], triage={}, meta={},
        delivery_error=None, identity_id=None, provider_id=bindparam("_provider"),
        reply_to_provider_id=bindparam("_reply_to"), root_provider_id=bindparam("_root"),
        thread_key=bindparam("_thread"))
    done = 0
    for chunk in _chunks(e.subject.message_ids):
        rows = session.execute(select(Message.id, Message.provider_id,
                                      Message.reply_to_provider_id, Message.root_provider_id,
                                      Message.thread_key).where(Message.id.in_(chunk))).all()
        if rows:
            session.execute(stmt, [{"_id": i, "_provider": e.token(p), "_reply_to": e.token(r),
                                    "_root": e.token(t), "_thread": e.token(k)}
                                   for i, p, r, t, k in rows])
        done += len(rows)
    return done


# The media table (threadline.media, a layer above this one), named without its model.
_ATTACHMENTS = core_table("attachments", core_column("id", Uuid()),
                          core_column("conversation_id", Uuid()),
                          core_column("message_id", Uuid()))


def erase_attachments(session: Session, e: Erasure) -> int:
    """The files of his conversations and messages (their rows: names, provider ids; the
    bytes are addressed by hash and shared, and a blob no row names is unreachable)."""
    done = 0
    for column, ids in ((_ATTACHMENTS.c.conversation_id, e.subject.conversation_ids),
                        (_ATTACHMENTS.c.message_id, e.subject.message_ids)):
        for chunk in _chunks(ids):
            result: Any = session.execute(delete(_ATTACHMENTS).where(column.in_(chunk)))
            done += int(result.rowcount or 0)
    return done


def erase_reply_approvals(session: Session, e: Erasure) -> int:
    """The reviews of replies to him (held public replies): the text as written and as
    approved, and a rejection's reason, cleared; who decided and when stay."""
    return _update(session, ReplyApproval.message_id, list(e.subject.message_ids),
                   {"text": "", "edited_text": None, "reason": None})


def erase_conversations(session: Session, e: Erasure) -> int:
    """Subject and labels (free text) cleared; active conversations closed (nobody can
    answer an erased customer)."""
    ids = e.subject.conversation_ids
    done = _update(session, Conversation.id, ids, {"subject": None, "labels": []})
    for chunk in _chunks(ids):
        session.execute(update(Conversation).where(
            Conversation.id.in_(chunk), Conversation.status.in_(Status.ACTIVE)).values(
            status=Status.CLOSED, resolved_at=e.now, updated_at=e.now)
            .execution_options(synchronize_session=False))
    return done


def erase_hops(session: Session, e: Erasure) -> int:
    """Hop facts (the private-reply recipient, the drafted follow-up) cleared."""
    return _update(session, Hop.id, e.subject.hop_ids, {"meta": {}})


def erase_short_links(session: Session, e: Erasure) -> int:
    """Links lose their facts and die: a code still in his hands opens nothing."""
    done = _update(session, ShortLink.id, e.subject.link_ids, {"meta": {}, "expires_at": e.now})
    for chunk in _chunks(e.subject.link_ids):
        session.execute(update(ShortLink).where(ShortLink.id.in_(chunk),
                                                ShortLink.used_at.is_(None))
                        .values(used_at=e.now).execution_options(synchronize_session=False))
    return done


def erase_callbacks(session: Session, e: Erasure) -> int:
    """Number, outcome note and call id cleared; open callbacks canceled (their outbox jobs
    are deleted by erase_outbox)."""
    done = 0
    for chunk in _chunks(e.subject.callback_ids):
        for callback in session.scalars(select(Callback).where(Callback.id.in_(chunk))):
            callback.phone = ""
            callback.outcome = None
            callback.call_provider_id = e.token(callback.call_provider_id)
            callback.meta = {}
            if callback.state in ("requested", "scheduled", "placing", "placed"):
                callback.state = "canceled"
            done += 1
    session.flush()
    return done


_C = core_column


# Listening's posts belong to a flow above this layer (threadline.listening): named here.
LISTENED_POSTS = core_table(
    "listened_posts", _C("id", Uuid()), _C("workspace_id", Uuid()),
    _C("conversation_id", Uuid()), _C("author_id", String()), _C("provider_id", String()))


def erase_listened_posts(session: Session, e: Erasure) -> int:
    """His public posts that listening kept (listened, filtered, converted): the rows go,
    found by his conversations, his provider user ids and his messages' provider ids."""
    t = LISTENED_POSTS.c
    found: set[Any] = set()
    for key, values in ((t.conversation_id, list(e.subject.conversation_ids)),
                        (t.author_id, sorted(e.subject.coordinates)),
                        (t.provider_id, sorted(e.subject.provider_ids))):
        for chunk in _chunks(values):
            found.update(session.scalars(select(t.id).where(
                t.workspace_id == e.subject.workspace_id, key.in_(chunk))))
    return _delete(session, t.id, sorted(found, key=str))


# The search index (threadline.search): named here, not imported. Its documents about him
# (his customer record, his conversations and their messages, as masked copies) go; on
# SQLite the FTS5 index is then rewritten, so no term of his stays in an old segment.
SEARCH_DOCUMENTS = core_table(
    "search_documents", _C("id", Integer()), _C("workspace_id", Uuid()), _C("kind", String()),
    _C("ref_id", Uuid()), _C("conversation_id", Uuid()), _C("customer_id", Uuid()))


def erase_search_documents(session: Session, e: Erasure) -> int:
    t = SEARCH_DOCUMENTS.c
    found: set[Any] = set()
    for key, values in ((t.customer_id, list(e.subject.customer_ids)),
                        (t.conversation_id, list(e.subject.conversation_ids)),
                        (t.ref_id, list(e.subject.customer_ids))):
        for chunk in _chunks(values):
            found.update(session.scalars(select(t.id).where(
                t.workspace_id == e.subject.workspace_id, key.in_(chunk))))
    done = _delete(session, t.id, sorted(found))
    if done and session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    return done


# The CSAT tables belong to a flow above this layer (threadline.csat): named here, not imported.
CSAT_SURVEYS = core_table(
    "csat_surveys", _C("id", Uuid()), _C("workspace_id", Uuid()),
    _C("conversation_id", Uuid()), _C("customer_id", Uuid()), _C("channel", String()),
    _C("channel_account_id", Uuid()), _C("method", String()), _C("status", String()),
    _C("sent_at", UTCDateTime()), _C("answered_at", UTCDateTime()), _C("score", Integer()),
    _C("comment", Text()), _C("token_hash", String()))
CSAT_EXPORTED = [c for c in CSAT_SURVEYS.c if c.name != "token_hash"]  # a live secret's hash
CSAT_DETAILS = core_table("csat_survey_details", _C("survey_id", Uuid()),
                          _C("identity_id", Uuid()), _C("answer_provider_id", String()))


def csat_survey_ids(session: Session, subject: Subject) -> list[Any]:
    """His surveys: about his conversations, or sent to him."""
    found: set[Any] = set()
    for key, ids in ((CSAT_SURVEYS.c.conversation_id, subject.conversation_ids),
                     (CSAT_SURVEYS.c.customer_id, subject.customer_ids)):
        for chunk in _chunks(ids):
            found.update(session.scalars(select(CSAT_SURVEYS.c.id).where(
                CSAT_SURVEYS.c.workspace_id == subject.workspace_id, key.in_(chunk))))
    return sorted(found, key=str)


def erase_csat_surveys(session: Session, e: Erasure) -> int:
    """His comments cleared and his survey links dead; the scores, methods and times stay
    (the CSAT figures), as a message's counts do."""
    ids = csat_survey_ids(session, e.subject)
    done = 0
    for chunk in _chunks(ids):
        result: Any = session.execute(update(CSAT_SURVEYS).where(CSAT_SURVEYS.c.id.in_(chunk))
                                      .values(comment=None, token_hash=None))
        done += int(result.rowcount or 0)
    return done


def erase_csat_details(session: Session, e: Erasure) -> int:
    """Who may answer (his identity) forgotten; the answer's provider id hashed."""
    ids = csat_survey_ids(session, e.subject)
    done = 0
    for chunk in _chunks(ids):
        rows = session.execute(select(CSAT_DETAILS.c.survey_id,
                                      CSAT_DETAILS.c.answer_provider_id)
                               .where(CSAT_DETAILS.c.survey_id.in_(chunk))).all()
        for survey_id, provider_id in rows:
            session.execute(update(CSAT_DETAILS).where(CSAT_DETAILS.c.survey_id == survey_id)
                            .values(identity_id=None, answer_provider_id=e.token(provider_id)))
        done += len(rows)
    return done


# The customer data lookup's cache (threadline.integrations.lookup): named here, not imported.
LOOKUP_CACHE = core_table("lookup_cache", _C("customer_id", Uuid()))


def erase_lookup_cache(session: Session, e: Erasure) -> int:
    """What the brand's own system said about him: the cached answers go."""
    return _delete(session, LOOKUP_CACHE.c.customer_id, e.subject.customer_ids)


# The CRM sync's tables (threadline.integrations.crm): named here, not imported. His links
# (the CRM contact id and the fields pulled), his conversations' CRM record ids and his sync
# log go; the records in the CRM itself are the brand's to erase there.
CRM_LINKS = core_table("crm_links", _C("customer_id", Uuid()))
CRM_ACTIVITIES = core_table("crm_activities", _C("conversation_id", Uuid()))
CRM_SYNC_LOG = core_table("crm_sync_log", _C("customer_id", Uuid()),
                          _C("conversation_id", Uuid()))


def erase_crm_links(session: Session, e: Erasure) -> int:
    return _delete(session, CRM_LINKS.c.customer_id, e.subject.customer_ids)


def erase_crm_activities(session: Session, e: Erasure) -> int:
    return _delete(session, CRM_ACTIVITIES.c.conversation_id, e.subject.conversation_ids)


def erase_crm_sync_log(session: Session, e: Erasure) -> int:
    return (_delete(session, CRM_SYNC_LOG.c.customer_id, e.subject.customer_ids)
            + _delete(session, CRM_SYNC_LOG.c.conversation_id,
                            e.subject.conversation_ids))


# Outbound webhooks' log (threadline.integrations.webhooks): named here, not imported. A
# delivery whose body names him goes with its attempts (what was already sent to the brand's
# systems is the brand's to erase there).
WEBHOOK_DELIVERIES = core_table("webhook_deliveries", _C("id", Integer()),
                                _C("workspace_id", Uuid()), _C("body", Text()),
                                _C("created_at", UTCDateTime()))
WEBHOOK_ATTEMPTS = core_table("webhook_attempts", _C("delivery_id", Integer()))


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def erase_webhook_deliveries(session: Session, e: Erasure) -> int:
    d = WEBHOOK_DELIVERIES.c
    stmt = select(d.id, d.body).where(d.workspace_id == e.subject.workspace_id)
    if e.subject.since is not None:
        stmt = stmt.where(d.created_at >= e.subject.since)
    matcher = e.match()
    ids = [row_id for row_id, body in session.execute(stmt.execution_options(yield_per=1000))
           if matcher.document(_json_or_text(body))]
    done = 0
    for chunk in _chunks(ids):
        session.execute(delete(WEBHOOK_ATTEMPTS).where(WEBHOOK_ATTEMPTS.c.delivery_id.in_(chunk)))
        result: Any = session.execute(delete(WEBHOOK_DELIVERIES).where(d.id.in_(chunk)))
        done += int(result.rowcount or 0)
    return done


def erase_merge_suggestions(session: Session, e: Erasure) -> int:
    return _delete(session, MergeSuggestion.id, e.subject.suggestion_ids)


def erase_consents(session: Session, e: Erasure) -> int:
    session.execute(update(Hop).where(Hop.consent_id.in_(e.subject.consent_ids))
                    .values(consent_id=None).execution_options(synchronize_session=False))
    return _delete(session, Consent.id, e.subject.consent_ids)


def erase_identities(session: Session, e: Erasure) -> int:
    return _delete(session, Identity.id, e.subject.identity_ids)


def erase_hop_takers(session: Session, e: Erasure) -> int:
    """Link takers who claimed to be him, or who were him (merged in): the rows go, with the
    proof code's hash and the facts of the proof."""
    ids = list(e.subject.customer_ids)
    done = 0
    for chunk in _chunks(ids):
        result: Any = session.execute(
            delete(HopTaker).where(or_(HopTaker.claimed_customer_id.in_(chunk),
                                       HopTaker.customer_id.in_(chunk)))
            .execution_options(synchronize_session=False))
        done += int(result.rowcount or 0)
    return done


def erase_detail_requests(session: Session, e: Erasure) -> int:
    """What he gave on secure forms in his conversations: the rows go, values and all."""
    return _delete(session, DetailRequest.conversation_id, e.subject.conversation_ids)


def erase_quality_reviews(session: Session, e: Erasure) -> int:
    """Reviews of his conversations lose the reviewer's comment (it may quote him); the
    answers and the score (about the agent's work) stay for the QA figures. The table is
    read by name: quality reviews sit above this layer."""
    reviews = load_all().metadata.tables["quality_reviews"]
    done = 0
    for chunk in _chunks(e.subject.conversation_ids):
        result: Any = session.execute(reviews.update().where(
            reviews.c.conversation_id.in_(chunk)).values(comment=None))
        done += int(result.rowcount or 0)
    return done


def erase_customers(session: Session, e: Erasure) -> int:
    """The rows stay (his conversations and merges point at them), with nothing in them."""
    return _update(session, Customer.id, e.subject.customer_ids, {
        "name": None, "language": None, "timezone": None, "preferred_channel": None,
        "notes": None, "custom_fields": {}, "external_ids": {}, "updated_at": e.now})


def _none(**kept: str) -> dict[str, str]:
    return kept


ENUM = "a fixed vocabulary value"
ID = "an id, code or hash of Threadline's own"
AGENTS = "about agents and the brand, not customers"
SEARCH_INDEX = ("the full-text index of search_documents, rewritten without his terms when "
                "his documents are erased")
REQUEST_ID = ("the id of the web request that caused it: a random id, or the caller's own "
              "X-Request-ID token (a provider, an integrator; letters, digits, . _ -)")

ERASERS: tuple[Eraser, ...] = (
    Eraser("triage_models", erase_triage_models, deletes_rows=True,
           kept=_none(data="models trained before his first label never saw his texts",
                      report="scores and counts")),
    Eraser("inbound_events", erase_inbound_events,
           scrubbed=("payload", "last_error", "provider_event_id"),
           kept=_none(status=ENUM, request_id=REQUEST_ID,
                      claim_keys="hashes of what a running batch touches, cleared when "
                                 "the event is done")),
    Eraser("outbox", erase_outbox, deletes_rows=True,
           kept=_none(name=ENUM, status=ENUM, payload="other jobs are about other people",
                      last_error="other jobs' errors", request_id=REQUEST_ID)),
    Eraser("stream_events", erase_stream_events, deletes_rows=True,
           kept=_none(name=ENUM, payload="other events are about other people")),
    Eraser("audit_events", erase_audit_events, deletes_rows=True, scrubbed=("data",),
           kept=_none(action=ENUM, subject_type=ENUM, subject_id=ID, actor_type=ENUM,
                      actor_id="the agent or token that acted; records about him are deleted")),
    Eraser("messages", erase_messages,
           scrubbed=("text", "html", "subject", "attachments", "triage", "meta",
                     "delivery_error", "provider_id", "reply_to_provider_id",
                     "root_provider_id", "thread_key"),
           kept=_none(channel=ENUM, direction=ENUM, visibility=ENUM, kind=ENUM, delivery=ENUM,
                      author_type=ENUM)),
    Eraser("attachments", erase_attachments, deletes_rows=True,
           kept=_none(name="other customers' files", provider_media_id=ID, source=ENUM,
                      sha256=ID, mime_type=ENUM, declared_type=ENUM, kind=ENUM,
                      storage_key=ID, thumbnail_key=ID, flags="other customers' files",
                      created_by=ID)),
    Eraser("reply_approvals", erase_reply_approvals, scrubbed=("text", "edited_text", "reason"),
           kept=_none(author_type=ENUM, author_actor=ID, state=ENUM, send_job=ENUM,
                      held_for="why the policy held a reply (policy rule names)",
                      job_payload="ids of Threadline's own (hops) and a role")),
    Eraser("conversations", erase_conversations, scrubbed=("subject", "labels"),
           kept=_none(status=ENUM, origin_channel=ENUM, origin_visibility=ENUM, category=ENUM,
                      sentiment=ENUM, language=ENUM, relevance=ENUM, work_kind=ENUM, routed_by=ENUM,
                      required_skills="skill names of the workspace's own",
                      routed_reason="the rule, team and agent names the router chose")),
    Eraser("hops", erase_hops, scrubbed=("meta",),
           kept=_none(from_channel=ENUM, from_visibility=ENUM, to_channel=ENUM,
                      to_visibility=ENUM, reason=ENUM, method=ENUM)),
    Eraser("short_links", erase_short_links, scrubbed=("meta",),
           kept=_none(code_hash=ID, purpose=ENUM)),
    Eraser("callbacks", erase_callbacks,
           scrubbed=("phone", "outcome", "call_provider_id", "meta"), kept=_none(state=ENUM)),
    Eraser("csat_surveys", erase_csat_surveys, scrubbed=("comment", "token_hash"),
           kept=_none(channel=ENUM, method=ENUM, status=ENUM)),
    Eraser("csat_survey_details", erase_csat_details, scrubbed=("answer_provider_id",),
           kept=_none(question="the brand's question, written by admins",
                      answer_source=ENUM)),
    # The self-service bot's records: ids, states and scores, no text of the customer's
    # (threadline.selfservice; its rows go with the conversation when it is deleted).
    Eraser("selfservice_sessions", None,
           kept=_none(channel=ENUM, state=ENUM, reason=ENUM)),
    Eraser("selfservice_replies", None, kept=_none(kind=ENUM, outcome=ENUM)),
    Eraser("lookup_cache", erase_lookup_cache, deletes_rows=True,
           kept=_none(lookup_id=ID, outcome=ENUM, error_code=ENUM,
                      message="other customers' answers: an HTTP status or a refusal",
                      data="other customers' answers")),
    Eraser("lookup_endpoints", None,
           kept=_none(url="the brand's own endpoint",
                      secret="the brand's credentials")),  # noqa: S106 (a reason)
    Eraser("crm_links", erase_crm_links, deletes_rows=True,
           kept=_none(external_id="other customers' CRM contact ids", matched_by=ENUM,
                      fields="other customers' pulled CRM fields")),
    Eraser("crm_activities", erase_crm_activities, deletes_rows=True,
           kept=_none(external_id="other conversations' CRM record ids",
                      contact_external_id="other customers' CRM contact ids", state=ENUM)),
    Eraser("crm_sync_log", erase_crm_sync_log, deletes_rows=True,
           kept=_none(action=ENUM, outcome=ENUM,
                      detail="other customers' sync outcomes: codes and CRM ids")),
    Eraser("crm_connections", None,
           kept=_none(kind=ENUM, name=AGENTS, base_url="the brand's CRM",
                      contact_fields="the CRM's field names, chosen by admins",
                      account_fields="the CRM's field names, chosen by admins",
                      settings="the CRM's API version")),
    Eraser("webhook_deliveries", erase_webhook_deliveries, deletes_rows=True,
           kept=_none(event_id=ID, event_type=ENUM, ordering_key=ID, status=ENUM,
                      body="other customers' events", last_error="a receiver's answer: "
                      "an HTTP status or a network error")),
    Eraser("webhook_attempts", None,
           kept=_none(error="a receiver's answer: an HTTP status or a network error")),
    Eraser("webhook_subscriptions", None,
           kept=_none(url="the brand's own endpoint", description=AGENTS,
                      event_types="event names (a fixed vocabulary)",
                      secret="the brand's credentials",  # noqa: S106 (a reason)
                      status=ENUM, disabled_reason="a receiver's answers")),
    Eraser("detail_requests", erase_detail_requests, deletes_rows=True,
           kept=_none(fields="names of the fields asked (a fixed vocabulary)",
                      note="other customers' requests", requested_by=ID,
                      values="other customers' answers")),
    Eraser("hop_takers", erase_hop_takers, deletes_rows=True,
           kept=_none(channel=ENUM, state=ENUM, proven_by=ENUM,
                      proof_hash="other takers' (a hash of a code of Threadline's own)",
                      meta="other takers' proof facts")),
    Eraser("merge_suggestions", erase_merge_suggestions, deletes_rows=True,
           kept=_none(reason="other customers' suggestions", status=ENUM)),
    Eraser("customer_merges", None,
           kept=_none(moved="ids of rows that moved (identities and consents are deleted)",
                      actor_id=ID)),
    Eraser("consents", erase_consents, deletes_rows=True,
           kept=_none(kind=ENUM, address="other customers' consents", purpose=ENUM,
                      method=ENUM, wording="other customers' consents",
                      source="other customers' consents")),
    Eraser("identities", erase_identities, deletes_rows=True,
           kept=_none(kind=ENUM, address="other customers' identities",
                      handle="other customers' identities",
                      display_name="other customers' identities", evidence=ENUM)),
    Eraser("customers", erase_customers,
           scrubbed=("name", "language", "timezone", "preferred_channel", "notes",
                     "custom_fields", "external_ids")),
    Eraser("workspaces", None, kept=_none(name=AGENTS, slug=AGENTS, settings=AGENTS)),
    Eraser("channel_accounts", None,
           kept=_none(kind=ENUM, name=AGENTS, config="the brand's credentials",
                      poll_cursor="a provider position (a UID, a since-id), not a person")),
    Eraser("teams", None, kept=_none(name=AGENTS, skills=AGENTS)),
    Eraser("team_members", None, kept=_none(skills=AGENTS)),
    Eraser("routing_rules", None,
           kept=_none(name=AGENTS, conditions="the brand's rules (channels, keywords, "
                      "categories), written by admins", required_skills=AGENTS)),
    Eraser("agents", None, kept=_none(email=AGENTS, name=AGENTS, role=ENUM,
                                      password_hash=AGENTS, skills=AGENTS, presence=ENUM,
                                      totp_secret=AGENTS,
                                      phone="the agent's own work phone (click-to-call)")),
    Eraser("api_tokens", None, kept=_none(token_hash=ID, prefix=ID, role=ENUM, name=AGENTS)),
    Eraser("templates", None, kept=_none(name=AGENTS, body="the brand's canned answers",
                                         channels=ENUM, visibilities=ENUM, approval=ENUM)),
    Eraser("whatsapp_templates", None,
           kept=_none(provider_id=ID, name="the brand's WhatsApp template names",
                      language=ENUM, status=ENUM, category=ENUM,
                      components="the brand's template texts, as WhatsApp approved them")),
    Eraser("agent_sessions", None, kept=_none(stage=ENUM)),
    Eraser("login_attempts", None, kept=_none(key="a hash of an agent's email or address")),
    Eraser("automation_rules", None,
           kept=_none(name=AGENTS, trigger=ENUM, conditions="the brand's rules (channels, "
                      "keywords, categories), written by admins", actions=AGENTS)),
    Eraser("automation_runs", None,
           kept=_none(event=ENUM, status=ENUM, result="action types, ids of Threadline's own "
                      "and codes", error="an action type and a typed error's code and "
                      "message, never personal data")),
    Eraser("sla_calendars", None,
           kept=_none(name=AGENTS, time_zone=ENUM, hours="the brand's opening hours",
                      holidays="the brand's holiday dates")),
    Eraser("sla_calendar_teams", None),
    Eraser("sla_policies", None,
           kept=_none(name=AGENTS, priorities=ENUM, channels=ENUM, visibilities=ENUM,
                      categories=ENUM, team_ids=ID, escalation=ENUM)),
    Eraser("sla_clocks", None, kept=_none(response_kind=ENUM, paused=ENUM)),
    Eraser("sla_outcomes", None, kept=_none(target=ENUM, status=ENUM)),
    Eraser("quality_scorecards", None, kept=_none(name=AGENTS, description=AGENTS)),
    Eraser("quality_scorecard_versions", None,
           kept=_none(criteria="the brand's review criteria, written by admins")),
    Eraser("quality_reviews", erase_quality_reviews, scrubbed=("comment",),
           kept=_none(channel=ENUM, reason=ENUM, status=ENUM,
                      answers="the scorecard's criteria and the reviewer's answer to each "
                      "(yes, no, n.a., 1-5): about the agent's work")),
    Eraser("conversation_facts", None,
           kept=_none(category=ENUM, relevance=ENUM, origin_channel=ENUM,
                      origin_visibility=ENUM,
                      origin_source="an off-platform origin of the brand's own (store, "
                      "order page, website, a campaign's name)",
                      last_channel=ENUM, last_visibility=ENUM, resolved_channel=ENUM,
                      resolved_visibility=ENUM,
                      journey="channel:visibility names joined with '>'", status=ENUM,
                      sentiment_start=ENUM, sentiment_end=ENUM,
                      cursor_key="an id of Threadline's own (a message's or an audit row's)")),
    Eraser("conversation_episodes", None, kept=_none(reason=ENUM)),
    Eraser("conversation_segments", None, kept=_none(channel=ENUM, visibility=ENUM)),
    Eraser("agent_activity", None, kept=_none(kind=ENUM)),
    Eraser("kb_articles", None,
           kept=_none(slug=AGENTS, title=AGENTS, body=AGENTS, category=AGENTS,
                      language=ENUM, tags=AGENTS, questions=AGENTS, status=ENUM)),
    Eraser("kb_article_revisions", None,
           kept=_none(title=AGENTS, body=AGENTS, author_type=ENUM, author_id=ID,
                      author_name=AGENTS)),
    Eraser("kb_article_votes", None,
           kept=_none(voter="a hash of a random browser cookie, linked to no customer")),
    Eraser("incidents", None,
           kept=_none(status=ENUM, origin=ENUM, title=AGENTS, answer_state=ENUM,
                      terms="words shared by at least three posts of a burst, never one "
                      "customer's words alone", draft_text=AGENTS, answer_text=AGENTS,
                      followup_text=AGENTS, pace="send slots per channel account (times)")),
    Eraser("incident_posts", None,  # ids only: his messages are erased where they are
           kept=_none(channel=ENUM, state=ENUM, reason=ENUM)),
    Eraser("incident_events", None,
           kept=_none(kind=ENUM, data="counts, versions and flags of the incident's timeline")),
    Eraser("listening_rules", None, kept=_none(kind=ENUM, value=AGENTS)),
    Eraser("listening_settings", None,
           kept=_none(search_cursors="the newest post id a search saw, per account")),
    Eraser("listened_posts", erase_listened_posts, deletes_rows=True,
           kept=_none(channel=ENUM, provider_id="other people's posts", in_reply_to=ID,
                      author_id="other people's posts", author_handle="other people's posts",
                      author_name="other people's posts", text="other people's posts",
                      source=ENUM, matched="the workspace's own rules",
                      competitor="the workspace's own rules", category=ENUM, sentiment=ENUM,
                      state=ENUM, noise_reason=ENUM, item="other people's posts")),
    Eraser("search_documents", erase_search_documents, deletes_rows=True, scrubbed=("tsv",),
           kept=_none(kind=ENUM, title="other customers' documents and the brand's articles",
                      body="other customers' documents and the brand's articles",
                      language=ENUM, channel=ENUM, visibility=ENUM, author_type=ENUM,
                      version=ID)),
    # SQLite's FTS5 index over search_documents (migration 0032): derived from it, rewritten
    # by erase_search_documents
    Eraser("search_fts", None),
    Eraser("search_fts_data", None, kept=_none(block=SEARCH_INDEX)),
    Eraser("search_fts_idx", None, kept=_none(term=SEARCH_INDEX)),
    Eraser("search_fts_docsize", None, kept=_none(sz="token counts per document")),
    Eraser("search_fts_config", None, kept=_none(k=SEARCH_INDEX, v=SEARCH_INDEX)),
    Eraser("alembic_version", None, kept=_none(version_num=ID)),
)


def registry() -> dict[str, Eraser]:
    return {eraser.table: eraser for eraser in ERASERS}


def _holds_text(column_type: Any) -> bool:
    return isinstance(column_type, String | JSON | LargeBinary | Text)


def uncovered(engine: Engine) -> list[str]:
    """Tables and text columns of the live schema that the registry does not account for
    (empty when every one is decided). Column types come from the models when the table has
    one (SQLite reflects ids as CHAR), from the database otherwise."""
    models = load_all().metadata.tables
    known = registry()
    missing: list[str] = []
    inspector = inspect(engine)
    for table in sorted(inspector.get_table_names()):
        eraser = known.get(table)
        if eraser is None:
            missing.append(f"{table}: no eraser")
            continue
        model = models.get(table)
        for column in inspector.get_columns(table):
            name = column["name"]
            kind = model.c[name].type if model is not None and name in model.c \
                else column["type"]
            if not _holds_text(kind):
                continue
            if name not in eraser.scrubbed and name not in eraser.kept:
                missing.append(f"{table}.{name}: neither scrubbed nor kept with a reason")
    return missing
