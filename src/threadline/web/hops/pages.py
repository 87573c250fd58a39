"""Rendering the public short-link pages: the forms, the messages, the error pages."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from threadline.contacts.rules import normalize_email, normalize_phone
from threadline.conversations.models import Conversation, Message
from threadline.conversations.privacy import masked_text
from threadline.errors import ThreadlineError
from threadline.hops.flow import takes
from threadline.hops.records import details, options
from threadline.hops.records.links import CHOICE_FORMS, FORM_PURPOSES, find_link
from threadline.hops.records.models import ShortLink
from threadline.jobs.runtime import Runtime
from threadline.web.security_headers import page_headers, policy
from threadline.workspace.models import Workspace

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
PAGE_PURPOSES = (*FORM_PURPOSES, "verify")
PAGE_HEADERS = {**page_headers(policy(), referrer="no-referrer"), "cache-control": "no-store"}
HEADINGS = {"chat": ("Continue in a private chat", "Start the chat"),
            "callback": ("We call you back", "Ask for the call"),
            "email": ("Continue by email", "Continue by email"),
            "verify": ("Confirm your address", "Confirm"),
            "choice": ("How would you like to continue?", ""),
            "details": ("Your details, securely", "Send securely")}
CHOICES = {"chat": ("Chat with us now", "A private chat in your browser, right away."),
           "callback": ("We call you back", "Leave a number and a time that suits you."),
           "email": ("Continue by email", "We write to you; answer whenever it suits you."),
           "whatsapp": ("WhatsApp", "Message us on WhatsApp."),
           "sms": ("Text message (SMS)", "Text us from your phone.")}
ERRORS = {
    "link_not_found": ("This link is not valid",
                       "Please check that you copied the whole link. Our links come from our "
                       "support team, in reply to your message."),
    "link_expired": ("This link has expired",
                     "For your security our links work for a limited time. Write to us again "
                     "and we will send you a new one."),
    "link_used": ("This link has been used already",
                  "Each link works once. If it was you, carry on where you continued; "
                  "otherwise write to us again and we will send you a new one."),
}


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status,
                                      headers=PAGE_HEADERS)


def company_and_channels(session: Session, workspace_id: uuid.UUID | None,
                         ) -> dict[str, Any]:
    workspace = session.get(Workspace, workspace_id) if workspace_id else None
    if workspace is None:
        return {"company": "Customer care", "channels": []}
    return {"company": workspace.name,
            "channels": options.offered_channels(session, workspace.id)}


def message_page(request: Request, base: dict[str, Any], heading: str, text: str, *,
                 tone: str = "ok", code: str = "ok", status: int = 200) -> Response:
    return page(request, "message.html", {**base, "heading": heading, "message": text,
                                          "tone": tone, "code_name": code}, status)


def error_page(request: Request, runtime: Runtime, code: str,
               exc: ThreadlineError) -> Response:
    """The page for a link that cannot be used; a read-only transaction."""
    with runtime.db.session(write=False) as session:
        link = find_link(session, code)
        base = company_and_channels(session, link.workspace_id if link else None)
    heading, text = ERRORS.get(exc.code, ("This link cannot be used", exc.message))
    return message_page(request, base, heading, text, tone="error", code=exc.code,
                        status=exc.status)


def origin_text(session: Session, link: ShortLink) -> str | None:
    """The public message the case started with (it is public already): never asked again."""
    conv = session.get(Conversation, link.conversation_id)
    if conv is None or conv.origin_message_id is None:
        return None
    origin = session.get(Message, conv.origin_message_id)
    if origin is None or origin.visibility != "public" or origin.deleted_at is not None:
        return None
    return masked_text(origin)  # anyone holding the link sees this page: no personal data


def form_page(request: Request, session: Session, link: ShortLink, code: str, *,
              values: dict[str, str] | None = None, error: str | None = None,
              status: int = 200, purpose: str | None = None) -> Response:
    """The link's form; on a choice link, the form the customer picked (`purpose`), else the
    list of choices."""
    purpose = purpose or link.purpose
    if link.purpose == "choice" and (purpose not in CHOICE_FORMS
                                     or purpose not in takes.choices_of(link)):
        return choice_page(request, session, link, code, error=error, status=status)
    base = company_and_channels(session, link.workspace_id)
    heading, button = HEADINGS[purpose]
    wording = takes.wording(purpose, base["company"])
    context = origin_text(session, link) if link.purpose in FORM_PURPOSES else None
    asked = details.request_of_link(session, link) if purpose == "details" else None
    return page(request, "form.html", {
        **base, "purpose": purpose, "code": code, "heading": heading, "button": button,
        "wording": wording, "wording_version": takes.WORDING_VERSION, "context": context,
        "values": values or {}, "error": error,
        "choice": purpose if link.purpose == "choice" else None,
        "detail_fields": [(f, details.FIELDS[f]) for f in asked.fields
                          if f in details.FIELDS] if asked else [],
        "detail_note": asked.note if asked else None}, status)


def choice_page(request: Request, session: Session, link: ShortLink, code: str, *,
                error: str | None = None, status: int = 200) -> Response:
    """A choice link's page: the ways offered, each a form here or the company's number on
    WhatsApp or SMS (where the offered channels list one)."""
    base = company_and_channels(session, link.workspace_id)
    listed = {c["kind"] for c in base["channels"] if c["address"]}
    ways = [{"kind": kind, "label": CHOICES[kind][0], "hint": CHOICES[kind][1],
             "href": f"/s/{code}?m={kind}" if kind in CHOICE_FORMS else f"/s/{code}/go/{kind}"}
            for kind in takes.choices_of(link) if kind in CHOICE_FORMS or kind in listed]
    return page(request, "choice.html", {
        **base, "heading": HEADINGS["choice"][0], "ways": ways, "error": error,
        "context": origin_text(session, link)}, status)


def check_value(purpose: str, values: dict[str, str],
                fields: list[str] | None = None) -> str | None:
    """The first problem with a submitted form, in words for the customer; None when fine.
    `fields`: a secure form's fields."""
    if purpose != "verify" and values.get("consent") != "yes":
        return "Please tick the box to agree, so that we may contact you."
    if purpose == "details":
        try:
            details.clean_values(fields or [], values)
        except ThreadlineError as exc:
            return exc.message
        return None
    try:
        if purpose == "callback":
            normalize_phone(values.get("phone", ""))
        if purpose == "email" or (purpose == "chat" and values.get("email", "").strip()):
            normalize_email(values.get("email", ""))
    except ThreadlineError as exc:
        return {"invalid_phone": "Please enter a phone number with its country code, "
                                 "e.g. +1 555 123 4567.",
                "invalid_email": "Please enter a valid email address."}.get(exc.code,
                                                                             exc.message)
    for key, limit in (("name", 200), ("question", 4000), ("email", 320), ("phone", 32)):
        if len(values.get(key, "")) > limit:
            return f"The {key} is too long."
    return None
