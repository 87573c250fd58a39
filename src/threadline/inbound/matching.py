"""Inbound items that point at our own outbound messages by Threadline's message id.

- Echoes and statuses that carry our message id (Messenger/Instagram `metadata`, WhatsApp
  `biz_opaque_callback_data`, normalised to `meta["client_message_id"]`) are bound to the
  outbound row even when its provider id was never committed (a crash between the send and
  the commit): the row takes the provider id and turns sent, and nothing is stored twice.
- Link tokens `msg:<outbound message id>` (email reply tokens) resolve to the conversation of
  that message (threading rule 2).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from threadline.conversations.models import Message
from threadline.events.service import audit

MESSAGE_LINK_PREFIX = "msg:"


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def bind_echo(session: Session, workspace_id: uuid.UUID, client_message_id: Any,
              provider_id: str) -> tuple[uuid.UUID, uuid.UUID, str, str] | None:
    """Give our outbound message `client_message_id` the provider id of its echo.

    Returns (message id, conversation id, direction, delivery) of the bound message, or None
    when no outbound message of ours without a provider id has that id. A message marked
    failed because its delivery was unknown turns sent: the echo proves it was delivered.
    """
    message_id = _uuid(client_message_id) if client_message_id else None
    if message_id is None or not provider_id:
        return None
    message = session.get(Message, message_id)
    if (message is None or message.workspace_id != workspace_id
            or message.direction != "outbound" or message.provider_id not in (None, provider_id)):
        return None
    delivery = "sent" if message.delivery in ("pending", "failed") else message.delivery
    session.execute(update(Message).where(Message.id == message_id).values(
        provider_id=provider_id, delivery=delivery,
        delivery_error=None if delivery == "sent" else message.delivery_error))
    audit(session, workspace_id, "message.echo_matched", "message", message_id,
          data={"previous_delivery": message.delivery})
    return message.id, message.conversation_id, message.direction, delivery


def message_conversation(session: Session, workspace_id: uuid.UUID,
                         token: str) -> uuid.UUID | None:
    """The conversation of our message named by a `msg:<message id>` link token."""
    if not token.startswith(MESSAGE_LINK_PREFIX):
        return None
    message_id = _uuid(token[len(MESSAGE_LINK_PREFIX):])
    if message_id is None:
        return None
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id:
        return None
    return message.conversation_id
