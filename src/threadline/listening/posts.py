"""A listened post's normalised item, kept as JSON so that turning the post into a
conversation later threads exactly what the inbound batch would have threaded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from threadline.channels.base import (
    Attachment,
    Author,
    Coordinate,
    InboundMessage,
    MessageKind,
    Visibility,
)


def item_to_json(item: InboundMessage) -> dict[str, Any]:
    a = item.author
    return {
        "provider_id": item.provider_id, "visibility": item.visibility.value,
        "text": item.text, "created_at": item.created_at.isoformat(), "kind": item.kind.value,
        "in_reply_to": item.in_reply_to, "references": list(item.references),
        "root_provider_id": item.root_provider_id, "thread_key": item.thread_key,
        "subject": item.subject, "meta": dict(item.meta),
        "attachments": [dict(att.__dict__) for att in item.attachments],
        "author": {"identity_kind": a.identity_kind, "provider_user_id": a.provider_user_id,
                   "handle": a.handle, "display_name": a.display_name,
                   "coordinates": [[c.kind, c.address] for c in a.coordinates]},
    }


def item_from_json(data: dict[str, Any]) -> InboundMessage:
    a = data["author"]
    author = Author(identity_kind=a["identity_kind"], provider_user_id=a["provider_user_id"],
                    handle=a.get("handle"), display_name=a.get("display_name"),
                    coordinates=tuple(Coordinate(k, v) for k, v in a.get("coordinates", [])))
    return InboundMessage(
        provider_id=data["provider_id"], author=author,
        visibility=Visibility(data["visibility"]), text=data.get("text") or "",
        created_at=datetime.fromisoformat(data["created_at"]),
        kind=MessageKind(data.get("kind") or "post"), in_reply_to=data.get("in_reply_to"),
        references=tuple(data.get("references") or ()),
        root_provider_id=data.get("root_provider_id"), thread_key=data.get("thread_key"),
        subject=data.get("subject"),
        attachments=tuple(Attachment(**att) for att in data.get("attachments") or ()),
        meta=dict(data.get("meta") or {}))
