"""Asking the customer for details through a secure form: the request is recorded with its
single-use link, and the link goes to the customer as a private reply (the outbox, the guard
and the approval policy apply as to any reply). The text names the fields asked, never a
value."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from threadline.conversations.models import Message
from threadline.conversations.service import Actor, access_conversation
from threadline.errors import ValidationFailed
from threadline.hops.records import details
from threadline.hops.records.models import DetailRequest
from threadline.outbound.replies import Reply, post_reply

REQUEST_TEXT = ("To help you with this, please give us {fields} in this secure form (only our "
                "support team sees it): {url}")


@dataclass(frozen=True)
class DetailsRequested:
    request: DetailRequest
    message: Message
    url: str


def request_details(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                    fields: list[str], actor: Actor, *, base_url: str,
                    note: str | None = None) -> DetailsRequested:
    conv = access_conversation(session, workspace_id, conversation_id)
    if conv.merged_into_id is not None:
        raise ValidationFailed("this conversation was merged into another",
                               code="conversation_merged")
    request, code = details.create_request(session, workspace_id, conv.id, conv.customer_id,
                                           fields, note, actor_type=actor.type,
                                           actor_id=actor.id)
    url = f"{base_url.rstrip('/')}/s/{code}"
    labels = [details.FIELDS[f].label.lower() for f in request.fields]
    named = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    message = post_reply(session, workspace_id, conv.id, Reply(
        text=REQUEST_TEXT.format(fields=f"your {named}", url=url), visibility="private"), actor)
    return DetailsRequested(request, message, url)
