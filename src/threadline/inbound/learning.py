"""Learning from agents: a workspace's own triage model, trained from its corrections.

Agents (or API tokens) set a conversation's category or sentiment through
``conversations.service.set_triage_fields``, audited as ``conversation.classified``. The labels
are read from those audit rows (the last value a person set for each field wins; values set by
the system are not labels), the text is the conversation's inbound messages. ``train_workspace``
fits ``threadline.triage.train`` on them and stores the result as the workspace's active
``TriageModelRecord``; ``active_model`` loads it for ``analyze(..., model=...)``.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation, Message
from threadline.events.models import AuditEvent
from threadline.events.service import audit
from threadline.triage import CATEGORIES, SENTIMENTS, TriageModel, load_model, train
from threadline.workspace.models import TriageModelRecord

LABEL_ACTION = "conversation.classified"
HUMAN_ACTORS = ("agent", "token")
MAX_TEXT_CHARS = 2000
MIN_EXAMPLES = 10


@dataclass(frozen=True)
class Example:
    conversation_id: uuid.UUID
    text: str
    category: str | None
    sentiment: str | None

    def as_tuple(self) -> tuple[str, str | None, str | None]:
        return self.text, self.category, self.sentiment


class NotEnoughExamples(Exception):
    """Fewer labelled conversations than training needs (nothing is stored)."""

    def __init__(self, found: int, needed: int = MIN_EXAMPLES) -> None:
        super().__init__(f"{found} labelled conversations; at least {needed} are needed")
        self.found = found
        self.needed = needed


def labelled_examples(session: Session, workspace_id: uuid.UUID) -> list[Example]:
    """One example per conversation a person classified: its inbound text and their labels."""
    rows = session.execute(
        select(AuditEvent.subject_id, AuditEvent.data)
        .where(AuditEvent.workspace_id == workspace_id, AuditEvent.action == LABEL_ACTION,
               AuditEvent.subject_type == "conversation",
               AuditEvent.actor_type.in_(HUMAN_ACTORS))
        .order_by(AuditEvent.id)).all()
    labels: dict[uuid.UUID, dict[str, str]] = {}
    for subject_id, data in rows:
        try:
            conv_id = uuid.UUID(str(subject_id))
        except ValueError:
            continue
        current = labels.setdefault(conv_id, {})
        for key, allowed in (("category", CATEGORIES), ("sentiment", SENTIMENTS)):
            value = (data or {}).get(key)
            if isinstance(value, str) and value in allowed:
                current[key] = value
    labels = {k: v for k, v in labels.items() if v}
    if not labels:
        return []
    texts: dict[uuid.UUID, list[str]] = {}
    ids = list(labels)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        live = select(Conversation.id).where(Conversation.workspace_id == workspace_id,
                                             Conversation.id.in_(chunk),
                                             Conversation.merged_into_id.is_(None))
        stmt = (select(Message.conversation_id, Message.text)
                .where(Message.workspace_id == workspace_id,
                       Message.conversation_id.in_(live),
                       Message.direction == "inbound", Message.kind != "note",
                       Message.deleted_at.is_(None))
                .order_by(Message.conversation_id, Message.created_at, Message.id))
        for conv_id, text in session.execute(stmt):
            if text and text.strip():
                texts.setdefault(conv_id, []).append(text.strip())
    out = []
    for conv_id in ids:
        parts = texts.get(conv_id)
        if not parts:
            continue
        lab = labels[conv_id]
        out.append(Example(conv_id, "\n".join(parts)[:MAX_TEXT_CHARS], lab.get("category"),
                           lab.get("sentiment")))
    return out


def train_workspace(session: Session, workspace_id: uuid.UUID, *,
                    actor_type: str = "system", actor_id: str | None = None,
                    min_examples: int = MIN_EXAMPLES) -> dict[str, Any]:
    """Train on the workspace's labels, store the model as the active one, return the report.

    Raises ``NotEnoughExamples`` (storing nothing) below ``min_examples``.
    """
    examples = labelled_examples(session, workspace_id)
    if len(examples) < min_examples:
        raise NotEnoughExamples(len(examples), min_examples)
    report = train([e.as_tuple() for e in examples])
    summary: dict[str, Any] = {
        **report.to_dict(),
        "examples": len(examples),
        "labelled": {
            "category": sum(e.category is not None for e in examples),
            "sentiment": sum(e.sentiment is not None for e in examples),
        },
        "split": "held-out 20 % of the workspace's labelled conversations (seeded shuffle); "
                 "the stored model is then refit on all of them",
    }
    session.execute(update(TriageModelRecord)
                    .where(TriageModelRecord.workspace_id == workspace_id,
                           TriageModelRecord.active.is_(True))
                    .values(active=False))
    record = TriageModelRecord(workspace_id=workspace_id, data=report.model, report=summary,
                               active=True)
    session.add(record)
    session.flush()
    audit(session, workspace_id, "triage_model.trained", "triage_model", record.id,
          actor_type=actor_type, actor_id=actor_id, data=summary)
    return {"model_id": str(record.id), **summary}


_CACHE: OrderedDict[uuid.UUID, TriageModel] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def active_model(session: Session, workspace_id: uuid.UUID) -> TriageModel | None:
    """The workspace's active trained model, or ``None`` (use the built-in rules)."""
    row = session.execute(
        select(TriageModelRecord.id)
        .where(TriageModelRecord.workspace_id == workspace_id,
               TriageModelRecord.active.is_(True))
        .order_by(TriageModelRecord.created_at.desc()).limit(1)).first()
    if row is None:
        return None
    record_id = row[0]
    with _CACHE_LOCK:
        cached = _CACHE.get(record_id)
        if cached is not None:
            _CACHE.move_to_end(record_id)
            return cached
    data = session.scalar(select(TriageModelRecord.data)
                          .where(TriageModelRecord.id == record_id))
    if data is None:
        return None
    try:
        model = load_model(bytes(data))
    except ValueError:
        return None
    with _CACHE_LOCK:
        _CACHE[record_id] = model
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model
