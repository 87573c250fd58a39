"""The recent-search poller: listening beyond what is sent to the brand (X).

Shaped like the mentions poller (ingest/polling.py): one self-rescheduling outbox job per
listening X account (`listening.search`, payload `{"account_id"}`). A run builds the query from
the workspace's rules, asks the adapter for posts since the account's search cursor
(`listening_settings.search_cursors[account id]`, `{"since_id"}`), stores them with
`ingest.service.store` exactly like a webhook (event id `tweet:<id>`: a post found by search
and delivered by webhook is stored once), saves the new cursor and enqueues the next run, all
in one transaction: a crash before the commit searches again from the old cursor and stores
nothing twice. The inbound batch then meets them in the listening interceptor.

Which accounts listen: active X accounts whose configuration says `"listen": true`. With no
rule there is no query and the chain ends (saving rules starts it again). A 429 (X's
`x-rate-limit-reset`) or 5xx reschedules after the provider's time or with backoff; a
permanent error dead-letters the job with the reason.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import ChannelError, RetryableSendError
from threadline.channels.registry import get_adapter
from threadline.events.service import audit
from threadline.ingest.service import store
from threadline.jobs.registry import Job, PermanentFailure, handler
from threadline.jobs.runtime import Runtime
from threadline.listening.models import ListeningRule, ListeningSettings
from threadline.listening.rules import Rule, search_query
from threadline.listening.service import SEARCH_JOB, get_settings, listens, schedule_search
from threadline.workspace.models import ChannelAccount

MAX_BACKOFF = 3600.0


def _query(session: Session, workspace_id: uuid.UUID) -> str:
    return search_query([Rule(k, v) for k, v in session.execute(
        select(ListeningRule.kind, ListeningRule.value)
        .where(ListeningRule.workspace_id == workspace_id)
        .order_by(ListeningRule.kind, ListeningRule.value))])


@handler(SEARCH_JOB)
def run_search(runtime: Runtime, job: Job) -> None:
    account_id = uuid.UUID(str(job.payload["account_id"]))
    failures = int(job.payload.get("failures") or 0)
    with runtime.db.session(write=False) as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or not listens(account):
            return
        workspace_id = account.workspace_id
        query = _query(session, workspace_id)
        settings = get_settings(session, workspace_id)
        cursor: dict[str, Any] | None = (settings.search_cursors or {}).get(str(account_id))
        interval = float(settings.search_interval_seconds)
        config = account_config(account, runtime.settings)
    if not query:
        return  # nothing to listen for: saving rules schedules the next run
    adapter: Any = get_adapter("x")
    try:
        events, next_cursor = adapter.search(config, query, cursor, runtime.http)
    except ChannelError as exc:
        retryable = bool(getattr(exc, "retryable", isinstance(exc, RetryableSendError)))
        retry_after = getattr(exc, "retry_after", None)
        with runtime.db.session() as session:
            audit(session, workspace_id, "listening.search_failed", "channel_account",
                  account_id, data={"code": exc.code, "retryable": retryable,
                                    "failures": failures + 1})
            if retryable:
                delay = float(retry_after) if retry_after else min(
                    interval * 2 ** min(failures, 12), MAX_BACKOFF)
                schedule_search(session, workspace_id, account_id=account_id, exclude=job.id,
                                failures=failures + 1, delay=min(delay, MAX_BACKOFF))
                return
        raise PermanentFailure(f"{exc.code}: {exc.redacted(config).message}") from None
    with runtime.db.session() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None:
            return
        stored = store(session, account, events)
        row = session.get(ListeningSettings, workspace_id)
        if row is None:
            row = get_settings(session, workspace_id)
            session.add(row)
        cursors = dict(row.search_cursors or {})
        if cursors.get(str(account_id)) == cursor:  # another run may have moved it
            cursors[str(account_id)] = next_cursor
            row.search_cursors = cursors
        audit(session, workspace_id, "listening.searched", "channel_account", account_id,
              data={"found": len(events), "stored": stored})
        schedule_search(session, workspace_id, account_id=account_id, exclude=job.id,
                        delay=interval)
