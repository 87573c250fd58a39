"""REST: what the composer needs to know about channel accounts, and polling controls.

    GET  /api/v1/channel-accounts/{id}/traits[?conversation_id=]
         the channel's traits (public/private surfaces, character limit, messaging window,
         real-time or delayed, hiding), how a send is recovered after a crash, and, for a
         conversation, whether a public and a private reply may be sent now and, if not, what
         is allowed instead (template, human-agent tag, private reply...).
    POST /api/v1/channel-accounts/{id}/poll
         poll a polling account (IMAP email, X mentions) now.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from threadline.channels.base import ReconcilingAdapter, SendPolicyError, Visibility
from threadline.channels.registry import get_adapter
from threadline.errors import ValidationFailed
from threadline.ingest.polling import interval, polls, schedule_poll
from threadline.outbound.replies import check_reply
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    current_principal,
    supervisor,
)
from threadline.workspace.service import access_channel_account

router = APIRouter(prefix="/channel-accounts", tags=["channels"])


class ReplyCheck(BaseModel):
    ok: bool
    code: str | None = None
    message: str | None = None
    allowed: list[str] = []


class TraitsOut(BaseModel):
    account_id: uuid.UUID
    kind: str
    name: str
    public: bool
    private: bool
    char_limit: int | None
    window_hours: float | None
    realtime: bool
    can_hide: bool
    identity_kind: str
    polling: bool
    poll_interval_seconds: float | None
    crash_recovery: str  # reconcile | resend_same_id | hold_for_agent
    replies: dict[str, ReplyCheck] | None = None  # per visibility, for ?conversation_id=


def _recovery(adapter: Any) -> str:
    if isinstance(adapter, ReconcilingAdapter):
        return "reconcile"
    if getattr(adapter, "resend_is_idempotent", False):
        return "resend_same_id"
    return "hold_for_agent"


def _check(found: SendPolicyError | None) -> ReplyCheck:
    if found is None:
        return ReplyCheck(ok=True)
    return ReplyCheck(ok=False, code=found.code, message=found.message, allowed=found.allowed)


@router.get("/{account_id}/traits", response_model=TraitsOut)
def traits(account_id: uuid.UUID, principal: Annotated[Principal, Depends(current_principal)],
           session: ReadSession,
           conversation_id: uuid.UUID | None = None) -> TraitsOut:
    account = access_channel_account(session, principal.workspace_id, account_id)
    adapter = get_adapter(account.kind)
    t = adapter.traits
    polling = polls(account)
    out = TraitsOut(account_id=account.id, kind=account.kind, name=account.name,
                    public=t.public, private=t.private, char_limit=t.char_limit,
                    window_hours=t.window_hours, realtime=t.realtime, can_hide=t.can_hide,
                    identity_kind=t.identity_kind, polling=polling,
                    poll_interval_seconds=interval(account) if polling else None,
                    crash_recovery=_recovery(adapter))
    if conversation_id is not None:
        out.replies = {v.value: _check(check_reply(session, principal.workspace_id,
                                                   conversation_id, account, v))
                       for v in Visibility if getattr(t, v.value)}
    return out


@router.post("/{account_id}/poll", status_code=202)
def poll_now(account_id: uuid.UUID, principal: Annotated[Principal, Depends(supervisor)],
             session: WriteSession
             ) -> dict[str, Any]:
    """Scope "function": the commit happens before the 202 is sent."""
    account = access_channel_account(session, principal.workspace_id, account_id)
    if not polls(account):
        raise ValidationFailed("this channel account is not polled (it receives webhooks)",
                               code="not_polled")
    job = schedule_poll(session, account)
    return {"scheduled": job is not None}
