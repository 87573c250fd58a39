"""The self-service bot: a first answer from the knowledge base, a person one tap away.

When a customer writes privately on an account the bot answers on (settings.py) in a
conversation nobody has taken, the bot's conversation hook (stage 5: before routing and
service levels) decides, under the operations lock, for the batch's new messages:

- a request for a person (a tap on "Talk to a person", or words asking for one), a complaint
  or frustration (the triage annotations the inbound path computed, rules.frustrated), the
  customer's second question after an answer, a low-confidence match, or a customer who
  comes back after a deflection: **handover** at once;
- a tap on "Yes, thanks" (or a short "yes"/"thanks") after an answer: **deflected**
  (confirmed), the conversation is resolved without an agent;
- a confident match: **answer**. The conversation is snoozed (the bot-handled state: routing
  does not assign a snoozed conversation and the service-level clocks pause while it is
  snoozed, so it neither reaches an agent nor counts against an SLA) and a `selfservice.reply`
  job is enqueued; it sends the article's answer and link through the normal outbound path
  (`outbound.replies.post_reply`: a message and a `message.send` outbox job), once per
  customer message however often it runs (`selfservice_replies` is unique on that message).

A handover reopens a snoozed conversation (`open`): routing assigns it at that moment like
any new conversation, and its service levels start from the customer's waiting message. The
bot's exchange stays in the timeline: the agent reads the question and the bot's answer.
Outside the workspace's business hours (its default SLA calendar) a handover also sends when a
person will answer. An answer nobody replies to within `deflect_after_minutes` is a
deflection too (`selfservice.settle`). Decision 0330 says why.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.config import Settings
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.service import Actor, set_status
from threadline.db.base import new_id, utcnow
from threadline.db.locks import workspace_lock
from threadline.errors import ThreadlineError
from threadline.events.service import ConversationEvent, audit, enqueue
from threadline.jobs.hooks import ConversationEvents, conversation_hook
from threadline.jobs.registry import Job, PermanentFailure, handler
from threadline.jobs.runtime import Runtime
from threadline.knowledge.service import article_url
from threadline.outbound.replies import Reply, post_reply
from threadline.selfservice import rules
from threadline.selfservice.matcher import Match
from threadline.selfservice.models import BotReply, BotSession, BotState, Reason, ReplyKind
from threadline.selfservice.service import match, published_article
from threadline.selfservice.settings import SelfServiceSettings, selfservice_settings
from threadline.sla.models import SlaCalendar
from threadline.sla.rules import calendar_of
from threadline.workspace.models import ChannelAccount

BOT = Actor("system", id="selfservice")
SELF_SERVICE_STAGE = 5  # before automation (10), routing (20) and service levels (30)
REPLY_JOB = "selfservice.reply"
SETTLE_JOB = "selfservice.settle"
LOCK = "selfservice"
# where the choices travel as taps (quick replies, reply buttons, an inline keyboard); the
# web chat widget draws its own buttons from the message's `selfservice` meta
TAP_KINDS = frozenset({"messenger", "facebook", "whatsapp", "telegram"})


# --- the hook: decide ---------------------------------------------------------------------------


@conversation_hook(SELF_SERVICE_STAGE, "selfservice")
def on_messages(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    ids = []
    for event in batch.of(ConversationEvent.MESSAGE_RECEIVED):
        try:
            ids.append(uuid.UUID(str(event.get("message_id"))))
        except ValueError:
            continue
    if not ids:
        return
    conv = session.get(Conversation, batch.conversation_id)
    if conv is None or conv.workspace_id != batch.workspace_id or conv.merged_into_id:
        return
    messages = [m for m in session.scalars(select(Message).where(
        Message.id.in_(ids), Message.conversation_id == conv.id)
        .order_by(Message.created_at, Message.id))]
    customer = [m for m in messages if m.direction == "inbound" and m.deleted_at is None
                and m.kind == "message"]
    if customer:
        consider(session, conv, customer)


def _agent_replied(session: Session, conv: Conversation) -> bool:
    return session.scalar(select(Message.id).where(
        Message.conversation_id == conv.id, Message.direction == "outbound",
        Message.author_type == "agent").limit(1)) is not None


def consider(session: Session, conv: Conversation, messages: list[Message],
             now: datetime | None = None) -> str | None:
    """Decide for a conversation's new customer messages (the latest is the anchor).
    Returns what was done: answer | handover | deflected | None (not the bot's)."""
    now = now or utcnow()
    message = messages[-1]
    if message.visibility != "private" or message.channel_account_id is None:
        return None  # never in public
    bot = session.get(BotSession, conv.id)
    if bot is not None and bot.last_message_id in {m.id for m in messages}:
        return None  # decided already (the job ran again)
    if bot is not None and bot.state == BotState.HANDED_OVER:
        return None
    account = session.get(ChannelAccount, message.channel_account_id)
    config = selfservice_settings(session, conv.workspace_id)
    if bot is None:
        if account is None or account.workspace_id != conv.workspace_id \
                or not config.answers_on(account):
            return None
        if (conv.assignee_id is not None or _agent_replied(session, conv)
                or (message.meta or {}).get("auto_reply")):
            return None  # somebody has it already (or it is an auto-reply: never answered)
    text = " ".join(m.text for m in messages if m.text).strip()
    tap = _tap(session, conv, message)
    if bot is not None and bot.state == BotState.BOT and (
            conv.assignee_id is not None or conv.status != Status.SNOOZED):
        _end(session, bot, BotState.HANDED_OVER, Reason.TAKEN, message, now)
        return None  # a person took it while the bot held it: his now
    if bot is not None and bot.state == BotState.DEFLECTED:
        return handover(session, conv, bot, Reason.CAME_BACK, message, account, now)
    if (tap is not None and tap.verb == rules.PERSON) or rules.asks_for_person(text):
        return handover(session, conv, bot, Reason.ASKED, message, account, now)
    if rules.frustrated(text, message.triage):
        return handover(session, conv, bot, Reason.COMPLAINT, message, account, now)
    if bot is not None and ((tap is not None and tap.verb == rules.YES)
                            or rules.confirms(text)):
        return deflect(session, conv, bot, Reason.CONFIRMED, message, now)
    if bot is not None:
        return handover(session, conv, bot, Reason.SECOND_QUESTION, message, account, now)
    language = (message.triage or {}).get("language") or conv.language
    found = match(session, conv.workspace_id, text,
                  language if isinstance(language, str) else None)
    if not found.confident(config.threshold):
        return handover(session, conv, bot, Reason.LOW_CONFIDENCE, message, account, now,
                        found=found)
    return answer(session, conv, message, account, config, found, now)


def _tap(session: Session, conv: Conversation, message: Message) -> rules.Tap | None:
    """A tap on one of the bot's choices, believed only when it names a reply of the bot's
    in this conversation (a forged or stale payload is only its text)."""
    tap = rules.tapped(message.meta or {})
    if tap is None:
        return None
    reply = session.get(BotReply, tap.answer_id)
    if reply is None or reply.conversation_id != conv.id \
            or reply.workspace_id != conv.workspace_id:
        audit(session, conv.workspace_id, "selfservice.tap_refused", "conversation", conv.id,
              data={"message_id": str(message.id)})
        return None
    return tap


def _session(session: Session, conv: Conversation, message: Message, state: str,
             now: datetime) -> BotSession:
    bot = BotSession(conversation_id=conv.id, workspace_id=conv.workspace_id,
                     channel_account_id=message.channel_account_id, channel=message.channel,
                     state=state, answers=0, started_at=now, updated_at=now)
    session.add(bot)
    return bot


def _end(session: Session, bot: BotSession, state: str, reason: str, message: Message | None,
         now: datetime) -> None:
    bot.state = state
    bot.reason = reason
    bot.updated_at = now
    bot.ended_at = now
    if message is not None:
        bot.last_message_id = message.id
    audit(session, bot.workspace_id, f"selfservice.{state}", "conversation",
          bot.conversation_id, actor_type=BOT.type, actor_id=BOT.id,
          data={"reason": reason, "answers": bot.answers})


def answer(session: Session, conv: Conversation, message: Message,
           account: ChannelAccount | None, config: SelfServiceSettings, found: Match,
           now: datetime) -> str:
    bot = _session(session, conv, message, BotState.BOT, now)
    bot.last_message_id = message.id
    bot.article_id = found.article_id
    bot.confidence = found.confidence
    session.flush()
    set_status(session, conv, Status.SNOOZED, BOT,
               snooze_until=now + timedelta(minutes=config.deflect_after_minutes))
    enqueue(session, REPLY_JOB, {"message_id": str(message.id), "kind": ReplyKind.ANSWER,
                                 "article_id": str(found.article_id),
                                 "confidence": found.confidence},
            workspace_id=conv.workspace_id)
    return "answer"


def handover(session: Session, conv: Conversation, bot: BotSession | None, reason: str,
             message: Message, account: ChannelAccount | None, now: datetime, *,
             found: Match | None = None) -> str:
    """Into the live queue now: the conversation is open (routing assigns it in this same
    run of the hooks); outside business hours the customer is told when a person answers."""
    if bot is None:
        bot = _session(session, conv, message, BotState.HANDED_OVER, now)
        if found is not None and found.article_id is not None:
            bot.article_id, bot.confidence = found.article_id, found.confidence
        session.flush()
    _end(session, bot, BotState.HANDED_OVER, reason, message, now)
    if conv.status in (Status.SNOOZED, Status.RESOLVED):
        set_status(session, conv, Status.OPEN, BOT)
    if next_opening(session, conv.workspace_id, now) is not None:
        enqueue(session, REPLY_JOB, {"message_id": str(message.id), "kind": ReplyKind.CLOSED},
                workspace_id=conv.workspace_id)
    return "handover"


def deflect(session: Session, conv: Conversation, bot: BotSession, reason: str,
            message: Message | None, now: datetime) -> str:
    _end(session, bot, BotState.DEFLECTED, reason, message, now)
    if conv.status in Status.ACTIVE:
        set_status(session, conv, Status.RESOLVED, BOT)
    return "deflected"


# --- business hours ---------------------------------------------------------------------------


def next_opening(session: Session, workspace_id: uuid.UUID,
                 now: datetime) -> tuple[datetime, str] | None:
    """When the team is back (and its calendar's time zone), or None while it is open (or
    works round the clock: no default calendar)."""
    row = session.scalar(select(SlaCalendar).where(SlaCalendar.workspace_id == workspace_id,
                                                   SlaCalendar.is_default.is_(True)).limit(1))
    if row is None:
        return None
    calendar = calendar_of(row, now)
    if calendar.always or calendar.is_open(now):
        return None
    opens = calendar.add(now, 1) - timedelta(seconds=1)
    if opens <= now:
        return None  # no hours at all in the calendar's window
    return opens, row.time_zone


def when_text(opens: datetime, time_zone: str) -> str:
    local = opens.astimezone(ZoneInfo(time_zone))
    return f"{local:%A %d %B} at {local:%H:%M} ({time_zone})"


# --- the reply job: send, once ------------------------------------------------------------------


@handler(REPLY_JOB)
def reply_job(runtime: Runtime, job: Job) -> None:
    try:
        message_id = uuid.UUID(str(job.payload["message_id"]))
        kind = str(job.payload["kind"])
        workspace_id = uuid.UUID(str(job.workspace_id))
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed {REPLY_JOB} job: {type(exc).__name__}") from None
    with runtime.db.session() as session:
        send_reply(session, runtime.settings, workspace_id, message_id, kind)


def send_reply(session: Session, settings: Settings, workspace_id: uuid.UUID,
               message_id: uuid.UUID, kind: str) -> BotReply | None:
    """The bot's reply to one customer message: sent once (a second run finds its row and
    returns None)."""
    workspace_lock(session, workspace_id, LOCK)
    if session.scalar(select(BotReply.id).where(
            BotReply.inbound_message_id == message_id)) is not None:
        return None
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id:
        return None
    conv = session.get(Conversation, message.conversation_id)
    bot = session.get(BotSession, message.conversation_id)
    if conv is None or bot is None:
        return None
    now = utcnow()
    reply = BotReply(id=new_id(), workspace_id=workspace_id, conversation_id=conv.id,
                     inbound_message_id=message.id, kind=kind, created_at=now)
    session.add(reply)
    if kind == ReplyKind.ANSWER:
        _answer(session, settings, conv, bot, message, reply, now)
    elif kind == ReplyKind.CLOSED:
        _closed(session, conv, message, reply, now)
    else:
        reply.outcome = "unknown_kind"
    session.flush()
    return reply


def _post(session: Session, conv: Conversation, message: Message, text: str,
          options: dict[str, Any]) -> Message:
    """Through the normal outbound path, as the bot. Its messages are not a person's
    answer: the first response and the status stay what they were."""
    first, status = conv.first_response_at, conv.status
    with session.begin_nested():
        sent = post_reply(session, conv.workspace_id, conv.id, Reply(
            text=text, visibility="private", channel_account_id=message.channel_account_id,
            options=options, anchor_id=message.id), BOT)
    conv.first_response_at = first
    conv.status = status
    return sent


def _answer(session: Session, settings: Settings, conv: Conversation, bot: BotSession,
            message: Message, reply: BotReply, now: datetime) -> None:
    if (bot.state != BotState.BOT or bot.last_message_id != message.id
            or conv.assignee_id is not None or conv.status != Status.SNOOZED):
        reply.outcome = "stale"  # handed over or taken meanwhile: a person answers
        return
    article = published_article(session, conv.workspace_id, bot.article_id) \
        if bot.article_id else None
    if article is None:
        reply.outcome = "article_gone"
        handover(session, conv, bot, Reason.LOW_CONFIDENCE, message, None, now)
        return
    url = article_url(settings.public_url, conv.workspace_id, article) \
        if settings.public_url else None
    taps = message.channel in TAP_KINDS
    text = rules.answer_text(article.title, article.body, url, with_choices=True)
    opening = next_opening(session, conv.workspace_id, now)
    if opening is not None:
        text += (f"\n\nOur team is away right now; a person can answer from "
                 f"{when_text(*opening)}.")
    options: dict[str, Any] = {"choices": rules.choices(reply.id)} if taps else {}
    try:
        sent = _post(session, conv, message, text, options)
    except ThreadlineError as exc:
        reply.outcome = exc.code  # the channel refused it (a closed window...): a person
        handover(session, conv, bot, Reason.LOW_CONFIDENCE, message, None, now)
        return
    sent.meta = {**(sent.meta or {}), "selfservice": {
        "reply_id": str(reply.id), "article_id": str(article.id), "title": article.title,
        "url": url, "confidence": bot.confidence,
        "choices": [c["title"] for c in rules.choices(reply.id)]}}
    reply.message_id = sent.id
    reply.article_id = article.id
    reply.confidence = bot.confidence
    bot.answers += 1
    bot.last_answer_id = sent.id
    bot.updated_at = now
    audit(session, conv.workspace_id, "selfservice.answered", "conversation", conv.id,
          actor_type=BOT.type, actor_id=BOT.id,
          data={"article_id": str(article.id), "confidence": bot.confidence,
                "message_id": str(sent.id)})
    config = selfservice_settings(session, conv.workspace_id)
    enqueue(session, SETTLE_JOB, {"conversation_id": str(conv.id), "answer_id": str(sent.id)},
            workspace_id=conv.workspace_id,
            delay=timedelta(minutes=config.deflect_after_minutes))


def _closed(session: Session, conv: Conversation, message: Message, reply: BotReply,
            now: datetime) -> None:
    opening = next_opening(session, conv.workspace_id, now)
    if opening is None:
        reply.outcome = "open_now"  # the team is back: it answers itself
        return
    try:
        sent = _post(session, conv, message, rules.closed_text(when_text(*opening)), {})
    except ThreadlineError as exc:
        reply.outcome = exc.code
        return
    sent.meta = {**(sent.meta or {}), "selfservice": {"reply_id": str(reply.id),
                                                      "closed": True}}
    reply.message_id = sent.id


# --- the settle job: no answer within the time is a deflection ----------------------------------


@handler(SETTLE_JOB)
def settle_job(runtime: Runtime, job: Job) -> None:
    try:
        conversation_id = uuid.UUID(str(job.payload["conversation_id"]))
        answer_id = uuid.UUID(str(job.payload["answer_id"]))
        workspace_id = uuid.UUID(str(job.workspace_id))
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed {SETTLE_JOB} job: {type(exc).__name__}") from None
    with runtime.db.session() as session:
        settle(session, workspace_id, conversation_id, answer_id)


def settle(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
           answer_id: uuid.UUID, now: datetime | None = None) -> bool:
    """The customer said nothing after the bot's answer: deflected. True when it was."""
    workspace_lock(session, workspace_id, LOCK)
    bot = session.get(BotSession, conversation_id)
    conv = session.get(Conversation, conversation_id)
    sent = session.get(Message, answer_id)
    if (bot is None or conv is None or sent is None or bot.workspace_id != workspace_id
            or bot.state != BotState.BOT or bot.last_answer_id != answer_id):
        return False
    later = session.scalar(select(Message.id).where(
        Message.conversation_id == conversation_id, Message.direction == "inbound",
        Message.created_at > sent.created_at).limit(1))
    if later is not None:
        return False  # he wrote: the hook decides on that
    deflect(session, conv, bot, Reason.TIMEOUT, None, now or utcnow())
    return True
