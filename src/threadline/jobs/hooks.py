"""The operations layer's entry point: one `conversation.event` job per change of a
conversation (enqueued with the change, `events.service.conversation_events`) runs the
registered conversation hooks in stage order, in one transaction, under the workspace's
"operations" lock (so two workers never decide for the same workspace at once: no double
assignment, no escalation fired twice).

Consecutive jobs of one workspace that a worker claimed together run in one transaction
(`run_conversation_events`, under one lock, each job's hooks in order) that also marks them
done; if that transaction fails, each job runs alone. A hook of the last stages may take the
events of all of them at once (`conversations_hook`: search indexing does).

Stages: automation rules (`AUTOMATION`), then routing (`ROUTING`), then service levels
(`SERVICE_LEVELS`): a rule may assign before routing looks, and the policy that applies
depends on the team and priority routing and rules have set. Hooks must be idempotent: a job
that crashed after its transaction committed runs again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline import logs
from threadline.conversations.models import Conversation
from threadline.db.locks import workspace_lock
from threadline.events.service import CONVERSATION_EVENT_JOB
from threadline.jobs.registry import Job, PermanentFailure, group_runner, handler
from threadline.workspace.models import Workspace

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
# A hook that takes several conversations' events at once (one job's, or a group's: see
# `run_conversation_events`); it runs after every per-conversation hook, so its stage must be
# the last ones' (nothing may depend on what it writes within the transaction).
ManyConversationsHook = Callable[["Runtime", Session, Sequence[ConversationEvents]], None]
_hooks: dict[str, tuple[int, ConversationHook]] = {}
_many_hooks: dict[str, tuple[int, ManyConversationsHook]] = {}


def conversation_hook(stage: int, name: str) -> Callable[[ConversationHook], ConversationHook]:
    """Register `fn` to run at `stage` for every conversation event job (idempotent by
    `name`: importing a module twice registers it once)."""

    def register(fn: ConversationHook) -> ConversationHook:
        _hooks[name] = (stage, fn)
        return fn

    return register


def conversations_hook(stage: int, name: str,
                       ) -> Callable[[ManyConversationsHook], ManyConversationsHook]:
    """Register `fn` to run at `stage` once for the events of several conversations (the
    jobs a worker runs together), after every per-conversation hook."""

    def register(fn: ManyConversationsHook) -> ManyConversationsHook:
        _many_hooks[name] = (stage, fn)
        return fn

    return register


def hooks() -> list[ConversationHook]:
    return [fn for _stage, fn in sorted(_hooks.values(), key=lambda item: item[0])]


def many_hooks() -> list[ManyConversationsHook]:
    last = max((stage for stage, _fn in _hooks.values()), default=0)
    early = [stage for stage, _fn in _many_hooks.values() if stage < last]
    if early:  # a programming error: it would run after hooks of later stages
        raise RuntimeError(f"a many-conversations hook at stage {early[0]} comes before a "
                           f"per-conversation hook at stage {last}")
    return [fn for _stage, fn in sorted(_many_hooks.values(), key=lambda item: item[0])]


def held(session: Session, batches: Sequence[ConversationEvents]) -> list[Any]:
    """The conversations and workspaces of `batches`, read in two queries, for the caller to
    keep while the hooks run: the session's identity map holds only objects something refers
    to, so each hook's `session.get` read the same row again (six times a job)."""
    ids = list(dict.fromkeys(batch.conversation_id for batch in batches))
    workspace_ids = list(dict.fromkeys(batch.workspace_id for batch in batches))
    return [*session.scalars(select(Conversation).where(Conversation.id.in_(ids))),
            *session.scalars(select(Workspace).where(Workspace.id.in_(workspace_ids)))]


def run_hooks(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    """Run every hook for `batch` in the caller's transaction, under the operations lock."""
    _run(runtime, session, [batch])


def _run(runtime: Runtime, session: Session, batches: Sequence[ConversationEvents],
         jobs: Sequence[Job] = ()) -> None:
    """Each batch's per-conversation hooks in order (in its job's log context when `jobs`
    are given), then the many-conversations hooks once, under the operations locks."""
    for workspace_id in dict.fromkeys(batch.workspace_id for batch in batches):
        workspace_lock(session, workspace_id, OPERATIONS_LOCK)
    kept = held(session, batches)
    for index, batch in enumerate(batches):
        job = jobs[index] if jobs else None
        with logs.context(request_id=job.request_id, job_id=job.id) if job \
                else nullcontext():
            for fn in hooks():
                fn(runtime, session, batch)
    for many in many_hooks():
        many(runtime, session, batches)
    del kept


def _events_of(job: Job) -> ConversationEvents:
    payload = job.payload
    try:
        return ConversationEvents(
            workspace_id=uuid.UUID(str(job.workspace_id)),
            conversation_id=uuid.UUID(str(payload["conversation_id"])),
            events=[dict(e) for e in payload.get("events") or []],
            chain=tuple(str(c) for c in payload.get("chain") or ()), job_id=job.id)
    except (KeyError, ValueError, TypeError) as exc:
        raise PermanentFailure(f"malformed conversation event: {type(exc).__name__}") from None


@handler(CONVERSATION_EVENT_JOB)
def handle_conversation_event(runtime: Runtime, job: Job) -> None:
    batch = _events_of(job)
    if not _hooks and not _many_hooks:
        return
    with runtime.db.session() as session:
        run_hooks(runtime, session, batch)


@group_runner(CONVERSATION_EVENT_JOB)
def run_conversation_events(runtime: Runtime, session: Session, jobs: Sequence[Job]) -> None:
    """Several conversation event jobs of one workspace in the caller's transaction, in
    order, under one operations lock: each as its own job would run it."""
    batches = [_events_of(job) for job in jobs]
    if _hooks or _many_hooks:
        _run(runtime, session, batches, jobs)
