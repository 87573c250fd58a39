"""REST: channel accounts (list, add, edit), what the composer needs to know about one, and
polling controls.

    GET   /api/v1/channel-accounts                 supervisors: the workspace's accounts
    POST  /api/v1/channel-accounts                 admins: add one (polling ones start polling)
    PATCH /api/v1/channel-accounts/{id}            admins: rename, (de)activate, rotate config
    GET   /api/v1/channel-accounts/{id}/traits[?conversation_id=]
         the channel's traits (public/private surfaces, character limit, messaging window,
         real-time or delayed, hiding), how a send is recovered after a crash, and, for a
         conversation, whether a public and a private reply may be sent now and, if not, what
         is allowed instead (template, human-agent tag, private reply...).
    POST  /api/v1/channel-accounts/{id}/poll
         poll a polling account (IMAP email, X mentions) now.
    GET   /api/v1/channel-accounts/{id}/whatsapp-templates
         a WhatsApp account's message templates as last synced (status, category, body).
    POST  /api/v1/channel-accounts/{id}/whatsapp-templates/sync
         admins: sync them from WhatsApp now (an outbox job; 202).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from threadline.adapters.config import config_check
from threadline.channels.base import ReconcilingAdapter, SendPolicyError, Visibility
from threadline.channels.registry import get_adapter, kinds
from threadline.errors import NotFound, ValidationFailed
from threadline.ingest.polling import interval, polls, schedule_poll
from threadline.jobs.runtime import Runtime
from threadline.outbound import whatsapp_templates as wa_templates
from threadline.outbound.replies import check_reply
from threadline.schema_types import ChannelKind, VisibilityName
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    admin,
    current_principal,
    get_runtime,
    supervisor,
)
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import (
    access_channel_account,
    create_channel_account,
    list_channel_accounts,
    update_channel_account,
    webhook_path,
)

router = APIRouter(prefix="/channel-accounts", tags=["channel accounts"])


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: ChannelKind
    name: str = Field(min_length=1, max_length=255)
    config: dict[str, Any] = Field(default_factory=dict)


class AccountPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, min_length=1, max_length=255)
    active: bool | None = None
    config: dict[str, Any] | None = None  # keys to set; a null value removes the key


class AccountOut(BaseModel):
    id: uuid.UUID
    kind: ChannelKind
    name: str
    webhook_path: str


class AccountList(BaseModel):
    items: list[AccountOut]


class ReplyCheck(BaseModel):
    ok: bool
    code: str | None = None
    message: str | None = None
    allowed: list[str] = []


CrashRecovery = Literal["reconcile", "resend_same_id", "hold_for_agent"]


class TraitsOut(BaseModel):
    account_id: uuid.UUID
    kind: ChannelKind
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
    crash_recovery: CrashRecovery
    replies: dict[VisibilityName, ReplyCheck] | None = None  # for ?conversation_id=


class PollOut(BaseModel):
    scheduled: bool  # false: a poll is already due


def _out(account: ChannelAccount) -> AccountOut:
    return AccountOut.model_validate({"id": account.id, "kind": account.kind,
                                      "name": account.name,
                                      "webhook_path": webhook_path(account)})


@router.get("", response_model=AccountList, responses=errors(role=True))
def accounts(principal: Annotated[Principal, Depends(supervisor)],
             session: ReadSession) -> AccountList:
    return AccountList(items=[_out(a) for a in list_channel_accounts(session,
                                                                     principal.workspace_id)])


@router.post("", response_model=AccountOut, status_code=201, responses=errors(role=True))
def add_account(body: AccountIn, principal: Annotated[Principal, Depends(admin)],
                session: WriteSession, runtime: Annotated[Runtime, Depends(get_runtime)],
                ) -> AccountOut:
    account = create_channel_account(session, principal.workspace_id, kind=body.kind,
                                     name=body.name, config=body.config, known_kinds=kinds(),
                                     check_config=config_check(runtime.settings))
    schedule_poll(session, account)  # polling accounts (email, X mentions) start polling
    return _out(account)


@router.patch("/{account_id}", response_model=AccountOut,
              responses=errors(NotFound, role=True))
def edit_account(account_id: uuid.UUID, body: AccountPatch,
                 principal: Annotated[Principal, Depends(admin)],
                 session: WriteSession, runtime: Annotated[Runtime, Depends(get_runtime)],
                 ) -> AccountOut:
    account = update_channel_account(
        session, access_channel_account(session, principal.workspace_id, account_id),
        name=body.name, active=body.active, config_patch=body.config,
        actor_type=principal.actor.type, actor_id=principal.actor.id,
        check_config=config_check(runtime.settings))
    return _out(account)


def _recovery(adapter: Any) -> CrashRecovery:
    if isinstance(adapter, ReconcilingAdapter):
        return "reconcile"
    if getattr(adapter, "resend_is_idempotent", False):
        return "resend_same_id"
    return "hold_for_agent"


def _check(found: SendPolicyError | None) -> ReplyCheck:
    if found is None:
        return ReplyCheck(ok=True)
    return ReplyCheck(ok=False, code=found.code, message=found.message, allowed=found.allowed)


@router.get("/{account_id}/traits", response_model=TraitsOut, responses=errors(NotFound))
def traits(account_id: uuid.UUID, principal: Annotated[Principal, Depends(current_principal)],
           session: ReadSession,
           conversation_id: uuid.UUID | None = None) -> TraitsOut:
    account = access_channel_account(session, principal.workspace_id, account_id)
    adapter = get_adapter(account.kind)
    t = adapter.traits
    polling = polls(account)
    out = TraitsOut.model_validate(dict(
        account_id=account.id, kind=account.kind, name=account.name,
        public=t.public, private=t.private, char_limit=t.char_limit,
        window_hours=t.window_hours, realtime=t.realtime, can_hide=t.can_hide,
        identity_kind=t.identity_kind, polling=polling,
        poll_interval_seconds=interval(account) if polling else None,
        crash_recovery=_recovery(adapter)))
    if conversation_id is not None:
        out.replies = {v.value: _check(check_reply(session, principal.workspace_id,
                                                   conversation_id, account, v))
                       for v in Visibility if getattr(t, v.value)}
    return out


@router.post("/{account_id}/poll", status_code=202, response_model=PollOut,
             responses=errors(NotFound, role=True))
def poll_now(account_id: uuid.UUID, principal: Annotated[Principal, Depends(supervisor)],
             session: WriteSession) -> PollOut:
    """Scope "function": the commit happens before the 202 is sent."""
    account = access_channel_account(session, principal.workspace_id, account_id)
    if not polls(account):
        raise ValidationFailed("this channel account is not polled (it receives webhooks)",
                               code="not_polled")
    job = schedule_poll(session, account)
    return PollOut(scheduled=job is not None)


class WhatsAppTemplateOut(BaseModel):
    id: uuid.UUID
    name: str
    language: str
    status: str  # APPROVED, PENDING, REJECTED ... or UNKNOWN
    category: str
    body: str
    variables: list[str]


class WhatsAppTemplateList(BaseModel):
    items: list[WhatsAppTemplateOut]


class SyncOut(BaseModel):
    queued: bool  # false: a sync is already pending


@router.get("/{account_id}/whatsapp-templates", response_model=WhatsAppTemplateList,
            responses=errors(NotFound, ValidationFailed))
def whatsapp_templates(account_id: uuid.UUID,
                       principal: Annotated[Principal, Depends(current_principal)],
                       session: ReadSession) -> WhatsAppTemplateList:
    account = wa_templates.whatsapp_account(session, principal.workspace_id, account_id)
    return WhatsAppTemplateList(items=[WhatsAppTemplateOut(
        id=t.id, name=t.name, language=t.language, status=t.status, category=t.category,
        body=wa_templates.body_of(t), variables=wa_templates.variables_of(t))
        for t in wa_templates.list_account_templates(session, principal.workspace_id,
                                                     account.id)])


@router.post("/{account_id}/whatsapp-templates/sync", status_code=202, response_model=SyncOut,
             responses=errors(NotFound, ValidationFailed, role=True))
def sync_whatsapp_templates(account_id: uuid.UUID,
                            principal: Annotated[Principal, Depends(admin)],
                            session: WriteSession) -> SyncOut:
    return SyncOut(queued=wa_templates.request_sync(session, principal.workspace_id,
                                                    account_id, principal.actor))
