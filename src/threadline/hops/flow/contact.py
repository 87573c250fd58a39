"""Messages to a coordinate the customer has not written from yet: the first email after an
email form, a verification link. `post_reply` answers where the customer wrote; these name the
recipient themselves, and need the customer's consent on it (or his own word for it, when he
typed it himself and asks for the code).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import ChannelError, OutboundMessage, SendContext, SendPolicyError
from threadline.channels.base import Visibility as ChannelVisibility
from threadline.channels.registry import get_adapter
from threadline.contacts.models import Evidence, Identity
from threadline.contacts.rules import canonical_kind
from threadline.contacts.service import has_consent
from threadline.conversations.models import Message
from threadline.conversations.service import Actor, access_conversation
from threadline.db.base import new_id, utcnow
from threadline.errors import PolicyViolation, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, enqueue, publish
from threadline.hops.flow.offers import first_account
from threadline.hops.records import service
from threadline.outbound.sender import SEND_JOB
from threadline.workspace.models import ChannelAccount

ACCOUNT_KIND = {"email": "email", "phone": "sms"}
VERIFY_TEXT = ("Please confirm this address for your support case by opening this link: {url} "
               "If you did not ask for this, ignore this message.")


def send_to_coordinate(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                       account: ChannelAccount, recipient: str, text: str, actor: Actor,
                       options: dict[str, Any] | None = None) -> Message:
    """A private message to `recipient` on `account`, through the sender like any reply."""
    conv = access_conversation(session, workspace_id, conversation_id)
    now = utcnow()
    message_id = new_id()
    opts = dict(options or {})
    outbound = OutboundMessage(message_id=str(message_id), visibility=ChannelVisibility.PRIVATE,
                               text=text, recipient=recipient, options=opts)
    try:
        get_adapter(account.kind).check_send(account_config(account), outbound,
                                             SendContext(now=now))
    except SendPolicyError as exc:
        raise PolicyViolation(exc.message, code=exc.code,
                              details={"allowed": exc.allowed, "channel": account.kind}) from None
    except ChannelError as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None
    message = Message(
        id=message_id, workspace_id=workspace_id, conversation_id=conv.id,
        channel_account_id=account.id, channel=account.kind, direction="outbound",
        visibility="private", kind="message", text=text, delivery="pending",
        author_type="agent" if actor.agent_id else "automation", author_agent_id=actor.agent_id,
        subject=opts.get("subject"), created_at=now, attachments=[], triage={},
        meta={"recipient": recipient, "options": opts})
    session.add(message)
    conv.message_count += 1
    conv.last_message_at = now
    conv.updated_at = now
    session.flush()
    enqueue(session, SEND_JOB, {"message_id": str(message.id)}, workspace_id=workspace_id)
    audit(session, workspace_id, "message.created", "message", message.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"conversation_id": str(conv.id), "visibility": "private",
                "channel": account.kind, "new_coordinate": True})
    publish(session, workspace_id, Live.MESSAGE_CREATED,
            {"conversation_id": str(conv.id), "message_id": str(message.id),
             "direction": "outbound"})
    return message


def coordinate_account(session: Session, workspace_id: uuid.UUID,
                       kind: str) -> ChannelAccount:
    account_kind = ACCOUNT_KIND.get(canonical_kind(kind))
    account = first_account(session, workspace_id, account_kind) if account_kind else None
    if account is None:
        raise ValidationFailed(f"no channel account can reach a {kind} coordinate",
                               code="no_channel")
    return account


def send_verification(session: Session, workspace_id: uuid.UUID, identity: Identity,
                      conversation_id: uuid.UUID, base_url: str, actor: Actor) -> Message:
    """Send a verification link over the coordinate itself; opening it verifies the link."""
    if not (has_consent(session, workspace_id, kind=identity.kind, address=identity.address)
            or identity.evidence == Evidence.CUSTOMER):
        raise service.ConsentRequired(
            "this coordinate was not given by the customer and has no consent; ask him first",
            details={"allowed": ["record consent", "email_form", "callback_form"]})
    account = coordinate_account(session, workspace_id, identity.kind)
    _, code = service.start_verification(session, workspace_id, identity, conversation_id)
    text = VERIFY_TEXT.replace("{url}", f"{base_url.rstrip('/')}/s/{code}")
    options = {"subject": "Please confirm your address"} if account.kind == "email" else {}
    return send_to_coordinate(session, workspace_id, conversation_id, account, identity.address,
                              text, actor, options)
