"""Community use cases for agents: what the desktop shows of a community conversation, an
accepted answer turned into a knowledge base article in one step, and marking a post of the
topic as its solution on the forum (through the outbox). Services never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelAction,
    PermanentSendError,
    RetryableSendError,
)
from threadline.channels.discourse.adapter import parse_provider_id
from threadline.channels.registry import get_adapter
from threadline.community.engine import (
    ANSWERED,
    CHANNEL,
    COMMUNITY,
    ESCALATED,
    SOLVED,
    is_community,
    watching,
)
from threadline.community.settings import community_settings
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor, access_conversation
from threadline.errors import NotFound, ValidationFailed, invalid_input
from threadline.events.models import AuditEvent
from threadline.events.service import audit, enqueue
from threadline.jobs.registry import Job, PermanentFailure, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.knowledge.models import Article
from threadline.knowledge.schemas import MAX_TITLE, ArticleIn
from threadline.knowledge.service import save_article
from threadline.workspace.models import ChannelAccount

ACCEPT_JOB = "community.accept_solution"
MAX_ANSWER_CHARS = 20_000


@dataclass(frozen=True)
class CommunityState:
    """What the desktop shows on a community conversation."""

    state: str  # community | escalated | solved | answered | taken
    deadline: datetime | None
    reason: str | None
    solution_message_id: uuid.UUID | None
    topic_id: int | None


def state_of(session: Session, conv: Conversation) -> CommunityState | None:
    """None for a conversation that did not start on the forum as a community topic."""
    if not is_community(conv):
        return None
    labels = set(conv.labels or [])
    if SOLVED in labels:
        state = "solved"
    elif ESCALATED in labels:
        state = "escalated"
    elif ANSWERED in labels:
        state = "answered"
    elif watching(conv):
        state = "community"
    else:
        state = "taken"
    reason = None
    if state == "escalated":
        reason = _audit_reason(session, conv)
    solution = accepted_answer(session, conv)
    origin = session.get(Message, conv.origin_message_id) if conv.origin_message_id else None
    parsed = parse_provider_id(origin.provider_id if origin is not None else None)
    return CommunityState(state=state, deadline=conv.snoozed_until if state == "community"
                          else None, reason=reason,
                          solution_message_id=solution.id if solution is not None else None,
                          topic_id=parsed[0] if parsed else None)


def _audit_reason(session: Session, conv: Conversation) -> str | None:
    data = session.scalar(select(AuditEvent.data).where(
        AuditEvent.workspace_id == conv.workspace_id, AuditEvent.subject_id == str(conv.id),
        AuditEvent.action == "community.escalated").order_by(AuditEvent.id.desc()).limit(1))
    reason = (data or {}).get("reason")
    return str(reason) if reason else None


def forum_url(session: Session, conv: Conversation) -> str | None:
    """The topic on the forum (`<api_base_url>/t/<topic_id>`), for agents to look at."""
    origin = session.get(Message, conv.origin_message_id) if conv.origin_message_id else None
    parsed = parse_provider_id(origin.provider_id if origin is not None else None)
    account = session.get(ChannelAccount, conv.origin_account_id) \
        if conv.origin_account_id else None
    base = str((account.config or {}).get("api_base_url") or "") if account else ""
    if parsed is None or not base.startswith(("https://", "http://")) or any(
            c in base for c in "\"'<> "):
        return None
    return f"{base.rstrip('/')}/t/{parsed[0]}"


def accepted_answer(session: Session, conv: Conversation) -> Message | None:
    """The post accepted as the topic's solution (the latest, if the forum changed it)."""
    rows = session.scalars(select(Message).where(
        Message.conversation_id == conv.id, Message.channel == CHANNEL,
        Message.deleted_at.is_(None)).order_by(Message.created_at.desc()))
    return next((m for m in rows if (m.meta or {}).get("accepted_solution")), None)


def article_from_answer(session: Session, workspace_id: uuid.UUID,
                        conversation_id: uuid.UUID, actor: Actor) -> Article:
    """One step from an accepted community answer to a draft knowledge base article: the
    topic's title, the question and the accepted answer, tagged `community`. A draft, so an
    editor reviews it before it is published (the forum's text may name people)."""
    conv = access_conversation(session, workspace_id, conversation_id)
    if conv.origin_channel != CHANNEL:
        raise ValidationFailed("only a community conversation has an accepted answer",
                               code="not_community")
    answer = accepted_answer(session, conv)
    if answer is None:
        raise ValidationFailed("no answer of this topic was accepted as its solution",
                               code="no_accepted_answer")
    question = session.get(Message, conv.origin_message_id) if conv.origin_message_id else None
    asked = (question.text if question is not None else "").strip()
    title = (conv.subject or asked.split("\n", 1)[0] or "Community answer").strip()
    title = " ".join(title.split())[:MAX_TITLE] or "Community answer"
    body = (f"## Question\n\n{asked[:MAX_ANSWER_CHARS]}\n\n"
            f"## Answer\n\n{answer.text.strip()[:MAX_ANSWER_CHARS]}\n")
    rules = community_settings(session, workspace_id)
    fields = {"title": title, "body": body, "category": rules.article_category,
              "tags": [COMMUNITY], "questions": [title[:300]]}
    try:
        data = ArticleIn(**fields, language=conv.language or "en")
    except ValidationError:
        try:
            data = ArticleIn(**fields, language="en")  # a language the base does not know
        except ValidationError as exc:
            raise invalid_input(exc, "invalid_article") from None
    article = save_article(session, workspace_id, data, actor)
    audit(session, workspace_id, "community.article_created", "conversation", conv.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"article_id": str(article.id), "message_id": str(answer.id)})
    return article


def request_solution(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                     message_id: uuid.UUID, actor: Actor) -> Message:
    """Mark a post of the topic (a peer's or the brand's, sent) as the topic's solution on
    the forum: queued, the worker calls the solved plugin; recorded when the forum's webhook
    comes back (or at once when the call succeeds)."""
    conv = access_conversation(session, workspace_id, conversation_id)
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conv.id:
        raise NotFound("message not found")
    if (message.channel != CHANNEL or message.visibility != "public"
            or parse_provider_id(message.provider_id) is None):
        raise ValidationFailed("only a post of the forum topic (sent) can be its solution",
                               code="not_a_post")
    enqueue(session, ACCEPT_JOB, {"message_id": str(message.id)}, workspace_id=workspace_id)
    audit(session, workspace_id, "community.solution_requested", "conversation", conv.id,
          actor_type=actor.type, actor_id=actor.id, data={"message_id": str(message.id)})
    return message


def post_id_of(message: Message) -> int | None:
    """The forum's post id of a stored post when the webhook gave it (inbound posts)."""
    part = (message.meta or {}).get("discourse")
    value = part.get("post_id") if isinstance(part, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@handler(ACCEPT_JOB)
def accept_solution_job(runtime: Runtime, job: Job) -> None:
    message_id = uuid.UUID(str(job.payload.get("message_id")))
    with runtime.db.session(write=False) as session:
        message = session.get(Message, message_id)
        if message is None or message.channel_account_id is None:
            return
        if (message.meta or {}).get("accepted_solution"):
            return  # done already
        post_id = post_id_of(message)
        account = session.get(ChannelAccount, message.channel_account_id)
        if account is None or not message.provider_id:
            return
        config = account_config(account, runtime.settings)
        target = message.provider_id
    try:
        get_adapter(CHANNEL).act(config, ChannelAction(
            "accept_solution", target=target,
            params={"post_id": post_id} if post_id is not None else {}),
                                 runtime.http)
    except RetryableSendError as exc:
        raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
    except PermanentSendError as exc:
        raise PermanentFailure(f"{exc.code}: {exc.redacted(config).message}") from None
