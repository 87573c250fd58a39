"""WhatsApp message templates and quick replies in the desktop.

    GET  /channel-accounts/{id}/whatsapp-templates/picker[?wa_template_id=]
         the composer's template picker: the account's approved templates (with their
         language) and, for the chosen one, one input per body variable and the preview
         (filled live by static/wa_templates.js)
    POST /settings/accounts/{id}/whatsapp-templates/sync
         admins: sync the account's templates from WhatsApp now (an outbox job)

The reply handler (`actions.reply`) reads what the composer sends with `composer_extras`:
the chosen template and its variables (`wa_template_id`, `wa_var_<name>`), and quick
replies (`quick_replies`, one per line) on the channels that offer them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from threadline.channels.base import MAX_CHOICE_ID_BYTES
from threadline.errors import ValidationFailed
from threadline.outbound import whatsapp_templates as templates
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Admin,
    DesktopRoute,
    DeskUser,
    ReadSession,
    WriteSession,
    current_user,
    form_value,
)
from threadline.workspace.service import access_channel_account

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
# The channels whose private messages carry quick replies or buttons, and how many at most
# (the adapter checks its own limits again: WhatsApp 3, Messenger and Instagram 13...).
QUICK_REPLY_CHANNELS = frozenset({"facebook", "instagram", "whatsapp", "telegram"})
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_CHARS = 200  # before the channel's own title limit (20 on Meta)
MAX_VARIABLE_VALUE = 4096  # a form value; the template rule (1,024) gives the typed reason


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"choose a valid {field.replace('_', ' ')}", code="bad_id",
                               details={"field": field}) from None


@router.get("/channel-accounts/{account_id}/whatsapp-templates/picker")
def picker(account_id: uuid.UUID, request: Request,
           user: Annotated[DeskUser, Depends(current_user)], session: ReadSession) -> Response:
    account = templates.whatsapp_account(session, user.workspace_id, account_id)
    approved = templates.list_account_templates(session, user.workspace_id, account.id,
                                                approved_only=True)
    chosen_raw = request.query_params.get("wa_template_id", "")
    chosen = (templates.access_template(session, user.workspace_id, account.id,
                                        _uuid(chosen_raw, "wa_template_id"))
              if chosen_raw else None)
    return render(request, "partials/wa_template_picker.html", {
        "account": account, "approved": approved, "chosen": chosen,
        "body": templates.body_of(chosen) if chosen else "",
        "variables": templates.variables_of(chosen) if chosen else []})


@router.post("/settings/accounts/{account_id}/whatsapp-templates/sync")
def sync_now(account_id: uuid.UUID, form: PostedForm, user: Admin,
             session: WriteSession) -> Response:
    queued = templates.request_sync(session, user.workspace_id, account_id, user.actor)
    notice = "template-sync-queued" if queued else "template-sync-already-queued"
    return RedirectResponse(f"/settings?notice={notice}", status_code=303)


def composer_extras(session: Session, workspace_id: uuid.UUID, account_id: uuid.UUID | None,
                    form: Any) -> tuple[dict[str, Any], str | None]:
    """Options from the composer's template picker and quick replies, and the text to
    record when a template is sent (its body filled), else None."""
    options: dict[str, Any] = {}
    text: str | None = None
    chosen = form_value(form, "wa_template_id")
    if chosen:
        if account_id is None:
            raise ValidationFailed("choose the WhatsApp account of the template",
                                   code="no_channel", details={"field": "account_id"})
        account = templates.whatsapp_account(session, workspace_id, account_id)
        row = templates.access_template(session, workspace_id, account.id,
                                        _uuid(chosen, "wa_template_id"))
        values: dict[str, str] = {}
        for name in templates.variables_of(row):
            raw = form.get(f"wa_var_{name}")
            value = raw if isinstance(raw, str) else ""
            if len(value) > MAX_VARIABLE_VALUE:
                raise ValidationFailed("a variable is at most 1,024 characters",
                                       code="template_variable_invalid",
                                       details={"field": f"wa_var_{name}"})
            values[name] = value
        sent, text = templates.template_send(row, values)
        options.update(sent)
    lines = [line.strip() for line in str(form.get("quick_replies") or "").splitlines()]
    replies = [line for line in lines if line]
    if replies:
        account_kind = (access_channel_account(session, workspace_id, account_id).kind
                        if account_id is not None else None)
        if account_kind not in QUICK_REPLY_CHANNELS:
            raise ValidationFailed("quick replies go on Messenger, Instagram, WhatsApp and "
                                   "Telegram messages", code="no_quick_replies",
                                   details={"field": "quick_replies"})
        if chosen:
            raise ValidationFailed("a template carries its own buttons; no quick replies "
                                   "with it", code="quick_replies_with_template",
                                   details={"field": "quick_replies"})
        if len(replies) > MAX_QUICK_REPLIES:
            raise ValidationFailed(f"at most {MAX_QUICK_REPLIES} quick replies (Messenger's "
                                   "limit; WhatsApp takes 3)", code="too_many_choices",
                                   details={"field": "quick_replies"})
        if any(len(r) > MAX_QUICK_REPLY_CHARS for r in replies):
            raise ValidationFailed("a quick reply is one short line", code="choice_title_too_long",
                                   details={"field": "quick_replies"})
        if len(set(replies)) != len(replies):
            raise ValidationFailed("each quick reply once", code="bad_choices",
                                   details={"field": "quick_replies"})
        # the id comes back with the tap (Telegram reads it as the customer's text): the
        # title itself when it fits the smallest provider limit (64 bytes)
        options["choices"] = [{"id": r if len(r.encode()) <= MAX_CHOICE_ID_BYTES else f"qr{i}",
                               "title": r} for i, r in enumerate(replies, 1)]
    return options, text
