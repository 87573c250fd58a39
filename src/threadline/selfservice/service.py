"""The self-service bot's reads and settings: the workspace's matcher (built from its published
articles, cached by their version), what a message would be answered with, the figures the
KPIs count (deflection and handover rates), and the settings with the accounts they name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.knowledge.models import Article, ArticleStatus
from threadline.selfservice.matcher import CACHE, Doc, Match, Matcher
from threadline.selfservice.models import BotSession, BotState, Reason
from threadline.selfservice.settings import (
    BOT_KINDS,
    SelfServiceSettings,
    selfservice_settings,
    set_selfservice_settings,
)
from threadline.workspace.models import ChannelAccount

MAX_MESSAGE = 2000  # what is matched of a message (the rest is not read)


def _version(session: Session, workspace_id: uuid.UUID) -> tuple[int, str]:
    count, latest = session.execute(
        select(func.count(Article.id), func.max(Article.updated_at)).where(
            Article.workspace_id == workspace_id,
            Article.status == ArticleStatus.PUBLISHED)).one()
    return int(count or 0), latest.isoformat() if latest is not None else ""


def _docs(session: Session, workspace_id: uuid.UUID) -> list[Doc]:
    rows = session.execute(
        select(Article.id, Article.title, Article.questions, Article.tags, Article.body,
               Article.language).where(Article.workspace_id == workspace_id,
                                       Article.status == ArticleStatus.PUBLISHED)
        .order_by(Article.id))
    return [Doc(id=row.id, title=row.title or "",
                questions=tuple(str(q) for q in (row.questions or [])),
                tags=tuple(str(t) for t in (row.tags or [])), body=row.body or "",
                language=row.language) for row in rows]


def matcher_for(session: Session, workspace_id: uuid.UUID) -> Matcher:
    """The workspace's matcher, rebuilt when a published article changed (one small query
    when nothing did)."""
    version = _version(session, workspace_id)
    found = CACHE.get(workspace_id, version)
    if found is not None:
        return found
    matcher = CACHE.get(workspace_id, version, _docs(session, workspace_id))
    assert matcher is not None
    return matcher


def match(session: Session, workspace_id: uuid.UUID, text: str,
          language: str | None = None) -> Match:
    return matcher_for(session, workspace_id).match(text[:MAX_MESSAGE], language)


def published_article(session: Session, workspace_id: uuid.UUID,
                      article_id: uuid.UUID) -> Article | None:
    """A published article of this workspace (None for another workspace's, a draft or an
    archived one)."""
    article = session.get(Article, article_id)
    if (article is None or article.workspace_id != workspace_id
            or article.status != ArticleStatus.PUBLISHED):
        return None
    return article


# --- settings ---------------------------------------------------------------------------------


def bot_accounts(session: Session, workspace_id: uuid.UUID) -> list[ChannelAccount]:
    """The workspace's accounts the bot can answer on (web chat, Messenger, WhatsApp,
    Telegram), by kind and name."""
    return list(session.scalars(select(ChannelAccount).where(
        ChannelAccount.workspace_id == workspace_id,
        ChannelAccount.kind.in_(sorted(BOT_KINDS))).order_by(ChannelAccount.kind,
                                                             ChannelAccount.name)))


def save_settings(session: Session, workspace_id: uuid.UUID, value: SelfServiceSettings,
                  actor: Actor) -> SelfServiceSettings:
    """Save the settings; an account named must be one of the workspace's that the bot can
    answer on (404 for another workspace's or an unknown id, 422 for a public channel)."""
    mine = {str(a.id): a for a in session.scalars(select(ChannelAccount).where(
        ChannelAccount.workspace_id == workspace_id,
        ChannelAccount.id.in_([uuid.UUID(k) for k in value.accounts])))} \
        if value.accounts else {}
    for key in value.accounts:
        account = mine.get(key)
        if account is None:
            raise NotFound("channel account not found", code="channel_account_not_found",
                           details={"field": "accounts"})
        if account.kind not in BOT_KINDS:
            raise ValidationFailed(f"the bot does not answer on {account.kind}",
                                   code="channel_not_supported", details={"field": "accounts"})
    return set_selfservice_settings(session, workspace_id, value, actor)


def settings_of(session: Session, workspace_id: uuid.UUID) -> SelfServiceSettings:
    return selfservice_settings(session, workspace_id)


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    since: datetime
    until: datetime
    sessions: int  # conversations the bot looked at
    answered: int  # ... and answered at least once
    waiting: int  # answered, the customer has not said yet
    deflected: int  # resolved without an agent
    handed_over: int
    reasons: dict[str, int]

    @property
    def settled(self) -> int:
        return self.deflected + self.handed_over

    @property
    def deflection_rate(self) -> float | None:
        return round(self.deflected / self.settled, 4) if self.settled else None

    @property
    def handover_rate(self) -> float | None:
        return round(self.handed_over / self.settled, 4) if self.settled else None

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(),
                "sessions": self.sessions, "answered": self.answered,
                "waiting": self.waiting, "deflected": self.deflected,
                "handed_over": self.handed_over, "deflection_rate": self.deflection_rate,
                "handover_rate": self.handover_rate, "reasons": dict(self.reasons)}


def figures(session: Session, workspace_id: uuid.UUID, days: int = 30,
            now: datetime | None = None) -> Figures:
    """The bot's outcomes of the conversations it looked at in the last `days` days: the
    deflection rate is deflected / (deflected + handed over); sessions still waiting for
    the customer count in neither."""
    until = now or utcnow()
    since = until - timedelta(days=max(1, min(days, 366)))
    rows = session.execute(
        select(BotSession.state, BotSession.reason, func.count())
        .where(BotSession.workspace_id == workspace_id, BotSession.started_at >= since,
               BotSession.started_at < until)
        .group_by(BotSession.state, BotSession.reason)).all()
    answered = int(session.scalar(select(func.count()).where(
        BotSession.workspace_id == workspace_id, BotSession.started_at >= since,
        BotSession.started_at < until, BotSession.answers > 0)) or 0)
    by_state: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for state, reason, count in rows:
        by_state[state] = by_state.get(state, 0) + int(count)
        if reason:
            reasons[reason] = reasons.get(reason, 0) + int(count)
    return Figures(since=since, until=until, sessions=sum(by_state.values()),
                   answered=answered, waiting=by_state.get(BotState.BOT, 0),
                   deflected=by_state.get(BotState.DEFLECTED, 0),
                   handed_over=by_state.get(BotState.HANDED_OVER, 0),
                   reasons={r: reasons[r] for r in (*Reason.DEFLECTIONS, *Reason.HANDOVERS)
                            if r in reasons})
