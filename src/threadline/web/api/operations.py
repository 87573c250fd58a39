"""REST: dead letters (list and retry) and channel accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from threadline.adapters.config import config_check
from threadline.channels.registry import kinds
from threadline.ingest.polling import schedule_poll
from threadline.jobs.deadletters import list_dead, retry_dead
from threadline.jobs.runtime import Runtime
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    admin,
    get_runtime,
    supervisor,
)
from threadline.workspace.service import (
    access_channel_account,
    create_channel_account,
    list_channel_accounts,
    update_channel_account,
    webhook_path,
)

router = APIRouter(tags=["operations"])


class DeadLetterOut(BaseModel):
    kind: str
    id: int
    name: str
    attempts: int
    reason: str | None
    at: datetime


@router.get("/dead-letters", response_model=dict[str, list[DeadLetterOut]])
def dead_letters(principal: Annotated[Principal, Depends(supervisor)],
                 session: ReadSession) -> dict[str, Any]:
    items = list_dead(session, principal.workspace_id)
    return {"items": [DeadLetterOut(**item.__dict__) for item in items]}


@router.post("/dead-letters/{kind}/{item_id}/retry", status_code=202)
def retry(kind: str, item_id: int, principal: Annotated[Principal, Depends(supervisor)],
          session: WriteSession) -> dict[str, Any]:
    retry_dead(session, principal.workspace_id, kind, item_id, principal.actor.id)
    return {"ok": True}


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=255)
    config: dict[str, Any] = Field(default_factory=dict)


class AccountPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, min_length=1, max_length=255)
    active: bool | None = None
    config: dict[str, Any] | None = None  # keys to set; a null value removes the key


class AccountOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    webhook_path: str


@router.get("/channel-accounts", response_model=dict[str, list[AccountOut]])
def accounts(principal: Annotated[Principal, Depends(supervisor)],
             session: ReadSession) -> dict[str, Any]:
    return {"items": [AccountOut(id=a.id, kind=a.kind, name=a.name, webhook_path=webhook_path(a))
                      for a in list_channel_accounts(session, principal.workspace_id)]}


@router.post("/channel-accounts", response_model=AccountOut, status_code=201)
def add_account(body: AccountIn, principal: Annotated[Principal, Depends(admin)],
                session: WriteSession, runtime: Annotated[Runtime, Depends(get_runtime)],
                ) -> AccountOut:
    account = create_channel_account(session, principal.workspace_id, kind=body.kind,
                                     name=body.name, config=body.config, known_kinds=kinds(),
                                     check_config=config_check(runtime.settings))
    schedule_poll(session, account)  # polling accounts (email, X mentions) start polling
    return AccountOut(id=account.id, kind=account.kind, name=account.name,
                      webhook_path=webhook_path(account))


@router.patch("/channel-accounts/{account_id}", response_model=AccountOut)
def edit_account(account_id: uuid.UUID, body: AccountPatch,
                 principal: Annotated[Principal, Depends(admin)],
                 session: WriteSession, runtime: Annotated[Runtime, Depends(get_runtime)],
                 ) -> AccountOut:
    account = update_channel_account(
        session, access_channel_account(session, principal.workspace_id, account_id),
        name=body.name, active=body.active, config_patch=body.config,
        actor_type=principal.actor.type, actor_id=principal.actor.id,
        check_config=config_check(runtime.settings))
    return AccountOut(id=account.id, kind=account.kind, name=account.name,
                      webhook_path=webhook_path(account))
