"""The customer's answer: a tap (quick-reply payload, WhatsApp button or list row, Telegram
callback), a short text on the channel ("4", "5 great") within the text window, a rating in the
web chat, or the short link's form. It is recorded on the survey (score 1-5, an optional
comment) and becomes no message: the conversation stays resolved and none is created.

The first answer counts. The same answer delivered again (the same provider id) changes
nothing; another answer to an answered, expired or foreign survey is refused and audited
(`csat.answer_refused`, with the reason, never the text).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelAction,
    InboundMessage,
    PermanentSendError,
    RetryableSendError,
)
from threadline.channels.registry import get_adapter
from threadline.contacts.models import Identity
from threadline.contacts.service import find_identity
from threadline.conversations.models import Conversation, Message, Status
from threadline.csat import rules
from threadline.csat.models import CsatSurvey, CsatSurveyDetails, SurveyStatus
from threadline.db.base import utcnow
from threadline.errors import Conflict, NotFound, ThreadlineError, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.hops.records.links import hash_code
from threadline.inbound.intercept import interceptor
from threadline.jobs.registry import Job, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import ChannelAccount, Workspace

ACK_JOB = "csat.ack"  # Telegram: answer the callback query (stops the button's spinner)
THANKS = "Thank you for your feedback!"
CLOSED = "This survey is closed."


class Source:
    QUICK_REPLY = "quick_reply"
    BUTTON = "button"
    CALLBACK = "callback"
    TEXT = "text"
    WEBCHAT = "webchat"
    LINK = "link"


class Outcome:
    RECORDED = "recorded"
    DUPLICATE = "duplicate"  # the same answer again (same provider id): nothing changes


class Gone(ThreadlineError):
    """The survey no longer takes answers (410)."""

    status = 410
    code = "survey_closed"


@dataclass(frozen=True)
class Answer:
    score: object
    comment: str | None
    source: str
    provider_id: str | None = None


def _details(session: Session, survey: CsatSurvey) -> CsatSurveyDetails:
    details = session.get(CsatSurveyDetails, survey.id)
    if details is None:
        raise NotFound("survey not found", code="survey_not_found")
    return details


def record(session: Session, survey: CsatSurvey, answer: Answer,
           now: datetime | None = None) -> str:
    """Record an answer on a survey (raises the typed refusal: 422 bad score or comment,
    409 answered already, 410 closed). Idempotent by provider id."""
    now = now or utcnow()
    details = _details(session, survey)
    if survey.status == SurveyStatus.ANSWERED:
        if answer.provider_id and details.answer_provider_id == answer.provider_id:
            return Outcome.DUPLICATE
        raise Conflict("this survey has been answered already", code="survey_answered")
    if survey.status != SurveyStatus.SENT or details.expires_at <= now:
        raise Gone("this survey no longer takes answers")
    if not rules.valid_score(answer.score):
        raise ValidationFailed("the score is a whole number from 1 to 5", code="invalid_score")
    comment = " ".join((answer.comment or "").split()) or None
    if comment is not None and len(comment) > rules.MAX_COMMENT:
        raise ValidationFailed(f"a comment has at most {rules.MAX_COMMENT} characters",
                               code="comment_too_long")
    assert isinstance(answer.score, int)
    survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    survey.score = answer.score
    survey.comment = comment
    details.answer_source = answer.source
    details.answer_provider_id = answer.provider_id
    _mark_message(session, survey, details, answer.score)
    audit(session, survey.workspace_id, "csat.answered", "conversation", survey.conversation_id,
          data={"survey_id": str(survey.id), "score": answer.score, "source": answer.source})
    publish(session, survey.workspace_id, Live.CSAT_ANSWERED,
            {"conversation_id": str(survey.conversation_id), "survey_id": str(survey.id),
             "score": answer.score})
    return Outcome.RECORDED


def _mark_message(session: Session, survey: CsatSurvey, details: CsatSurveyDetails,
                  score: int) -> None:
    """The survey message shows the rating (the desktop's timeline, the visitor's chat)."""
    message = session.get(Message, details.message_id) if details.message_id else None
    if message is None:
        return
    meta = dict(message.meta or {})
    meta["csat"] = {**dict(meta.get("csat") or {}), "answered": True, "score": score}
    message.meta = meta
    publish(session, survey.workspace_id, Live.MESSAGE_EDITED,
            {"conversation_id": str(message.conversation_id), "message_id": str(message.id)})


def _refused(session: Session, workspace_id: uuid.UUID, reason: str, source: str,
             survey_id: uuid.UUID | None = None) -> None:
    audit(session, workspace_id, "csat.answer_refused", "workspace", workspace_id,
          data={"reason": reason, "source": source,
                **({"survey_id": str(survey_id)} if survey_id else {})})


# --- on the channel (the inbound interceptor) ------------------------------------------------


def _identity(session: Session, workspace_id: uuid.UUID,
              item: InboundMessage) -> Identity | None:
    try:
        return find_identity(session, workspace_id, item.author.identity_kind,
                             item.author.provider_user_id)
    except ThreadlineError:
        return None


def _source(meta: dict[str, object]) -> str:
    if meta.get("callback_data"):
        return Source.CALLBACK
    if meta.get("reply_id"):
        return Source.BUTTON
    return Source.QUICK_REPLY


@interceptor("csat")
def intercept(runtime: Runtime, session: Session, account: ChannelAccount,
              item: InboundMessage) -> bool:
    """A tap on a survey's choice is always taken (recorded, or refused and dropped); a short
    text rating only while its author has a survey waiting on this account."""
    tap = rules.tapped(item.meta)
    if tap is not None:
        _answer_tap(session, account, item, tap)
        return True
    query_id = item.meta.get("callback_query_id")
    if query_id:  # a tap on an agent's quick reply: his message, and Telegram's spinner stops
        enqueue(session, ACK_JOB, {"channel_account_id": str(account.id),
                                   "callback_query_id": str(query_id), "text": ""},
                workspace_id=account.workspace_id)
        return False
    if item.meta.get("auto_reply") or item.attachments:
        return False
    typed = rules.text_answer(item.text)
    if typed is None:
        return False
    return _answer_text(session, account, item, *typed)


def _answer_tap(session: Session, account: ChannelAccount, item: InboundMessage,
                tap: str) -> None:
    ws = account.workspace_id
    source = _source(item.meta)
    choice = rules.parse_choice(tap)
    survey = session.get(CsatSurvey, choice.survey_id) if choice.survey_id else None
    reply = CLOSED
    if survey is None or survey.workspace_id != ws or survey.channel_account_id != account.id:
        _refused(session, ws, "unknown_survey", source)
    else:
        identity = _identity(session, ws, item)
        details = _details(session, survey)
        if identity is None or identity.id != details.identity_id:
            _refused(session, ws, "not_the_surveyed_customer", source, survey.id)
        else:
            try:
                record(session, survey, Answer(choice.score, None, source, item.provider_id))
                reply = THANKS
            except ThreadlineError as exc:
                _refused(session, ws, exc.code, source, survey.id)
    query_id = item.meta.get("callback_query_id")
    if source == Source.CALLBACK and query_id:
        enqueue(session, ACK_JOB, {"channel_account_id": str(account.id),
                                   "callback_query_id": str(query_id), "text": reply},
                workspace_id=ws)


def _answer_text(session: Session, account: ChannelAccount, item: InboundMessage, score: int,
                 comment: str) -> bool:
    identity = _identity(session, account.workspace_id, item)
    if identity is None:
        return False
    now = utcnow()
    survey = session.scalar(
        select(CsatSurvey).join(CsatSurveyDetails, CsatSurveyDetails.survey_id == CsatSurvey.id)
        .join(Conversation, Conversation.id == CsatSurvey.conversation_id)
        .where(CsatSurveyDetails.identity_id == identity.id,
               CsatSurveyDetails.text_until > now, CsatSurveyDetails.expires_at > now,
               CsatSurvey.channel_account_id == account.id,
               CsatSurvey.status == SurveyStatus.SENT,
               # reopened since: a typed "5" answers the agent, not the survey
               Conversation.status.not_in(Status.ACTIVE))
        .order_by(CsatSurvey.sent_at.desc()).limit(1))
    if survey is None:
        return False  # no survey waits: "5 items are missing" is a message
    try:
        record(session, survey, Answer(score, comment or None, Source.TEXT, item.provider_id),
               now)
    except ThreadlineError:
        return False  # cannot be an answer after all: a message like any other
    return True


@handler(ACK_JOB)
def ack_job(runtime: Runtime, job: Job) -> None:
    """Telegram: answer the tapped button's callback query (a survey's: with a short
    notification; a quick reply's: silently)."""
    with runtime.db.session(write=False) as session:
        account = session.get(ChannelAccount, uuid.UUID(str(job.payload.get(
            "channel_account_id"))))
        if account is None or not account.active:
            return
        config = account_config(account, runtime.settings)
        kind = account.kind
    action = ChannelAction("answer_callback", target=str(job.payload.get("callback_query_id")),
                           params={"text": str(job.payload.get("text") or "")})
    try:
        get_adapter(kind).act(config, action, runtime.http)
    except RetryableSendError as exc:
        raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
    except PermanentSendError:
        return  # a query answered too late is refused; the answer is recorded anyway


# --- in the web chat and on the link's page ---------------------------------------------------


def answer_in_chat(session: Session, account: ChannelAccount, visitor_id: str,
                   survey_id: uuid.UUID, score: object, comment: str | None) -> CsatSurvey:
    """A web chat visitor rates the survey shown in his chat (404 unless it was sent to him
    on this chat; 409 answered; 410 closed; 422 bad score or comment)."""
    survey = session.get(CsatSurvey, survey_id)
    identity = find_identity(session, account.workspace_id, "webchat", visitor_id) \
        if visitor_id else None
    details = session.get(CsatSurveyDetails, survey_id) if survey is not None else None
    if (survey is None or details is None or identity is None
            or survey.workspace_id != account.workspace_id
            or survey.channel_account_id != account.id or details.identity_id != identity.id):
        raise NotFound("no such survey in this chat", code="survey_not_found")
    record(session, survey, Answer(score, comment, Source.WEBCHAT))
    return survey


@dataclass(frozen=True)
class LinkPage:
    """What the link's public page shows (nothing about the conversation: anyone holding
    the link sees it)."""

    survey_id: uuid.UUID
    company: str
    question: str
    status: str  # open | answered | closed
    score: int | None


def link_page(session: Session, code: str) -> LinkPage:
    survey = open_link(session, code)
    details = session.get(CsatSurveyDetails, survey.id)
    workspace = session.get(Workspace, survey.workspace_id)
    if survey.status == SurveyStatus.ANSWERED:
        status = "answered"
    elif survey.status == SurveyStatus.SENT and details is not None \
            and details.expires_at > utcnow():
        status = "open"
    else:
        status = "closed"
    return LinkPage(survey_id=survey.id, company=workspace.name if workspace else "",
                    question=details.question if details is not None else "",
                    status=status, score=survey.score)


def open_link(session: Session, code: str) -> CsatSurvey:
    """The survey behind a link code (404 for a code that is not one)."""
    if not code or len(code) > 128:
        raise NotFound("this link is not valid", code="link_not_found")
    survey = session.scalar(select(CsatSurvey).where(CsatSurvey.token_hash == hash_code(code)))
    if survey is None:
        raise NotFound("this link is not valid", code="link_not_found")
    return survey


def answer_by_link(session: Session, code: str, score: object,
                   comment: str | None) -> CsatSurvey:
    survey = open_link(session, code)
    record(session, survey, Answer(score, comment, Source.LINK))
    return survey
