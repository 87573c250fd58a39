"""REST: conversations and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from threadline.conversations import service
from threadline.conversations.inbox import InboxFilter
from threadline.conversations.models import Message
from threadline.conversations.privacy import masked_text, public_pii_spans
from threadline.conversations.schemas import (
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    CustomerBrief,
    MergeIn,
    MessageIn,
    MessageOut,
    SplitIn,
)
from threadline.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PolicyViolation,
    ValidationFailed,
)
from threadline.events.service import audit
from threadline.hops.flow.marks import mark_messages, with_takers
from threadline.hops.flow.schemas import ConversationWithTakers
from threadline.hops.flow.video import end_video, start_video
from threadline.outbound.actions import request_action
from threadline.outbound.deletion import MAX_NOTE, REASONS, Deletion, request_delete
from threadline.outbound.replies import Reply, post_reply
from threadline.schema_types import (
    ChannelKind,
    ConversationStatus,
    InboxSort,
    InboxView,
    Priority,
    RelevanceFilter,
    VisibilityName,
)
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    current_principal,
    runtime_of,
)

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.get("", response_model=ConversationPage, responses=errors(BadRequest))
def list_conversations(
    principal: Annotated[Principal, Depends(current_principal)],
    session: ReadSession,
    status: Annotated[list[ConversationStatus] | None, Query()] = None,
    channel: ChannelKind | None = None,
    visibility: VisibilityName | None = None,
    customer_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    category: str | None = None,
    label: str | None = None,
    unassigned: bool = False,
    priority: Priority | None = None,
    view: Annotated[InboxView, Query(description=(
        "Statuses (all of them by default; `status` overrides) or a relevance view: "
        "`mentions`, `competitors`, `chatter` (open and pending ones)."))] = "all",
    relevance: Annotated[RelevanceFilter | None, Query(description=(
        "`queue` (the default outside the relevance views: direct questions, private "
        "messages and conversations never triaged), `all`, or one relevance."))] = None,
    sort: Annotated[InboxSort, Query(description=(
        "`queue`: SLA due time (none last), priority (P1 first), direct questions before "
        "mentions, longest waiting; `recent`: newest activity first. A cursor belongs to "
        "its order."))] = "queue",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ConversationPage:
    """The agents' queue by default (docs/queues.md); a customer's conversations
    (`customer_id`) are all of them whatever their relevance."""
    if customer_id is not None and relevance is None:
        relevance = "all"
    flt = InboxFilter(view=view, statuses=tuple(status) if status else None,
                      channel=channel, visibility=visibility, customer_id=customer_id,
                      assignee_id=assignee_id, team_id=team_id, category=category,
                      label=label, unassigned=unassigned, priority=priority,
                      relevance=relevance, sort=sort)
    rows, nxt = service.list_conversations(session, principal.workspace_id, flt, limit=limit,
                                           cursor=cursor)
    return ConversationPage(items=[ConversationOut.model_validate(r) for r in rows], next=nxt)


@router.get("/{conversation_id}", response_model=ConversationWithTakers,
            responses=errors(NotFound))
def get_conversation(conversation_id: uuid.UUID,
                     principal: Annotated[Principal, Depends(current_principal)],
                     session: ReadSession) -> ConversationWithTakers:
    conv, customer, messages = service.conversation_view(session, principal.workspace_id,
                                                         conversation_id)
    detail = ConversationDetail.model_validate(conv)
    detail.customer = CustomerBrief.model_validate(customer) if customer else None
    detail.messages = [message_out(m) for m in messages]
    return with_takers(session, detail)


def message_out(message: Message) -> MessageOut:
    """Personal data posted in public is masked unless revealed (POST .../reveal)."""
    out = MessageOut.model_validate(message)
    if public_pii_spans(message):
        out.text = masked_text(message)
        out.masked = True
    return out


@router.post("/{conversation_id}/messages/{message_id}/reveal", response_model=MessageOut,
             responses=errors(NotFound))
def reveal(conversation_id: uuid.UUID, message_id: uuid.UUID,
           principal: Annotated[Principal, Depends(current_principal)],
           session: WriteSession) -> MessageOut:
    """Show a masked message in full; every reveal is audited."""
    service.access_conversation(session, principal.workspace_id, conversation_id)
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        raise NotFound("message not found")
    audit(session, principal.workspace_id, "message.revealed", "message", message.id,
          actor_type=principal.actor.type, actor_id=principal.actor.id)
    return MessageOut.model_validate(message)


class ModerationOut(BaseModel):
    message_id: uuid.UUID
    action: Literal["hide", "unhide"]
    state: Literal["queued", "done"] = Field(
        description="queued: the worker asks the provider next; done: already in that state")


def _moderate(action: str) -> Any:
    def moderate(conversation_id: uuid.UUID, message_id: uuid.UUID,
                 principal: Annotated[Principal, Depends(current_principal)],
                 session: WriteSession) -> ModerationOut:
        return ModerationOut.model_validate(request_action(
            session, principal.workspace_id, conversation_id, message_id, action,
            principal.actor))

    moderate.__doc__ = (f"{action.capitalize()} a customer's public comment or post on a "
                        "channel that can (Facebook Page and Instagram comments); audited, "
                        "done by the worker through the provider's API.")
    moderate.__name__ = f"{action}_message"
    return moderate


for _action in ("hide", "unhide"):
    router.post(f"/{{conversation_id}}/messages/{{message_id}}/{_action}", status_code=202,
                response_model=ModerationOut,
                responses=errors(NotFound, ValidationFailed))(_moderate(_action))


class DeleteIn(BaseModel):
    model_config = {"extra": "forbid"}

    reason: str = Field(max_length=32, json_schema_extra={"enum": list(REASONS)},
                        description="Why: " + "; ".join(f"`{k}` {v.lower()}"
                                                        for k, v in REASONS.items()))
    note: str = Field(default="", max_length=MAX_NOTE,
                      description="Said in the audit log (needed with `other`).")


class DeletionOut(BaseModel):
    message_id: uuid.UUID
    action: Literal["delete"]
    state: Literal["queued"] = Field(
        description="queued: the worker asks the provider next (again while it is queued)")


@router.post("/{conversation_id}/messages/{message_id}/delete", status_code=202,
             response_model=DeletionOut,
             responses=errors(NotFound, ValidationFailed, Conflict, Forbidden))
def delete_message(conversation_id: uuid.UUID, message_id: uuid.UUID, body: DeleteIn,
                   principal: Annotated[Principal, Depends(current_principal)],
                   session: WriteSession) -> DeletionOut:
    """Delete a public message on its channel: a customer's comment on Facebook or Instagram
    (supervisor role), or the brand's own public reply on Facebook, Instagram or X (any
    agent). Audited with the reason; done by the worker through the provider's API, then the
    message is marked deleted (`deleted_at`). 409 `already_deleted`; 422 `private_message`,
    `channel_cannot_delete`, `not_on_channel`, `invalid_reason`; 403 `insufficient_role`."""
    return DeletionOut.model_validate(request_delete(
        session, principal.workspace_id, conversation_id, message_id, principal.actor,
        principal.role, Deletion(body.reason, body.note)))


@router.post("/{conversation_id}/messages", response_model=MessageOut, status_code=201,
             responses=errors(NotFound, PolicyViolation))
def create_message(conversation_id: uuid.UUID, body: MessageIn,
                   principal: Annotated[Principal, Depends(current_principal)],
                   session: WriteSession) -> MessageOut:
    message = post_reply(session, principal.workspace_id, conversation_id,
                         Reply(text=body.text, visibility=body.visibility,
                               channel_account_id=body.channel_account_id, kind=body.kind,
                               options=body.options,
                               attachment_ids=tuple(body.attachment_ids)), principal.actor)
    out = message_out(message)
    mark_messages(session, conversation_id, [out])
    return out


class VideoIn(BaseModel):
    model_config = {"extra": "forbid"}

    text: str | None = Field(default=None, min_length=1, max_length=2000, description=(
        "The invitation sent to the customer; `{url}` is replaced by his link (appended "
        "when absent)."))


class VideoOut(BaseModel):
    room: str
    url: str = Field(description="The caller's own link (with token authentication, a "
                     "short-lived token for the caller only: not stored, do not share)")
    expires_at: datetime
    provider: str
    invitation: MessageOut
    note_id: uuid.UUID


class VideoEndOut(BaseModel):
    note_id: uuid.UUID
    minutes: int


@router.post("/{conversation_id}/video", response_model=VideoOut, status_code=201,
             responses=errors(NotFound, Conflict, PolicyViolation, ValidationFailed))
def start_video_call(conversation_id: uuid.UUID, body: VideoIn, request: Request,
                     principal: Annotated[Principal, Depends(current_principal)],
                     session: WriteSession) -> VideoOut:
    """Start a video call: a room on the configured video service, the customer's link sent
    in the conversation's private channel (guard and approval apply), the start noted in the
    timeline."""
    started = start_video(session, principal.workspace_id, conversation_id, principal.actor,
                          agent_name="API", settings=runtime_of(request).settings,
                          text=body.text)
    link = started.agent_link
    return VideoOut(room=started.room, url=link.url, expires_at=link.expires_at,
                    provider=link.provider, invitation=message_out(started.invitation),
                    note_id=started.note.id)


@router.post("/{conversation_id}/video/end", response_model=VideoEndOut,
             responses=errors(NotFound))
def end_video_call(conversation_id: uuid.UUID,
                   principal: Annotated[Principal, Depends(current_principal)],
                   session: WriteSession) -> VideoEndOut:
    """End the running video call: its end and length noted in the timeline."""
    note = end_video(session, principal.workspace_id, conversation_id, principal.actor,
                     agent_name="API")
    return VideoEndOut(note_id=note.id, minutes=note.meta["video"]["minutes"])


@router.patch("/{conversation_id}", response_model=ConversationOut,
              responses=errors(NotFound))
def patch_conversation(conversation_id: uuid.UUID, body: ConversationPatch,
                       principal: Annotated[Principal, Depends(current_principal)],
                       session: WriteSession) -> ConversationOut:
    conv = service.access_conversation(session, principal.workspace_id, conversation_id)
    actor = principal.actor
    if body.status is not None:
        service.set_status(session, conv, body.status, actor, snooze_until=body.snooze_until)
    if body.assignee_id is not None or body.unassign:
        service.assign(session, conv, None if body.unassign else body.assignee_id, actor,
                       team_id=body.team_id)
    if body.labels is not None:
        service.set_labels(session, conv, body.labels, actor)
    triage = {k: v for k, v in {"category": body.category, "sentiment": body.sentiment,
                                "priority": body.priority}.items() if v is not None}
    if triage:
        service.set_triage_fields(session, conv, triage, actor)
    return ConversationOut.model_validate(conv)


@router.post("/{conversation_id}/split", response_model=ConversationOut, status_code=201,
             responses=errors(NotFound))
def split(conversation_id: uuid.UUID, body: SplitIn,
          principal: Annotated[Principal, Depends(current_principal)],
          session: WriteSession) -> ConversationOut:
    conv = service.access_conversation(session, principal.workspace_id, conversation_id)
    new = service.split_conversation(session, conv, body.message_ids, principal.actor)
    return ConversationOut.model_validate(new)


@router.post("/{conversation_id}/merge", response_model=ConversationOut,
             responses=errors(NotFound))
def merge(conversation_id: uuid.UUID, body: MergeIn,
          principal: Annotated[Principal, Depends(current_principal)],
          session: WriteSession) -> ConversationOut:
    """Merge the other conversation into this one."""
    target = service.access_conversation(session, principal.workspace_id, conversation_id)
    source = service.access_conversation(session, principal.workspace_id, body.other_id)
    return ConversationOut.model_validate(
        service.merge_conversations(session, source, target, principal.actor))
