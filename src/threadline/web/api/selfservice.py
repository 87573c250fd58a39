"""REST: the self-service bot. Its settings (read by supervisors, written by admins), its
figures (deflection and handover rates over the last days), and a try-out: which article
the bot would answer a message with, and how sure it is (nothing is sent or stored)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from threadline.errors import NotFound
from threadline.selfservice import service
from threadline.selfservice.settings import SelfServiceSettings
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, WriteSession, admin, supervisor

router = APIRouter(tags=["selfservice"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]


class FiguresOut(BaseModel):
    since: str
    until: str
    sessions: int = Field(description="conversations the bot looked at")
    answered: int = Field(description="... that it answered at least once")
    waiting: int = Field(description="answered, the customer has not replied yet")
    deflected: int = Field(description="resolved without an agent")
    handed_over: int = Field(description="put in the live queue")
    deflection_rate: float | None = Field(description="deflected / (deflected + handed over)")
    handover_rate: float | None = Field(description="handed over / (deflected + handed over)")
    reasons: dict[str, int] = Field(description="outcomes by reason")


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(min_length=1, max_length=4000)
    language: str | None = Field(default=None, max_length=16)


class TryOut(BaseModel):
    article_id: uuid.UUID | None
    title: str | None
    confidence: float
    threshold: float
    would_answer: bool


@router.get("/selfservice/settings", response_model=SelfServiceSettings,
            responses=errors(role=True))
def get_settings(principal: Supervisor, session: ReadSession) -> SelfServiceSettings:
    """Whether the bot answers, on which accounts, its threshold and deflection time."""
    return service.settings_of(session, principal.workspace_id)


@router.put("/selfservice/settings", response_model=SelfServiceSettings,
            responses=errors(NotFound, role=True))
def put_settings(body: SelfServiceSettings, principal: Admin,
                 session: WriteSession) -> SelfServiceSettings:
    """Replace the settings; every account named must be one of this workspace's web chat,
    Messenger, WhatsApp or Telegram accounts."""
    return service.save_settings(session, principal.workspace_id, body, principal.actor)


@router.get("/selfservice/figures", response_model=FiguresOut, responses=errors(role=True))
def get_figures(principal: Supervisor, session: ReadSession,
                days: Annotated[int, Query(ge=1, le=366)] = 30) -> FiguresOut:
    """The bot's outcomes over the last `days` days."""
    return FiguresOut(**service.figures(session, principal.workspace_id, days).as_dict())


@router.post("/selfservice/try", response_model=TryOut, responses=errors(role=True))
def try_message(body: TryIn, principal: Supervisor, session: ReadSession) -> TryOut:
    """The article the bot would answer `text` with (nothing is sent or stored)."""
    found = service.match(session, principal.workspace_id, body.text, body.language)
    config = service.settings_of(session, principal.workspace_id)
    article = service.published_article(session, principal.workspace_id, found.article_id) \
        if found.article_id else None
    return TryOut(article_id=article.id if article else None,
                  title=article.title if article else None, confidence=found.confidence,
                  threshold=config.threshold,
                  would_answer=article is not None and found.confident(config.threshold))
