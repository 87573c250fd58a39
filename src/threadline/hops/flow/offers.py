"""Channel hops where they need channels: the offer goes out as a reply (a short link, a DM
invitation, a Messenger/Instagram private reply), the public follow-up closes the loop on the
original post, and the provider's answer tells the hop what it needs.

Hop messages are ordinary outbound messages (post_reply: policy checks, message and job in one
transaction). Two of them go through `hop.send` instead of `message.send`: the private reply
(the answer names the person's Page-scoped id, which the private thread that follows is joined
by) and the public follow-up (`Hop.returned_at` is set when it is sent). `hop.send` runs the
same crash-safe steps as the sender (begin_attempt, deliver, conclude) and records those facts
between the provider's answer and the conclusion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.channels.facebook.adapter import THREAD_PREFIX as MESSENGER_THREAD
from threadline.channels.instagram.adapter import THREAD_PREFIX as INSTAGRAM_THREAD
from threadline.contacts.models import Evidence
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.service import Actor, access_conversation, set_status
from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.service import audit
from threadline.hops.records import options, service
from threadline.hops.records.links import CHOICE_CHANNELS, CHOICE_FORMS
from threadline.hops.records.models import Hop
from threadline.jobs.registry import Job, handler
from threadline.jobs.runtime import Runtime
from threadline.outbound.policy import check_outbound_text
from threadline.outbound.replies import Reply, post_reply
from threadline.outbound.sender import begin_attempt, conclude, deliver
from threadline.workspace.models import ChannelAccount

HOP_SEND_JOB = "hop.send"
PRIVATE_THREADS = {"facebook": MESSENGER_THREAD, "instagram": INSTAGRAM_THREAD}
PRIVATE_REPLY_KINDS = tuple(PRIVATE_THREADS)
OFFER_TEXT = {
    "chat_link": "We'd like to help with this in private. Continue in a secure chat here "
                 "(no need to repeat your question): {url}",
    "callback_form": "We can call you back. Leave a number and a time that suits you here: "
                     "{url}",
    "email_form": "We can continue by email. Tell us where to write to here: {url}",
    "choice_link": "We'd like to help with this in private, the way that suits you best "
                   "(chat, a call back, email...). Choose here: {url}",
    "dm_invite": "We'd like to help with this in private. Please send us a direct message.",
    "private_reply": "Hi, following up on your comment in private so we can help. "
                     "How can we help?",
}


@dataclass(frozen=True)
class OfferResult:
    hop: Hop
    message: Message | None
    url: str | None


def _account(session: Session, workspace_id: uuid.UUID,
             account_id: uuid.UUID | None) -> ChannelAccount | None:
    if account_id is None:
        return None
    account = session.get(ChannelAccount, account_id)
    if account is None or account.workspace_id != workspace_id:
        raise NotFound("channel account not found")
    return account


def first_account(session: Session, workspace_id: uuid.UUID, kind: str) -> ChannelAccount | None:
    return session.scalar(select(ChannelAccount).where(
        ChannelAccount.workspace_id == workspace_id, ChannelAccount.kind == kind,
        ChannelAccount.active.is_(True)).order_by(ChannelAccount.created_at).limit(1))


FORM_ACCOUNT = {"chat": "webchat", "callback": "voice", "email": "email"}


def available_choices(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """What a choice link can offer in this workspace: the forms whose channel has an active
    account, and WhatsApp or SMS where the offered channels list an address for them."""
    found = [form for form in CHOICE_FORMS
             if first_account(session, workspace_id, FORM_ACCOUNT[form]) is not None]
    listed = {c["kind"] for c in options.offered_channels(session, workspace_id)
              if c["address"]}
    return found + [kind for kind in CHOICE_CHANNELS if kind in listed]


def _choices(session: Session, workspace_id: uuid.UUID, method: str,
             asked: list[str] | None) -> tuple[str, ...]:
    if method != "choice_link":
        if asked:
            raise ValidationFailed("choices are for a choice_link only", code="invalid_choices",
                                   details={"field": "choices"})
        return ()
    available = available_choices(session, workspace_id)
    chosen = tuple(dict.fromkeys(asked or available))
    missing = [c for c in chosen if c not in available]
    if missing or not chosen:
        raise ValidationFailed(
            "this workspace cannot offer " + (", ".join(missing) or "any choice") +
            " (a form needs an active account of its channel; WhatsApp and SMS need an "
            "address in the offered channels)", code="choice_unavailable",
            details={"field": "choices", "allowed": available})
    return chosen


def _target_account(session: Session, workspace_id: uuid.UUID, method: str,
                    chosen: uuid.UUID | None, origin: ChannelAccount | None) -> ChannelAccount:
    kind = service.TARGET_CHANNEL.get(method)
    if kind is None:  # same network: the DM or Messenger side of the origin account
        if origin is None:
            raise ValidationFailed("the conversation has no origin account", code="no_channel")
        return origin
    account = _account(session, workspace_id, chosen) or first_account(session, workspace_id,
                                                                       kind)
    if account is None or account.kind != kind:
        raise ValidationFailed(f"this hop needs a {kind} channel account",
                               code=f"no_{kind}_account")
    return account


def _comment_to_answer(session: Session, conv: Conversation, account: ChannelAccount) -> str:
    """The public comment a private reply answers: the origin, else the latest comment."""
    stmt = select(Message.provider_id).where(
        Message.conversation_id == conv.id, Message.channel_account_id == account.id,
        Message.direction == "inbound", Message.visibility == "public",
        Message.provider_id.is_not(None))
    origin = session.scalar(stmt.where(Message.id == conv.origin_message_id))
    latest = session.scalar(stmt.order_by(Message.created_at.desc()).limit(1))
    found = origin or latest
    if not found:
        raise ValidationFailed("there is no public comment to answer in private",
                               code="no_comment")
    return found


def offer(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID, *,
          method: str, reason: str, actor: Actor, base_url: str, text: str | None = None,
          channel_account_id: uuid.UUID | None = None,
          choices: list[str] | None = None) -> OfferResult:
    """Offer a hop: record it and send the offer where the customer wrote. A choice link
    offers several ways at once (`choices`, by default every one available)."""
    conv = access_conversation(session, workspace_id, conversation_id)
    origin = _account(session, workspace_id, conv.origin_account_id)
    chosen = _choices(session, workspace_id, method, choices)
    target = (None if method == "choice_link" else
              _target_account(session, workspace_id, method, channel_account_id, origin))
    if method == "private_reply" and target is not None and \
            target.kind not in PRIVATE_REPLY_KINDS:
        raise ValidationFailed("private replies exist on Facebook and Instagram only",
                               code="private_reply_unavailable")
    if method == "dm_invite" and target is not None and target.kind != "x":
        raise ValidationFailed("a DM invitation is an X reply; use private_reply on Meta",
                               code="dm_invite_unavailable")
    result = service.offer_hop(session, workspace_id, conv, method=method, reason=reason,
                               to_channel=target.kind if target else None,
                               to_account_id=target.id if target else None,
                               actor_type=actor.type, actor_id=actor.id, choices=chosen)
    hop = result.hop
    url = f"{base_url.rstrip('/')}/s/{result.code}" if result.code else None
    body = (text or OFFER_TEXT[method]).strip()
    if url and "{url}" not in body and url not in body:
        body = f"{body} {url}"
    body = body.replace("{url}", url or "")
    if method == "private_reply" and target is not None:
        comment = _comment_to_answer(session, conv, target)
        message = post_reply(session, workspace_id, conv.id, Reply(
            text=body, visibility="private", channel_account_id=target.id,
            options={"private_reply_to": comment}, send_job=HOP_SEND_JOB,
            job_payload={"role": "private_reply", "hop_id": str(hop.id)}), actor)
        service.set_hop_meta(hop, private_reply_to=comment)
    else:
        if origin is None:
            raise ValidationFailed("the conversation has no origin account", code="no_channel")
        options: dict[str, Any] = {"dm_deep_link": True} if method == "dm_invite" else {}
        message = post_reply(session, workspace_id, conv.id, Reply(
            text=body, visibility=conv.origin_visibility or "public",
            channel_account_id=origin.id, options=options), actor)
    service.set_hop_meta(hop, offer_message_id=str(message.id))
    return OfferResult(hop, message, url)


# --- the provider's answer ---------------------------------------------------------------------


@handler(HOP_SEND_JOB)
def send_hop_message(runtime: Runtime, job: Job) -> None:
    message_id = uuid.UUID(job.payload["message_id"])
    plan = begin_attempt(runtime, message_id)
    if plan is None:
        return
    outcome = deliver(runtime, plan)
    if outcome.result is not None:
        with runtime.db.session() as session:
            _record_answer(session, job.payload, message_id, outcome.result.meta)
    conclude(runtime, plan, outcome, attempts=job.attempts)


def _record_answer(session: Session, payload: dict[str, Any], message_id: uuid.UUID,
                   answer: dict[str, Any]) -> None:
    message = session.get(Message, message_id)
    if message is None:
        return
    if payload.get("role") == "follow_up":
        for hop_id in payload.get("hop_ids") or []:
            hop = session.get(Hop, uuid.UUID(hop_id))
            if hop is not None:
                service.mark_returned(session, hop, message_id, utcnow())
        return
    hop = session.get(Hop, uuid.UUID(str(payload.get("hop_id"))))
    recipient = answer.get("recipient_id")
    account = session.get(ChannelAccount, message.channel_account_id)
    if hop is None or not recipient or account is None or account.kind not in PRIVATE_THREADS:
        return
    # The private thread that follows continues this conversation (threading rule 3), and the
    # Page-scoped id is the commenter's, as the provider says.
    message.thread_key = PRIVATE_THREADS[account.kind] + str(recipient)
    service.set_hop_meta(hop, recipient_id=str(recipient))
    conv = session.get(Conversation, hop.conversation_id)
    if conv is not None and conv.customer_id is not None:
        service.give_coordinate(session, hop.workspace_id, conv.customer_id,
                                kind=account.kind if account.kind == "instagram"
                                else "messenger", address=str(recipient),
                                evidence=Evidence.PROVIDER)
    audit(session, hop.workspace_id, "hop.private_thread_opened", "conversation",
          hop.conversation_id, data={"hop_id": str(hop.id)})


def sync_taken(session: Session, hops: list[Hop]) -> None:
    """A DM invitation or private reply is taken when the customer writes in private there."""
    for hop in hops:
        if hop.taken_at is None and hop.method in ("dm_invite", "private_reply"):
            first = service.first_private_inbound(session, hop)
            if first is not None:
                service.mark_taken(session, hop, first.created_at)


# --- return to origin --------------------------------------------------------------------------


def open_public_hops(session: Session, conv: Conversation) -> list[Hop]:
    return [h for h in service.hops_of(session, conv.id)
            if h.returned_at is None and h.from_visibility == "public"]


def draft_follow_up(session: Session, workspace_id: uuid.UUID,
                    conversation_id: uuid.UUID) -> str | None:
    """The public close-out Threadline proposes for a resolved hopped conversation."""
    conv = access_conversation(session, workspace_id, conversation_id)
    hops = open_public_hops(session, conv)
    if not hops or conv.status not in (Status.RESOLVED, Status.CLOSED):
        return None
    text = service.draft_follow_up(hops[-1])
    check_outbound_text(session, workspace_id, text, "public", conversation=conv)
    return text


def resolve(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
            actor: Actor) -> tuple[Conversation, str | None]:
    conv = access_conversation(session, workspace_id, conversation_id)
    set_status(session, conv, Status.RESOLVED, actor)
    sync_taken(session, service.hops_of(session, conv.id))
    draft = draft_follow_up(session, workspace_id, conversation_id)
    if draft is not None:
        audit(session, workspace_id, "hop.follow_up_drafted", "conversation", conv.id,
              actor_type=actor.type, actor_id=actor.id)
    return conv, draft


def send_follow_up(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                   actor: Actor, text: str | None = None) -> Message:
    """Post the (drafted or edited) follow-up as a reply to the original public post."""
    conv = access_conversation(session, workspace_id, conversation_id)
    hops = open_public_hops(session, conv)
    if not hops:
        raise ValidationFailed("this conversation has no hop waiting for a public follow-up",
                               code="no_open_hop")
    origin = next((session.get(Message, h.origin_message_id) for h in hops
                   if h.origin_message_id is not None), None)
    account_id = origin.channel_account_id if origin is not None else conv.origin_account_id
    if account_id is None:
        raise ValidationFailed("the conversation has no origin account", code="no_channel")
    body = (text or service.draft_follow_up(hops[-1])).strip()
    # A reply to the original post (never to a later one), on the account it was posted on.
    message = post_reply(session, workspace_id, conv.id, Reply(
        text=body, visibility="public", channel_account_id=account_id,
        anchor_id=origin.id if origin is not None else None,
        send_job=HOP_SEND_JOB, job_payload={"role": "follow_up",
                                            "hop_ids": [str(h.id) for h in hops]}), actor)
    for hop in hops:
        service.set_hop_meta(hop, follow_up_message_id=str(message.id))
    return message
