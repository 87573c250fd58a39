"""What a hop form submission does, in one transaction: the link is used up, whoever
submitted it becomes a pending taker with his own customer (the coordinate he typed and his
consent stay with him, never with the public author he may claim to be), the hop is taken; then
the chat opens on the conversation, the callback is scheduled for him, the email conversation
starts, or the coordinate is verified. The chat, callback and email pages show him the proof
code he can post or send from the public account to prove he is its owner (decision 0103).

The web layer (`threadline.web.hops`) validates the form fields, calls `take` and renders.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from threadline.channels.webchat.payloads import WebchatEnvelope, WebchatMessage, WebchatVisitor
from threadline.contacts.rules import normalize_email, normalize_phone
from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.errors import ValidationFailed
from threadline.events.service import audit
from threadline.hops.flow.contact import send_to_coordinate
from threadline.hops.flow.offers import first_account
from threadline.hops.records import callbacks, details, options, service, takers
from threadline.hops.records.links import CHOICE_CHANNELS, CHOICE_FORMS
from threadline.hops.records.models import ShortLink
from threadline.webchat import service as webchat
from threadline.webchat import tokens
from threadline.workspace.models import ChannelAccount

WORDING_VERSION = "2026-11"
WORDING = {
    "chat": "I agree that {company} continues my support case with me in this chat, and "
            "writes to the email address I gave (if any) about this case.",
    "callback": "I agree that {company} calls me at this number in the time I chose, about "
                "my support case.",
    "email": "I agree that {company} writes to me at this email address about my support "
             "case.",
    "details": "I agree that {company} uses these details for my support case only.",
}
EMAIL_TEXT = ("Hello, you asked us to continue your support case by email. Simply reply to this "
              "message and an agent will answer here.")


@dataclass(frozen=True)
class Taken:
    """What the customer is shown next: the proof code (chat, callback, email) and, for a
    chat, the chat account and his signed visitor token."""

    purpose: str
    proof: str | None = None
    account_id: uuid.UUID | None = None
    token: str | None = None


def wording(purpose: str, company: str) -> str:
    """The consent text shown on the form and recorded with the consent."""
    return WORDING.get(purpose, "").replace("{company}", company)


def chosen_form(link: ShortLink, values: dict[str, str]) -> str:
    """The form a submission fills: the link's own, or on a choice link the one the customer
    picked among those offered (anything else is refused)."""
    if link.purpose != "choice":
        return link.purpose
    picked = values.get("choice", "")
    if picked not in CHOICE_FORMS or picked not in choices_of(link):
        raise ValidationFailed("Please pick one of the ways offered.", code="invalid_choice",
                               details={"field": "choice"})
    return picked


def choices_of(link: ShortLink) -> list[str]:
    stored = (link.meta or {}).get("choices")
    return [c for c in stored if c in (*CHOICE_FORMS, *CHOICE_CHANNELS)] \
        if isinstance(stored, list) else []


def choose_channel(session: Session, link: ShortLink, kind: str) -> str:
    """The customer picked WhatsApp or SMS on a choice link: the choice is recorded on the hop
    (the link stays usable: nothing proves who clicked) and the deep link to the company's
    number is returned, built from the offered channel's number only."""
    if kind not in CHOICE_CHANNELS or kind not in choices_of(link):
        raise ValidationFailed("This way is not offered here.", code="invalid_choice")
    address = next((c["address"] for c in options.offered_channels(session, link.workspace_id)
                    if c["kind"] == kind and c["address"]), "")
    try:
        number = normalize_phone(address)
    except ValidationFailed:
        raise ValidationFailed("This way is not available right now.",
                               code="choice_unavailable") from None
    hop = service.hop_of_link(session, link)
    if hop is not None:
        service.set_hop_meta(hop, chosen=kind)
    audit(session, link.workspace_id, "hop.chosen", "conversation", link.conversation_id,
          actor_type="customer", data={"link_id": str(link.id), "choice": kind})
    digits = number.lstrip("+")
    return f"https://wa.me/{digits}" if kind == "whatsapp" else f"sms:+{digits}"


def take(session: Session, link: ShortLink, values: dict[str, str], *, company: str,
         secret: str) -> Taken:
    """Carry out a submitted form for a link opened in this (writing) session."""
    purpose = chosen_form(link, values)
    text = wording(purpose, company)
    if purpose != link.purpose:
        hop = service.hop_of_link(session, link)
        if hop is not None:
            service.set_hop_meta(hop, chosen=purpose)
    if purpose == "chat":
        account, token, proof = _take_chat(session, link, values, text, secret)
        return Taken("chat", proof, account.id, token)
    if purpose == "callback":
        return Taken("callback", _take_callback(session, link, values, text))
    if purpose == "email":
        return Taken("email", _take_email(session, link, values, text))
    if purpose == "details":
        details.submit(session, link, values)
        return Taken("details")
    service.confirm_verification(session, link)
    return Taken("verify")


def _start(session: Session, link: ShortLink, channel: str,
           name: str | None = None) -> takers.NewTaker:
    """Whoever submitted the form: a pending taker with his own customer (decision 0103)."""
    hop = service.hop_of_link(session, link)
    return takers.start_taker(session, link, channel=channel, hop_id=hop.id if hop else None,
                              name=name)


def _take_chat(session: Session, link: ShortLink, values: dict[str, str], wording: str,
               secret: str) -> tuple[ChannelAccount, str, str]:
    hop = service.hop_of_link(session, link)
    account = (session.get(ChannelAccount, hop.to_account_id)
               if hop is not None and hop.to_account_id else None)
    account = account or first_account(session, link.workspace_id, "webchat")
    if account is None or account.kind != "webchat":
        raise ValidationFailed("the chat is not available right now", code="no_webchat_account")
    name = values.get("name", "").strip() or None
    new = _start(session, link, "webchat", name)
    own = new.customer.id
    visitor_id = f"v_{secrets.token_urlsafe(16)}"
    takers.remember_identity(new.taker, service.give_coordinate(
        session, link.workspace_id, own, kind="webchat", address=visitor_id))
    consent = service.form_consent(session, link, own, kind="webchat", address=visitor_id,
                                   purpose="chat", wording=wording)
    email = values.get("email", "").strip()
    if email:
        email = normalize_email(email)
        service.give_coordinate(session, link.workspace_id, own, kind="email", address=email)
        service.form_consent(session, link, own, kind="email", address=email, purpose="chat",
                             wording=wording)
    service.take_link(session, link, to_channel="webchat", taker=new.taker, consent=consent,
                      visitor=visitor_id)
    session_code = service.session_link(session, link, visitor_id, own)
    visitor = tokens.Visitor(account_id=str(account.id), visitor_id=visitor_id, name=name,
                             email=email or None, link_token=session_code)
    question = values.get("question", "").strip()
    if question:
        webchat.store_envelope(session, account, WebchatEnvelope(
            type="message", link_token=session_code,
            visitor=WebchatVisitor(id=visitor_id, name=name, email=email or None),
            message=WebchatMessage(echo_id=f"q-{secrets.token_urlsafe(12)}", text=question,
                                   sent_at=utcnow())))
    return account, tokens.issue(secret, visitor), new.proof_code


def _local_time(raw: str, offset_minutes: int) -> datetime | None:
    """A datetime-local value in the customer's time, to UTC (`getTimezoneOffset` minutes)."""
    if not raw.strip():
        return None
    try:
        local = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed("Please enter the times as date and time.",
                               code="invalid_window") from None
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return (local + timedelta(minutes=offset_minutes)).replace(tzinfo=UTC)


def _take_callback(session: Session, link: ShortLink, values: dict[str, str],
                   wording: str) -> str:
    phone = normalize_phone(values.get("phone", ""))
    try:
        offset = max(-14 * 60, min(14 * 60, int(values.get("tz_offset") or 0)))
    except ValueError:
        offset = 0
    start = _local_time(values.get("window_start", ""), offset)
    end = _local_time(values.get("window_end", ""), offset)
    callbacks.check_window(start, end, utcnow())
    new = _start(session, link, "voice")
    own = new.customer.id
    service.give_coordinate(session, link.workspace_id, own, kind="phone", address=phone)
    consent = service.form_consent(session, link, own, kind="phone", address=phone,
                                   purpose=callbacks.PURPOSE, wording=wording)
    hop = service.take_link(session, link, to_channel="voice", taker=new.taker,
                            consent=consent)
    conv = session.get(Conversation, link.conversation_id)
    if conv is None:
        raise ValidationFailed("this case is closed; please write to us again",
                               code="conversation_gone")
    callbacks.request_callback(session, link.workspace_id, conv, phone=phone,
                               window_start=start, window_end=end, actor_type="customer",
                               actor_id=None, hop_id=hop.id if hop else None,
                               customer_id=own, taker_id=new.taker.id)
    return new.proof_code


def _take_email(session: Session, link: ShortLink, values: dict[str, str],
                wording: str) -> str:
    email = normalize_email(values.get("email", ""))
    new = _start(session, link, "email")
    own = new.customer.id
    service.give_coordinate(session, link.workspace_id, own, kind="email", address=email)
    consent = service.form_consent(session, link, own, kind="email", address=email,
                                   purpose="email", wording=wording)
    hop = service.take_link(session, link, to_channel="email", taker=new.taker,
                            consent=consent)
    account = (session.get(ChannelAccount, hop.to_account_id)
               if hop is not None and hop.to_account_id else None)
    account = account or first_account(session, link.workspace_id, "email")
    if account is not None and account.kind == "email":
        send_to_coordinate(session, link.workspace_id, link.conversation_id, account, email,
                           EMAIL_TEXT, Actor("system"),
                           {"subject": "Your support case"})
    return new.proof_code
