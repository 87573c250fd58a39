"""Handler registry: outbox job names -> handlers (and, for some, a runner of several jobs
in the caller's transaction), and the one inbound batch processor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime


class RetryLater(Exception):
    """Raised by a handler or processor: try again after `seconds` (counts as an attempt)."""

    def __init__(self, reason: str, seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class PermanentFailure(Exception):
    """Raised by a handler or processor: retrying cannot help; dead-letter it now."""


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    payload: dict[str, Any]
    attempts: int
    workspace_id: Any
    request_id: str | None = None  # the web request that caused it (logs)


@dataclass(frozen=True)
class ClaimedEvent:
    """A stored provider event a worker has claimed for processing."""

    id: int
    workspace_id: Any
    channel_account_id: Any
    provider_event_id: str
    payload: dict[str, Any]
    attempts: int
    request_id: str | None = None  # the web request that stored it (logs)


JobHandler = Callable[["Runtime", Job], None]
# Processes a batch of claimed inbound events inside the caller's transaction. It may raise;
# the worker then retries each event alone to find the one at fault.
InboundProcessor = Callable[["Runtime", Session, Sequence[ClaimedEvent]], None]

# The keys of what each event touches (messages, identities, private threads), by event id:
# batches whose events share no key run at once (decision 0334).
InboundKeys = Callable[[Session, Sequence[ClaimedEvent]], dict[int, list[str]]]

# Runs several claimed jobs of one name and one workspace inside the caller's transaction, in
# order; the worker marks them done in that same transaction. It may raise; the worker then
# runs each job alone with its handler.
JobGroupRunner = Callable[["Runtime", Session, Sequence[Job]], None]

_handlers: dict[str, JobHandler] = {}
_group_runners: dict[str, JobGroupRunner] = {}
_inbound: list[InboundProcessor] = []
_keys: list[InboundKeys] = []


def handler(name: str) -> Callable[[JobHandler], JobHandler]:
    def register(fn: JobHandler) -> JobHandler:
        _handlers[name] = fn
        return fn

    return register


def get_handler(name: str) -> JobHandler | None:
    return _handlers.get(name)


def group_runner(name: str) -> Callable[[JobGroupRunner], JobGroupRunner]:
    """Register the runner of several `name` jobs in one transaction (the job's handler
    must stay registered: it runs a job alone)."""

    def register(fn: JobGroupRunner) -> JobGroupRunner:
        _group_runners[name] = fn
        return fn

    return register


def get_group_runner(name: str) -> JobGroupRunner | None:
    return _group_runners.get(name)


def set_inbound_processor(fn: InboundProcessor) -> None:
    _inbound.clear()
    _inbound.append(fn)


def get_inbound_processor() -> InboundProcessor | None:
    return _inbound[0] if _inbound else None


def set_inbound_keys(fn: InboundKeys) -> None:
    _keys.clear()
    _keys.append(fn)


def get_inbound_keys() -> InboundKeys | None:
    return _keys[0] if _keys else None
