"""What an inbound batch does to messages already stored: delivery states (and the read
watermarks of a thread), edits and deletions; the state both this and the batch's threading
use (`MsgRef`, `ConvState`); and edits that add to a message's provider metadata (a call
record's final status and duration), merged into the stored `meta` after the batch's other
writes. `BatchContext` (inbound/batch.py) holds the state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.channels.base import DeliveryState, MessageDelete, MessageEdit, StatusUpdate
from threadline.conversations.models import Message
from threadline.events.names import Live
from threadline.events.service import ConversationEvent
from threadline.inbound.matching import bind_echo
from threadline.workspace.models import ChannelAccount


@dataclass
class MsgRef:
    id: uuid.UUID
    conversation_id: uuid.UUID
    direction: str
    delivery: str
    new: bool = False


@dataclass
class ConvState:
    row: dict[str, Any]
    new: bool = False
    dirty: bool = False
    merged_into: uuid.UUID | None = None

    @property
    def id(self) -> uuid.UUID:
        value: uuid.UUID = self.row["id"]
        return value


class StoredMessageUpdates:
    """The appliers of status updates, edits and deletions, mixed into `BatchContext`."""

    session: Session
    workspace_id: uuid.UUID
    now: datetime
    messages: dict[str, MsgRef]
    convs: dict[uuid.UUID, ConvState]
    ops: dict[uuid.UUID, list[dict[str, Any]]]
    message_updates: list[dict[str, Any]]
    meta_patches: list[tuple[uuid.UUID, dict[str, Any]]]
    watermarks: list[tuple[uuid.UUID, str, datetime, str]]
    audits: list[dict[str, Any]]
    stream: list[tuple[uuid.UUID, Live, dict[str, Any]]]
    missing: list[str]

    def resolve(self, conv_id: uuid.UUID) -> uuid.UUID:
        seen = 0
        state = self.convs.get(conv_id)
        while state is not None and state.merged_into is not None and seen < 64:
            conv_id = state.merged_into
            state = self.convs.get(conv_id)
            seen += 1
        return conv_id

    def _audit(self, action: str, subject_type: str, subject_id: uuid.UUID,
               data: dict[str, Any]) -> dict[str, Any]:
        return {"workspace_id": self.workspace_id, "action": action,
                "subject_type": subject_type, "subject_id": str(subject_id),
                "actor_type": "system", "actor_id": None, "data": data, "created_at": self.now}

    def _known(self, provider_id: str) -> MsgRef | None:
        ref = self.messages.get(provider_id)
        if ref is None:
            self.missing.append(provider_id)
        return ref

    def _bind_echo(self, provider_id: str, meta: dict[str, Any]) -> bool:
        """An echo/status naming our message id (see inbound/matching.py)."""
        bound = bind_echo(self.session, self.workspace_id, meta.get("client_message_id"),
                          provider_id)
        if bound is not None:
            self.messages[provider_id] = MsgRef(*bound)
        return bound is not None

    def apply_status(self, account: ChannelAccount, item: StatusUpdate) -> None:
        if item.thread_key and not item.provider_id:
            self.watermarks.append((account.id, item.thread_key, item.at, item.state.value))
            return
        if item.provider_id not in self.messages and item.meta.get("client_message_id"):
            self._bind_echo(item.provider_id, item.meta)
        ref = self._known(item.provider_id)
        if ref is None:
            return
        current = DeliveryState(ref.delivery)
        if current is DeliveryState.FAILED or item.state.rank <= current.rank:
            return
        ref.delivery = item.state.value
        self.message_updates.append({"id": ref.id, "delivery": item.state.value,
                                     "delivery_error": item.error})
        self.stream.append((self.workspace_id, Live.MESSAGE_DELIVERY,
                            {"conversation_id": str(self.resolve(ref.conversation_id)),
                             "message_id": str(ref.id), "delivery": item.state.value}))

    def apply_edit(self, item: MessageEdit) -> None:
        ref = self._known(item.provider_id)
        if ref is None:
            return
        self.message_updates.append({"id": ref.id, "text": item.text, "edited_at": item.at})
        if item.meta:  # a call's outcome and duration: its record and the KPIs follow
            self.meta_patches.append((ref.id, dict(item.meta)))
            self.ops.setdefault(ref.conversation_id, []).append(
                {"event": ConversationEvent.MESSAGE_EDITED, "message_id": str(ref.id)})
        self.audits.append(self._audit("message.edited", "message", ref.id, {}))
        self.stream.append((self.workspace_id, Live.MESSAGE_EDITED,
                            {"conversation_id": str(self.resolve(ref.conversation_id)),
                             "message_id": str(ref.id)}))

    def apply_delete(self, item: MessageDelete) -> None:
        ref = self._known(item.provider_id)
        if ref is None:
            return
        self.message_updates.append({"id": ref.id, "deleted_at": item.at})
        self.audits.append(self._audit("message.deleted", "message", ref.id, {}))
        self.stream.append((self.workspace_id, Live.MESSAGE_DELETED,
                            {"conversation_id": str(self.resolve(ref.conversation_id)),
                             "message_id": str(ref.id)}))


def patch_meta(session: Session, patches: list[tuple[uuid.UUID, dict[str, Any]]]) -> None:
    for message_id, patch in patches:
        meta = session.scalar(select(Message.meta).where(Message.id == message_id))
        session.execute(update(Message).where(Message.id == message_id)
                        .values(meta={**(meta or {}), **patch}))
