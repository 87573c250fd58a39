"""The demo's queue views (docs/queues.md): the X account knows the brand's and a competitor's
handles, so triage tells a question from an awareness mention, and a few public tweets go
through the real webhook path into the Mentions, Competitors and Chatter views (the queue
keeps the questions)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from threadline.channels.base import WebhookRequest
from threadline.ingest import service as ingest
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import x
from threadline.workspace.models import ChannelAccount

BRAND = "acme_help"
COMPETITOR = "globex_care"
# (user id, handle, name, text): invented people and words
TWEETS = [
    ("7200001", "nora_v", "Nora Vidal",
     "Spotted the new @acme_help pop-up store at the station, the window looks great"),
    ("7200002", "ben_k", "Ben Kowalski",
     "Loving my new @acme_help running shoes, best purchase this year"),
    ("7200003", "ines_r", "Ines Rocha",
     "@globex_care finally has next-day delivery to my town, about time"),
    ("7200004", "sam_t", "Sam Taylor", "Monday again, coffee first, everything else later"),
    ("7200005", "oli_w", "Oli Weber",
     "@acme_help my account was hacked and someone changed my email, urgent help please!!"),
]


def seed_queue(runtime: Runtime, workspace_id: uuid.UUID,
               accounts: dict[str, tuple[str, dict[str, Any]]]) -> None:
    account_id, config = accounts["x"]
    with runtime.db.session() as session:
        account = session.get(ChannelAccount, uuid.UUID(account_id))
        if account is None or account.workspace_id != workspace_id:
            return
        account.config = {**account.config, "brand_handles": [BRAND],
                          "competitor_handles": [COMPETITOR]}
        stamp = int(time.time() * 1000)
        for n, (user_id, handle, name, text) in enumerate(TWEETS):
            hook = x.mention_webhook(account_id, config, tweet_id=f"{stamp}{n}",
                                     user_id=user_id, screen_name=handle, text=text, name=name)
            ingest.receive(session, "x", account_id, WebhookRequest(
                method=hook.method, url=hook.path, query={}, body=hook.body,
                headers={k.lower(): v for k, v in hook.headers.items()}))
