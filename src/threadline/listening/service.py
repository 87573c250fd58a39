"""Listening use cases: rules and settings, recording posts, the four views, and turning a
listened or filtered post into a conversation (docs/listening.md, decision 0333).

Service functions take a session and never commit. A listened post that is not in a queue is
never a message: the queues, routing, service levels and incident grouping (all of which read
messages and conversations) cannot see it until an agent converts or restores it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from threadline.channels.base import InboundMessage
from threadline.config import Settings
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.service import Actor, access_conversation, set_triage_fields
from threadline.db.base import utcnow
from threadline.errors import Conflict, NotFound, ValidationFailed
from threadline.events.models import OutboxJob, WorkStatus
from threadline.events.service import audit, enqueue
from threadline.inbound.batch import BatchContext
from threadline.listening.models import (
    ListenedPost,
    ListeningRule,
    ListeningSettings,
    NoiseReason,
    PostState,
)
from threadline.listening.posts import item_from_json, item_to_json
from threadline.listening.rules import Rule, RuleSet, normalise_rules, search_query
from threadline.triage import CATEGORIES, SENTIMENTS
from threadline.workspace.models import ChannelAccount

MAX_MINUTES = 7 * 24 * 60
SETTING_BOUNDS = {"opportunity_wait_minutes": (1, MAX_MINUTES),
                  "defensive_wait_minutes": (1, MAX_MINUTES),
                  "search_interval_seconds": (30, 86_400)}
SETTING_FLAGS = ("opportunities_enabled", "noise_filter")
VIEW_LIMIT = 200
DEFENSIVE_CANDIDATES = 500
IN_QUEUE = "direct"  # the relevance a converted or restored post's conversation gets
SEARCH_JOB = "listening.search"  # listening/search.py
CONFIG_TTL = 5.0  # seconds a worker trusts its copy of a workspace's rules


# --- settings and rules --------------------------------------------------------------------


def get_settings(session: Session, workspace_id: uuid.UUID) -> ListeningSettings:
    """The workspace's settings (defaults, not stored, until someone saves them)."""
    row = session.get(ListeningSettings, workspace_id)
    if row is None:
        row = ListeningSettings(workspace_id=workspace_id, opportunities_enabled=True,
                                opportunity_wait_minutes=60, defensive_wait_minutes=30,
                                noise_filter=True, search_interval_seconds=120,
                                search_cursors={}, updated_at=utcnow())
    return row


def _stored_settings(session: Session, workspace_id: uuid.UUID) -> ListeningSettings:
    row = get_settings(session, workspace_id)
    if row not in session:
        session.add(row)
    return row


def update_settings(session: Session, workspace_id: uuid.UUID, changes: Mapping[str, Any],
                    actor: Actor) -> ListeningSettings:
    """Change some settings; a bad value is a 422 naming its field, nothing stored."""
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key in SETTING_FLAGS:
            if not isinstance(value, bool):
                raise ValidationFailed(f"{key} is true or false", code="bad_listening_setting",
                                       details={"field": key})
            clean[key] = value
        elif key in SETTING_BOUNDS:
            low, high = SETTING_BOUNDS[key]
            if isinstance(value, bool) or not isinstance(value, int) \
                    or not low <= value <= high:
                raise ValidationFailed(f"{key} is a whole number from {low} to {high}",
                                       code="bad_listening_setting", details={"field": key})
            clean[key] = value
        else:
            raise ValidationFailed(f"unknown setting {str(key)[:40]!r}",
                                   code="bad_listening_setting", details={"field": str(key)[:40]})
    row = _stored_settings(session, workspace_id)
    for key, value in clean.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    audit(session, workspace_id, "listening.settings_changed", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id, data=clean)
    forget_config(workspace_id)
    return row


def list_rules(session: Session, workspace_id: uuid.UUID) -> list[ListeningRule]:
    return list(session.scalars(select(ListeningRule)
                                .where(ListeningRule.workspace_id == workspace_id)
                                .order_by(ListeningRule.kind, ListeningRule.value)))


def replace_rules(session: Session, workspace_id: uuid.UUID,
                  items: Sequence[Mapping[str, Any]], actor: Actor) -> list[ListeningRule]:
    """Replace the workspace's rules with `items` (validated whole first: a bad rule is a
    422 naming `rules.<i>.kind|value` and nothing changes)."""
    rules = normalise_rules(items)
    session.execute(delete(ListeningRule).where(ListeningRule.workspace_id == workspace_id))
    rows = [ListeningRule(workspace_id=workspace_id, kind=r.kind, value=r.value)
            for r in rules]
    session.add_all(rows)
    _stored_settings(session, workspace_id)
    session.flush()
    audit(session, workspace_id, "listening.rules_changed", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id,
          data={"rules": [r.key for r in rules]})
    forget_config(workspace_id)
    schedule_search(session, workspace_id)
    return list_rules(session, workspace_id)


# --- the recent search's schedule (the job is listening/search.py) --------------------------


def listens(account: ChannelAccount) -> bool:
    return bool(account.active and account.kind == "x"
                and (account.config or {}).get("listen") is True)


def _pending(session: Session, account_id: uuid.UUID, exclude: int | None) -> OutboxJob | None:
    stmt = select(OutboxJob).where(
        OutboxJob.name == SEARCH_JOB, OutboxJob.status == WorkStatus.PENDING,
        OutboxJob.claimed_until.is_(None) | (OutboxJob.claimed_until < utcnow()),
        OutboxJob.payload["account_id"].as_string() == str(account_id))
    if exclude is not None:
        stmt = stmt.where(OutboxJob.id != exclude)
    return session.scalars(stmt.order_by(OutboxJob.id).limit(1)).first()


def schedule_search(session: Session, workspace_id: uuid.UUID, *, delay: float = 0.0,
                    account_id: uuid.UUID | None = None, exclude: int | None = None,
                    failures: int = 0) -> int:
    """Make sure one search is pending per listening account (due within `delay` s)."""
    stmt = select(ChannelAccount).where(ChannelAccount.workspace_id == workspace_id,
                                        ChannelAccount.kind == "x",
                                        ChannelAccount.active.is_(True))
    if account_id is not None:
        stmt = stmt.where(ChannelAccount.id == account_id)
    due = utcnow() + timedelta(seconds=delay)
    count = 0
    for account in session.scalars(stmt):
        if not listens(account):
            continue
        job = _pending(session, account.id, exclude)
        if job is not None:
            job.due_at = min(job.due_at, due)
        else:
            enqueue(session, SEARCH_JOB, {"account_id": str(account.id), "failures": failures},
                    workspace_id=workspace_id, due_at=due)
        count += 1
    return count



# --- the interceptor's view of a workspace (cached briefly per process) ----------------------


@dataclass(frozen=True)
class ListeningConfig:
    rules: RuleSet
    noise_filter: bool


_config_lock = threading.Lock()
_configs: dict[uuid.UUID, tuple[float, ListeningConfig]] = {}


def forget_config(workspace_id: uuid.UUID) -> None:
    with _config_lock:
        _configs.pop(workspace_id, None)


def config_for(session: Session, workspace_id: uuid.UUID) -> ListeningConfig:
    """The rules and the noise switch, read at most every CONFIG_TTL seconds per process (a
    change made in another process applies within that time; in this one at once)."""
    now = time.monotonic()
    with _config_lock:
        cached = _configs.get(workspace_id)
    if cached is not None and now - cached[0] < CONFIG_TTL:
        return cached[1]
    rules = [Rule(k, v) for k, v in session.execute(
        select(ListeningRule.kind, ListeningRule.value)
        .where(ListeningRule.workspace_id == workspace_id))]
    flag = session.scalar(select(ListeningSettings.noise_filter)
                          .where(ListeningSettings.workspace_id == workspace_id))
    config = ListeningConfig(RuleSet(rules), True if flag is None else bool(flag))
    with _config_lock:
        _configs[workspace_id] = (now, config)
    return config


# --- recording -----------------------------------------------------------------------------


def record_post(session: Session, account: ChannelAccount, item: InboundMessage, *,
                state: str, matched: Sequence[Rule], competitor: str | None,
                noise_reason: str | None, category: str | None, sentiment: str | None,
                answered_by: Sequence[str] = ()) -> ListenedPost | None:
    """Store a public post once per (account, provider id); a repeat returns the stored one
    unchanged (a batch processed again, a redelivery). `answered_by`: the competitors'
    handles, whose reply to the post, stored before it, means it was answered."""
    existing = session.scalar(select(ListenedPost).where(
        ListenedPost.workspace_id == account.workspace_id,
        ListenedPost.channel_account_id == account.id,
        ListenedPost.provider_id == item.provider_id))
    if existing is not None:
        return existing
    followers = item.meta.get("followers")
    post = ListenedPost(
        workspace_id=account.workspace_id, channel_account_id=account.id, channel=account.kind,
        provider_id=item.provider_id[:128], in_reply_to=(item.in_reply_to or None),
        author_id=item.author.provider_user_id[:128],
        author_handle=(item.author.handle or None) and str(item.author.handle)[:120],
        author_name=(item.author.display_name or None) and str(item.author.display_name)[:200],
        followers=followers if isinstance(followers, int) else None,
        text=item.text, posted_at=item.created_at,
        source="search" if item.meta.get("via") == "search" else "webhook",
        matched=[r.key for r in matched], competitor=competitor, category=category,
        sentiment=sentiment, state=state, noise_reason=noise_reason,
        item=item_to_json(item))
    if competitor is not None:
        post.competitor_answered_at = _competitor_answer(session, account.workspace_id,
                                                         item.provider_id, answered_by)
    session.add(post)
    session.flush()
    if state == PostState.FILTERED:
        audit(session, account.workspace_id, "listening.filtered", "listened_post", post.id,
              data={"reason": noise_reason, "channel": account.kind})
    return post


def _competitor_answer(session: Session, workspace_id: uuid.UUID, provider_id: str,
                       handles: Sequence[str]) -> datetime | None:
    """When a competitor's reply to `provider_id` was stored first (a search page lists the
    newest first): its time."""
    if not handles:
        return None
    names = [f"@{h}" for h in handles] + list(handles)
    found: datetime | None = session.scalar(
        select(func.min(ListenedPost.posted_at))
        .where(ListenedPost.workspace_id == workspace_id,
               ListenedPost.in_reply_to == provider_id,
               func.lower(ListenedPost.author_handle).in_(names)))
    return found


def mark_competitor_answer(session: Session, workspace_id: uuid.UUID, replied_to: str,
                           at: datetime) -> None:
    """The competitor answered a post in public: it is no longer an opportunity."""
    session.execute(update(ListenedPost).where(
        ListenedPost.workspace_id == workspace_id, ListenedPost.provider_id == replied_to,
        ListenedPost.competitor_answered_at.is_(None)).values(competitor_answered_at=at))


# --- views ---------------------------------------------------------------------------------


def access_post(session: Session, workspace_id: uuid.UUID, post_id: uuid.UUID) -> ListenedPost:
    post = session.scalar(select(ListenedPost).where(ListenedPost.id == post_id,
                                                     ListenedPost.workspace_id == workspace_id))
    if post is None:
        raise NotFound("listened post not found")
    return post


def listening_view(session: Session, workspace_id: uuid.UUID, *,
                   limit: int = VIEW_LIMIT) -> list[ListenedPost]:
    """Posts that matched a rule (not the noise), newest first."""
    return list(session.scalars(
        select(ListenedPost)
        .where(ListenedPost.workspace_id == workspace_id,
               ListenedPost.state != PostState.FILTERED)
        .order_by(ListenedPost.posted_at.desc(), ListenedPost.id).limit(limit)))


def filtered_view(session: Session, workspace_id: uuid.UUID, *, reason: str | None = None,
                  limit: int = VIEW_LIMIT) -> list[ListenedPost]:
    """The noise, newest first (optionally one reason)."""
    if reason is not None and reason not in NoiseReason.ALL:
        raise ValidationFailed(f"reason must be one of {', '.join(NoiseReason.ALL)}",
                               code="bad_noise_reason", details={"field": "reason"})
    stmt = select(ListenedPost).where(ListenedPost.workspace_id == workspace_id,
                                      ListenedPost.state == PostState.FILTERED)
    if reason is not None:
        stmt = stmt.where(ListenedPost.noise_reason == reason)
    return list(session.scalars(stmt.order_by(ListenedPost.posted_at.desc(), ListenedPost.id)
                                .limit(limit)))


def noise_counts(session: Session, workspace_id: uuid.UUID) -> dict[str, dict[str, int]]:
    """Per reason: how many are filtered and how many agents restored (the filter's errors)."""
    out = {r: {"filtered": 0, "restored": 0} for r in NoiseReason.ALL}
    for reason, state, count in session.execute(
            select(ListenedPost.noise_reason, ListenedPost.state, func.count())
            .where(ListenedPost.workspace_id == workspace_id,
                   ListenedPost.noise_reason.is_not(None))
            .group_by(ListenedPost.noise_reason, ListenedPost.state)):
        if reason in out and state in (PostState.FILTERED, PostState.RESTORED):
            out[reason][state] += int(count)
    return out


@dataclass(frozen=True)
class Opportunity:
    post: ListenedPost
    waited: timedelta


def opportunities(session: Session, workspace_id: uuid.UUID, *,
                  now: datetime | None = None) -> list[Opportunity]:
    """Negative posts to or about a competitor with no visible answer from it for longer than
    the workspace's wait, longest waiting first; empty when the workspace switched it off.
    Nothing is ever sent from here."""
    settings = get_settings(session, workspace_id)
    if not settings.opportunities_enabled:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(minutes=settings.opportunity_wait_minutes)
    rows = session.scalars(
        select(ListenedPost)
        .where(ListenedPost.workspace_id == workspace_id,
               ListenedPost.competitor.is_not(None),
               ListenedPost.sentiment == "negative",
               ListenedPost.competitor_answered_at.is_(None),
               ListenedPost.state.in_((PostState.LISTENING, PostState.CONVERTED)),
               ListenedPost.posted_at <= cutoff)
        .order_by(ListenedPost.posted_at, ListenedPost.id).limit(VIEW_LIMIT))
    return [Opportunity(p, now - p.posted_at) for p in rows
            if (p.author_handle or "").lower().lstrip("@") != p.competitor]


@dataclass(frozen=True)
class Exposed:
    conversation: Conversation
    reach: int | None
    waited: timedelta
    text: str


def defensive_view(session: Session, workspace_id: uuid.UUID, *,
                   now: datetime | None = None) -> list[Exposed]:
    """The brand's own public complaints with no answer after the customer's last post for
    longer than the threshold, most visible (reach: the author's followers) first."""
    settings = get_settings(session, workspace_id)
    now = now or utcnow()
    cutoff = now - timedelta(minutes=settings.defensive_wait_minutes)
    convs = list(session.scalars(
        select(Conversation)
        .where(Conversation.workspace_id == workspace_id,
               Conversation.status.in_((Status.OPEN, Status.PENDING)),
               Conversation.merged_into_id.is_(None),
               Conversation.origin_visibility == "public",
               or_(Conversation.sentiment == "negative", Conversation.category == "complaint"),
               Conversation.last_inbound_at.is_not(None),
               Conversation.last_inbound_at <= cutoff,
               Conversation.last_message_at <= Conversation.last_inbound_at)
        .order_by(Conversation.last_inbound_at).limit(DEFENSIVE_CANDIDATES)))
    if not convs:
        return []
    reach: dict[uuid.UUID, int] = {}
    latest: dict[uuid.UUID, str] = {}
    for conv_id, meta, text in session.execute(
            select(Message.conversation_id, Message.meta, Message.text)
            .where(Message.workspace_id == workspace_id,
                   Message.conversation_id.in_([c.id for c in convs]),
                   Message.direction == "inbound", Message.visibility == "public")
            .order_by(Message.created_at)):
        followers = (meta or {}).get("followers")
        if isinstance(followers, int):
            reach[conv_id] = max(reach.get(conv_id, 0), followers)
        latest[conv_id] = text or ""
    out = [Exposed(c, reach.get(c.id), now - (c.last_inbound_at or now), latest.get(c.id, ""))
           for c in convs]
    out.sort(key=lambda e: (-(e.reach if e.reach is not None else -1), -e.waited))
    return out


# --- into the queue ------------------------------------------------------------------------


def _thread(session: Session, settings: Settings, post: ListenedPost) -> Conversation:
    """Thread the stored item through the inbound batch, as if the filter had let it pass,
    and put its conversation in the agents' queue."""
    account = session.get(ChannelAccount, post.channel_account_id)
    if account is None:
        raise NotFound("the post's channel account no longer exists")
    item = item_from_json(post.item)
    existing = session.scalar(select(Message.conversation_id).where(
        Message.workspace_id == post.workspace_id, Message.channel_account_id == account.id,
        Message.provider_id == item.provider_id))
    if existing is None:
        ctx = BatchContext(session, post.workspace_id, settings)
        ctx.prefetch([(account, item)])
        ctx.add_message(account, item)
        ctx.flush()
        existing = ctx.resolve(ctx.messages[item.provider_id].conversation_id)
    session.execute(update(Conversation).where(Conversation.id == existing)
                    .values(relevance=IN_QUEUE))
    return access_conversation(session, post.workspace_id, existing)


def convert_post(session: Session, settings: Settings, workspace_id: uuid.UUID,
                 post_id: uuid.UUID, actor: Actor) -> Conversation:
    """Turn a listened post into a conversation in the queue (one step; a second call
    returns the same conversation). The agent then replies in public or offers a hop."""
    post = access_post(session, workspace_id, post_id)
    if post.state == PostState.FILTERED:
        raise Conflict("this post was filtered as noise: restore it instead",
                       code="listened_post_filtered")
    if post.conversation_id is not None:
        return access_conversation(session, workspace_id, post.conversation_id)
    conv = _thread(session, settings, post)
    if post.state == PostState.LISTENING:
        post.state = PostState.CONVERTED
    post.conversation_id = conv.id
    post.decided_at = utcnow()
    audit(session, workspace_id, "listening.converted", "listened_post", post.id,
          actor_type=actor.type, actor_id=actor.id, data={"conversation_id": str(conv.id)})
    return conv


def restore_post(session: Session, settings: Settings, workspace_id: uuid.UUID,
                 post_id: uuid.UUID, actor: Actor, *, category: str | None = None,
                 sentiment: str | None = None) -> Conversation:
    """Move a filtered post out of the filter into the queue. The agent's decision is a
    label: the conversation is classified by a person (`conversation.classified`, what
    `threadline train` learns from) with the category and sentiment the agent confirms
    (default: triage's), and the restore is audited with the filter's reason."""
    if category is not None and category not in CATEGORIES:
        raise ValidationFailed(f"category must be one of {', '.join(CATEGORIES)}",
                               code="bad_category", details={"field": "category"})
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise ValidationFailed(f"sentiment must be one of {', '.join(SENTIMENTS)}",
                               code="bad_sentiment", details={"field": "sentiment"})
    post = access_post(session, workspace_id, post_id)
    if post.state == PostState.RESTORED and post.conversation_id is not None:
        return access_conversation(session, workspace_id, post.conversation_id)
    if post.state != PostState.FILTERED:
        raise Conflict("only a filtered post can be restored", code="listened_post_not_filtered")
    conv = _thread(session, settings, post)
    post.state = PostState.RESTORED
    post.conversation_id = conv.id
    post.decided_at = utcnow()
    label = {"category": category or conv.category or post.category,
             "sentiment": sentiment or conv.sentiment or post.sentiment}
    set_triage_fields(session, conv, {k: v for k, v in label.items() if v is not None}, actor)
    audit(session, workspace_id, "listening.restored", "listened_post", post.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"reason": post.noise_reason, "conversation_id": str(conv.id)})
    return conv


def query_of(rules: Sequence[ListeningRule]) -> str:
    """The X recent-search query the stored rules make (shown beside the rules)."""
    return search_query([Rule(r.kind, r.value) for r in rules])
