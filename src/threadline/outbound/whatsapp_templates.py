"""WhatsApp message templates synced from the provider, and sending one from the composer.

A sync is a durable outbox job per WhatsApp account (`whatsapp.templates.sync`): it lists
the business account's templates (`channels/whatsapp/templates.py`, following
`paging.next`) and replaces the account's rows in one transaction. It is asked for on
demand (the settings page, the admin API) and by the `message_template_status_update`
webhook, whose item the interceptor below takes before threading (it never becomes a
message): the row's status changes at once, and a sync follows. At most one sync is
pending per account, so a burst of webhooks costs one listing (decision 0324).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import ChannelError, InboundMessage, RetryableSendError
from threadline.channels.whatsapp import templates as wa
from threadline.channels.whatsapp.adapter import TEMPLATE_NOTICE
from threadline.conversations.service import SYSTEM, Actor
from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.models import OutboxJob, WorkStatus
from threadline.events.service import audit, enqueue
from threadline.inbound.intercept import interceptor
from threadline.jobs.registry import Job, PermanentFailure, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.outbound.whatsapp_template_models import WhatsAppTemplate
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import access_channel_account

log = logging.getLogger("threadline.whatsapp.templates")
SYNC_JOB = "whatsapp.templates.sync"
APPROVED = "APPROVED"
MAX_VARIABLES = 20
FORBIDDEN_IN_PARAMETER = ("\n", "\r", "\t")  # WhatsApp refuses them (error 132012)


def whatsapp_account(session: Session, workspace_id: uuid.UUID,
                     account_id: uuid.UUID) -> ChannelAccount:
    """The workspace's WhatsApp account (another workspace's is not found)."""
    account = access_channel_account(session, workspace_id, account_id)
    if account.kind != "whatsapp":
        raise ValidationFailed("message templates belong to WhatsApp accounts",
                               code="not_whatsapp", details={"kind": account.kind})
    return account


def request_sync(session: Session, workspace_id: uuid.UUID, account_id: uuid.UUID,
                 actor: Actor) -> bool:
    """Ask for a sync of the account's templates; False when one is already pending."""
    account = whatsapp_account(session, workspace_id, account_id)
    queued = _queue_sync(session, account)
    audit(session, workspace_id, "whatsapp_templates.sync_requested", "channel_account",
          account.id, actor_type=actor.type, actor_id=actor.id, data={"queued": queued})
    return queued


def _queue_sync(session: Session, account: ChannelAccount) -> bool:
    pending = session.scalars(select(OutboxJob.payload).where(
        OutboxJob.workspace_id == account.workspace_id, OutboxJob.name == SYNC_JOB,
        OutboxJob.status == WorkStatus.PENDING)).all()
    if any(p.get("account_id") == str(account.id) for p in pending):
        return False
    enqueue(session, SYNC_JOB, {"account_id": str(account.id)},
            workspace_id=account.workspace_id)
    return True


def list_account_templates(session: Session, workspace_id: uuid.UUID, account_id: uuid.UUID,
                           *, approved_only: bool = False) -> list[WhatsAppTemplate]:
    query = select(WhatsAppTemplate).where(
        WhatsAppTemplate.workspace_id == workspace_id,
        WhatsAppTemplate.channel_account_id == account_id)
    if approved_only:
        query = query.where(WhatsAppTemplate.status == APPROVED)
    return list(session.scalars(query.order_by(WhatsAppTemplate.name,
                                               WhatsAppTemplate.language)))


def access_template(session: Session, workspace_id: uuid.UUID, account_id: uuid.UUID,
                    template_id: uuid.UUID) -> WhatsAppTemplate:
    row = session.get(WhatsAppTemplate, template_id)
    if row is None or row.workspace_id != workspace_id or row.channel_account_id != account_id:
        raise NotFound("message template not found")
    return row


def body_of(row: WhatsAppTemplate) -> str:
    return wa.body_text(list(row.components or []))


def variables_of(row: WhatsAppTemplate) -> list[str]:
    return wa.variables(body_of(row))


def template_send(row: WhatsAppTemplate, values: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The send options of an approved template with its variables filled, and the filled
    text (what the timeline records). Every variable needs a value of one line."""
    if row.status != APPROVED:
        raise ValidationFailed(f"the template {row.name} is {row.status}, not approved",
                               code="template_not_approved",
                               details={"field": "wa_template_id"})
    names = variables_of(row)
    if len(names) > MAX_VARIABLES:
        raise ValidationFailed(f"a template has at most {MAX_VARIABLES} variables",
                               code="bad_template")
    filled: dict[str, str] = {}
    for name in names:
        value = (values.get(name) or "").strip()
        if not value:
            raise ValidationFailed(f"fill the variable {{{{{name}}}}}",
                                   code="template_variable_missing",
                                   details={"field": f"wa_var_{name}"})
        if len(value) > wa.MAX_PARAMETER or any(c in value for c in FORBIDDEN_IN_PARAMETER):
            raise ValidationFailed(
                f"a variable is one line of at most {wa.MAX_PARAMETER} characters",
                code="template_variable_invalid", details={"field": f"wa_var_{name}"})
        filled[name] = value
    template: dict[str, Any] = {"name": row.name, "language": row.language}
    if names:
        template["components"] = [{"type": "body",
                                   "parameters": wa.body_parameters(names, filled)}]
    text = wa.fill(body_of(row), filled) or f"[WhatsApp template {row.name}]"
    return {"template": template}, text


# --- the sync job -----------------------------------------------------------------------------


@handler(SYNC_JOB)
def sync_templates(runtime: Runtime, job: Job) -> None:
    account_id = uuid.UUID(str(job.payload["account_id"]))
    with runtime.db.session(write=False) as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or account.kind != "whatsapp":
            return
        config = account_config(account, runtime.settings)
    try:
        listed = wa.list_templates(config, runtime.http)
    except RetryableSendError as exc:
        raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
    except ChannelError as exc:
        raise PermanentFailure(f"{exc.code}: {exc.redacted(config).message}") from None
    with runtime.db.session() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None:
            return
        counts = replace_templates(session, account, listed)
        audit(session, account.workspace_id, "whatsapp_templates.synced", "channel_account",
              account.id, actor_type=SYSTEM.type, data=counts)


def replace_templates(session: Session, account: ChannelAccount,
                      listed: list[wa.Template]) -> dict[str, int]:
    """The account's rows become what was listed (updated in place, new ones added, the
    ones no longer listed deleted)."""
    now = utcnow()
    rows = {(r.name, r.language): r for r in session.scalars(select(WhatsAppTemplate).where(
        WhatsAppTemplate.channel_account_id == account.id))}
    seen: set[tuple[str, str]] = set()
    added = 0
    for t in listed:
        key = (t.name, t.language)
        if key in seen:
            continue
        seen.add(key)
        row = rows.get(key)
        if row is None:
            row = WhatsAppTemplate(workspace_id=account.workspace_id,
                                   channel_account_id=account.id, name=t.name,
                                   language=t.language)
            session.add(row)
            added += 1
        row.provider_id, row.status, row.category = t.provider_id, t.status, t.category
        row.components, row.synced_at = t.components, now
    gone = [r.id for key, r in rows.items() if key not in seen]
    if gone:
        session.execute(delete(WhatsAppTemplate).where(WhatsAppTemplate.id.in_(gone)))
    return {"listed": len(seen), "added": added, "removed": len(gone)}


# --- the status webhook -----------------------------------------------------------------------


@interceptor("whatsapp_templates")
def template_status(runtime: Runtime, session: Session, account: ChannelAccount,
                    item: InboundMessage) -> bool:
    """A template status change: the row takes the new status now; a sync follows."""
    notice = item.meta.get(TEMPLATE_NOTICE) if account.kind == "whatsapp" else None
    if not isinstance(notice, dict):
        return False
    name, language = str(notice.get("name") or ""), str(notice.get("language") or "")
    for row in session.scalars(select(WhatsAppTemplate).where(
            WhatsAppTemplate.channel_account_id == account.id,
            WhatsAppTemplate.name == name)):
        if not language or row.language == language:
            row.status = wa.status_of(notice.get("status"))
    _queue_sync(session, account)
    audit(session, account.workspace_id, "whatsapp_templates.status_changed",
          "channel_account", account.id,
          data={"name": name, "language": language, "status": notice.get("status"),
                "reason": notice.get("reason")})
    return True
