"""The demo's community forum (docs/community.md): a Discourse account on the sandbox and three
topics through the real webhook path — one asked 30 hours ago that nobody answered (the
escalation scan puts it in the inbox within a minute), one a peer solved (resolved, with its
"Make a knowledge base article" button), and a fresh one the community still has (snoozed).
Fixed ids: a second run stores nothing new."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from threadline.channels.base import WebhookRequest
from threadline.community.engine import schedule_scan
from threadline.ingest import service as ingest
from threadline.jobs.runtime import Runtime
from threadline.sandbox.core import SignedWebhook
from threadline.sandbox.providers import discourse as sd
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import create_channel_account

NAME = "Demo community"
TOPICS = (9_100_001, 9_100_002, 9_100_003)


def _stamp(hours_ago: float) -> str:
    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _account(runtime: Runtime, workspace_id: uuid.UUID,
             sandbox_url: str) -> tuple[str, dict[str, Any]]:
    wanted = {"api_base_url": f"{sandbox_url}{sd.PREFIX}", "api_key": secrets.token_hex(16),
              "api_username": "acme_support", "webhook_secret": secrets.token_hex(16)}
    with runtime.db.session() as session:
        account = session.scalar(select(ChannelAccount).where(
            ChannelAccount.workspace_id == workspace_id, ChannelAccount.kind == "discourse",
            ChannelAccount.name == NAME))
        if account is None:
            account = create_channel_account(session, workspace_id, kind="discourse",
                                             name=NAME, config=wanted)
        else:  # the sandbox may run on another port this time
            account.config = {**account.config, "api_base_url": wanted["api_base_url"]}
        return str(account.id), dict(account.config)


def _receive(runtime: Runtime, account_id: str, hooks: list[SignedWebhook]) -> None:
    with runtime.db.session() as session:
        for hook in hooks:
            ingest.receive(session, "discourse", account_id, WebhookRequest(
                method=hook.method, url=hook.path, query={}, body=hook.body,
                headers={k.lower(): v for k, v in hook.headers.items()}))


def seed_community(runtime: Runtime, workspace_id: uuid.UUID, sandbox_url: str) -> None:
    account_id, config = _account(runtime, workspace_id, sandbox_url)
    unanswered, solved, fresh = TOPICS
    _, first = sd.topic_webhooks(
        account_id, config, "marta_g", "Since the last update my X200 dock no longer wakes "
        "the second screen. I tried another cable and a different port. Any ideas?",
        title="X200 dock: second screen stays black", topic_id=unanswered,
        created_at=_stamp(30))
    _, peer_no = sd.post_webhook(account_id, config, unanswered, "lukas_b",
                                 "Same here, following this topic.", post_number=2,
                                 post_id=unanswered * 10 + 2, reply_to_post_number=1,
                                 created_at=_stamp(29))
    _, second = sd.topic_webhooks(
        account_id, config, "priya_s", "Can I use the travel adapter from the old model "
        "with the new charger?", title="Old travel adapter with the new charger?",
        topic_id=solved, created_at=_stamp(5))
    answer, peer_yes = sd.post_webhook(
        account_id, config, solved, "tom_h", "Yes: the plug is the same, I have used mine "
        "for a month. The adapter is rated for the 65 W charger.", post_number=2,
        post_id=solved * 10 + 2, reply_to_post_number=1, created_at=_stamp(4))
    _, third = sd.topic_webhooks(
        account_id, config, "chen_l", "What is the best way to clean the keyboard without "
        "damaging the keys?", title="Cleaning the keyboard", topic_id=fresh,
        created_at=_stamp(1))
    _receive(runtime, account_id, [*first, peer_no, *second, peer_yes, *third])
    with runtime.db.session() as session:
        schedule_scan(session)  # the unanswered topic is past its deadline: escalated soon

    def accept_later() -> None:  # the asker accepts the peer's answer a moment later
        time.sleep(5)
        _receive(runtime, account_id, [sd.solution_webhook(account_id, config, answer)])

    threading.Thread(target=accept_later, daemon=True, name="demo-community").start()
