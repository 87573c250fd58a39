"""The operations layer's entry point: one `conversation.event` job per change of a
conversation (enqueued with the change, `events.service.conversation_events`) runs the
registered conversation hooks in stage order, in one transaction, under the workspace's
"operations" lock (so two workers never decide for the same workspace at once: no double
assignment, no escalation fired twice).

Stages: automation rules (`AUTOMATION`), then routing (`ROUTING`), then service levels
(`SERVICE_LEVELS`): a rule may assign before routing looks, and the policy that applies
depends on the team and priority routing and rules have set. Hooks must be idempotent: a job
that crashed after its transaction committed runs again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from threadline.db.locks import workspace_lock
from threadline.events.service import CONVERSATION_EVENT_JOB
from threadline.jobs.registry import Job, PermanentFailure, handler

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

AUTOMATION = 10
ROUTING = 20
SERVICE_LEVELS = 30
OPERATIONS_LOCK = "operations"


@dataclass(frozen=True)
class ConversationEvents:
    """What one job tells the hooks: a conversation, its events in order, and the automation
    rules whose actions caused them."""

    workspace_id: uuid.UUID
    conversation_id: uuid.UUID
    events: list[dict[str, Any]]
    chain: tuple[str, ...] = ()
    job_id: int | None = None
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(e.get("event", "") for e in self.events))

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == name]


ConversationHook = Callable[["Runtime", Session, ConversationEvents], None]
_hooks: dict[str, tuple[int, ConversationHook]] = {}


def conversation_hook(stage: int, name: str) -> Callable[[ConversationHook], ConversationHook]:
    """Register `fn` to run at `stage` for every conversation event job (idempotent by
    `name`: importing a module twice registers it once)."""

    def register(fn: ConversationHook) -> ConversationHook:
        _hooks[name] = (stage, fn)
        return fn

    return register


def hooks() -> list[ConversationHook]:
    return [fn for _stage, fn in sorted(_hooks.values(), key=lambda item: item[0])]


def run_hooks(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    """Run every hook for `batch` in the caller's transaction, under the operations lock."""
    workspace_lock(session, batch.workspace_id, OPERATIONS_LOCK)
    for fn in hooks():
        fn(runtime, session, batch)


@handler(CONVERSATION_EVENT_JOB)
def handle_conversation_event(runtime: Runtime, job: Job) -> None:
    payload = job.payload
    try:
        batch = ConversationEvents(
            workspace_id=uuid.UUID(str(job.workspace_id)),
            conversation_id=uuid.UUID(str(payload["conversation_id"])),
            events=[dict(e) for e in payload.get("events") or []],
            chain=tuple(str(c) for c in payload.get("chain") or ()), job_id=job.id)
    except (KeyError, ValueError, TypeError) as exc:
        raise PermanentFailure(f"malformed conversation event: {type(exc).__name__}") from None
    if not _hooks:
        return
    with runtime.db.session() as session:
        run_hooks(runtime, session, batch)
