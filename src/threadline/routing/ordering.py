"""Ordered settings (routing rules, automation rules, service-level policies): the first
that matches wins, so their order is part of what an admin edits. One way to reorder and to
move one place up or down, audited and published, for all of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.errors import NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import audit, publish


class Ordered(Protocol):
    id: uuid.UUID
    name: str
    position: int


Row = TypeVar("Row", bound=Ordered)


def in_order(session: Session, model: Any, workspace_id: uuid.UUID) -> list[Any]:
    """Every row of `model` (an ordered setting) of the workspace, first match first."""
    return list(session.scalars(select(model).where(model.workspace_id == workspace_id)
                                .order_by(model.position, model.created_at)))


def access(session: Session, model: Any, workspace_id: uuid.UUID, row_id: uuid.UUID, *,
           message: str, code: str) -> Any:
    """One row of `model` of this workspace, else NotFound(`message`, `code`) — another
    workspace's id included."""
    row = session.scalar(select(model).where(model.id == row_id,
                                             model.workspace_id == workspace_id))
    if row is None:
        raise NotFound(message, code=code)
    return row


def reorder(session: Session, workspace_id: uuid.UUID, rows: Sequence[Row],
            ids: list[uuid.UUID], actor: Actor, *, field: str, what: str, action: str,
            topic: Live) -> list[Row]:
    """Give `rows` (every one of the workspace's) the positions of `ids`, which must list
    each exactly once (else a 422 naming `field`); audited as `action` with the names in
    their new order, published on `topic` for the desktops."""
    by_id = {row.id: row for row in rows}
    if len(ids) != len(set(ids)) or set(ids) != set(by_id):
        raise ValidationFailed(f"{field} must list every {what} of the workspace exactly once",
                               code="invalid_order", details={"field": field})
    for position, row_id in enumerate(ids):
        by_id[row_id].position = position
    session.flush()
    audit(session, workspace_id, action, "workspace", workspace_id, actor_type=actor.type,
          actor_id=actor.id, data={"order": [by_id[i].name for i in ids]})
    publish(session, workspace_id, topic, {"action": "reordered"})
    return [by_id[i] for i in ids]


def moved(ids: list[uuid.UUID], row_id: uuid.UUID, step: int) -> list[uuid.UUID]:
    """`ids` with `row_id` one place up (step < 0) or down; at an end it stays."""
    ids = list(ids)
    index = ids.index(row_id)
    other = index + (1 if step > 0 else -1)
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    return ids
