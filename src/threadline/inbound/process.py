"""Inbound processing: stored provider events -> messages in conversations.

Work is done per batch inside the worker's transaction: every lookup the batch needs is
fetched with a handful of set-based queries, the events are threaded one by one in memory
(in arrival order), and the rows are written with executemany. The batch either commits
whole with its events marked done, or the worker retries its events one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelError,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    NormalizedItem,
    StatusUpdate,
)
from threadline.channels.registry import get_adapter
from threadline.db.locks import workspace_lock
from threadline.inbound.batch import BatchContext, item_keys
from threadline.inbound.intercept import consumed
from threadline.jobs.registry import (
    ClaimedEvent,
    PermanentFailure,
    RetryLater,
    set_inbound_keys,
    set_inbound_processor,
)
from threadline.jobs.retention import rewrite_payloads
from threadline.jobs.runtime import Runtime
from threadline.triage.redact import redact_json
from threadline.workspace.models import ChannelAccount


def normalize_event(account: ChannelAccount, payload: dict[str, Any]) -> list[NormalizedItem]:
    try:
        return get_adapter(account.kind).normalize(account_config(account), payload)
    except ChannelError as exc:
        raise PermanentFailure(f"{exc.code}: {exc.message}") from None


def process_events(runtime: Runtime, session: Session, events: Sequence[ClaimedEvent]) -> None:
    by_workspace: dict[uuid.UUID, list[ClaimedEvent]] = {}
    for ev in events:
        by_workspace.setdefault(ev.workspace_id, []).append(ev)
    for workspace_id in sorted(by_workspace, key=str):
        # shared: batches exclude each other by their events' keys and customers (decision
        # 0334); an erasure holds the workspace alone
        workspace_lock(session, workspace_id, shared=True)
        batch = by_workspace[workspace_id]
        accounts = {a.id: a for a in session.query(ChannelAccount).filter(
            ChannelAccount.id.in_({e.channel_account_id for e in batch}))}
        items: list[tuple[ChannelAccount, NormalizedItem]] = []
        for ev in batch:
            account = accounts.get(ev.channel_account_id)
            if account is None:
                raise PermanentFailure("channel account no longer exists")
            items.extend((account, item) for item in normalize_event(account, ev.payload))
        ctx = BatchContext(session, workspace_id, runtime.settings)
        ctx.prefetch(items)
        for account, item in items:
            if isinstance(item, InboundMessage):
                # an answer to a survey (csat) is recorded, never threaded; a redelivery of
                # a message we hold is left to the batch
                if item.provider_id in ctx.messages or not consumed(runtime, session,
                                                                    account, item):
                    ctx.add_message(account, item)
            elif isinstance(item, StatusUpdate):
                ctx.apply_status(account, item)
            elif isinstance(item, MessageEdit):
                ctx.apply_edit(item)
            elif isinstance(item, MessageDelete):
                ctx.apply_delete(item)
        ctx.flush()
        _scrub_payloads(session, batch)
        if ctx.missing:
            # Something referred to a message we do not have yet (an edit, a delete or a
            # status before its original): everything else is written; ask for a retry.
            raise RetryLater(f"waiting for {len(ctx.missing)} original message(s)")


def event_keys(session: Session, events: Sequence[ClaimedEvent]) -> dict[int, list[str]]:
    """The keys of what each event's items touch (`batch.item_keys`); an event that does not
    normalise gets none (it fails alone, touching nothing)."""
    accounts = {a.id: a for a in session.query(ChannelAccount).filter(
        ChannelAccount.id.in_({e.channel_account_id for e in events}))}
    out: dict[int, list[str]] = {}
    for ev in events:
        account = accounts.get(ev.channel_account_id)
        if account is None:
            continue
        try:
            items = get_adapter(account.kind).normalize(account_config(account), ev.payload)
        except Exception:  # noqa: S112 - it fails again when processed, alone and reported
            continue
        out[ev.id] = [key for item in items for key in item_keys(account.id, item)]
    return out


def _scrub_payloads(session: Session, events: Sequence[ClaimedEvent]) -> None:
    """Processed raw payloads keep no card data (committed with the events' done mark)."""
    changed: dict[int, dict[str, Any]] = {}
    for ev in events:
        clean = redact_json(ev.payload)
        if clean != ev.payload:
            changed[ev.id] = clean
    rewrite_payloads(session, changed)


def install() -> None:
    set_inbound_processor(process_events)
    set_inbound_keys(event_keys)
