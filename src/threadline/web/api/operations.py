"""REST: operations: dead letters (list and retry). Channel accounts are in channels.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from threadline.errors import NotFound
from threadline.jobs.deadletters import list_dead, retry_dead
from threadline.schema_types import DeadLetterKind
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, WriteSession, supervisor

router = APIRouter(tags=["operations"])
MAX_ID = 2**63 - 1  # ids are 64-bit integers in both databases


class DeadLetterOut(BaseModel):
    kind: DeadLetterKind
    id: int
    name: str
    attempts: int
    reason: str | None
    at: datetime


class DeadLetterList(BaseModel):
    items: list[DeadLetterOut]


class RetryOut(BaseModel):
    ok: Literal[True]


@router.get("/dead-letters", response_model=DeadLetterList, responses=errors(role=True))
def dead_letters(principal: Annotated[Principal, Depends(supervisor)],
                 session: ReadSession) -> DeadLetterList:
    items = list_dead(session, principal.workspace_id)
    return DeadLetterList.model_validate({"items": [item.__dict__ for item in items]})


@router.post("/dead-letters/{kind}/{item_id}/retry", status_code=202, response_model=RetryOut,
             responses=errors(NotFound, role=True))
def retry(kind: DeadLetterKind, item_id: Annotated[int, Path(ge=1, le=MAX_ID)],
          principal: Annotated[Principal, Depends(supervisor)],
          session: WriteSession) -> RetryOut:
    retry_dead(session, principal.workspace_id, kind, item_id, principal.actor.id)
    return RetryOut(ok=True)
