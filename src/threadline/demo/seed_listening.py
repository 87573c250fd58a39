"""The demo's listening (docs/listening.md): the X account listens, with rules for the brand's
name, a hashtag and a competitor; the sandbox holds a few public posts that the recent search
finds (a competitor's customer waiting 40 minutes: an opportunity), and a retweet and a
promotion arrive by webhook and are filtered as noise."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from threadline.channels.base import WebhookRequest
from threadline.conversations.service import SYSTEM
from threadline.ingest import service as ingest
from threadline.jobs.runtime import Runtime
from threadline.listening.service import replace_rules, update_settings
from threadline.sandbox.providers import x
from threadline.workspace.models import ChannelAccount

COMPETITOR = "globex_care"
RULES = [{"kind": "brand_name", "value": "Acme"}, {"kind": "hashtag", "value": "AcmeDown"},
         {"kind": "competitor_handle", "value": f"@{COMPETITOR}"},
         {"kind": "competitor_name", "value": "Globex"}]
# (user id, handle, name, followers, minutes ago, text): invented people and words
POSTS = [
    ("7300001", "dana_flies", "Dana Reyes", 5400, 40,
     f"@{COMPETITOR} your app has been down all morning and nobody answers. Terrible."),
    ("7300002", "gus_travels", "Gus Amari", 310, 12,
     "Acme lost my parcel again, worst delivery this month #AcmeDown"),
    ("7300003", "lea_m", "Lea Moreau", 12800, 5,
     "Comparing Acme and Globex for my shop's payments, any advice?"),
]


def seed_listening(runtime: Runtime, workspace_id: uuid.UUID,
                   accounts: dict[str, tuple[str, dict[str, Any]]]) -> None:
    account_id, config = accounts["x"]
    now = datetime.now(UTC)
    stamp = int(time.time() * 1000) * 1000  # above every earlier run's ids (the cursor)
    for n, (user_id, handle, name, followers, minutes, text) in enumerate(POSTS):
        x.add_public_post(str(stamp + 500 + n), user_id, handle, text, followers=followers,
                          created_at=now - timedelta(minutes=minutes), name=name)
    with runtime.db.session() as session:
        account = session.get(ChannelAccount, uuid.UUID(account_id))
        if account is None or account.workspace_id != workspace_id:
            return
        account.config = {**account.config, "listen": True}
        session.flush()
        update_settings(session, workspace_id, {"opportunity_wait_minutes": 15}, SYSTEM)
        replace_rules(session, workspace_id, RULES, SYSTEM)  # schedules the first search
        noise = [
            x.public_tweet_webhook(account_id, config, str(stamp + 600), "7300010", "fan_ann",
                                   "RT @acme_help: Our app is back up. Thanks for your "
                                   "patience!", retweet_of=str(stamp + 601), followers=120),
            x.mention_webhook(account_id, config, str(stamp + 602), "7300011", "dealz4u",
                              "@acme_help GIVEAWAY! Use code WIN50 for 50% off "
                              "https://promo.example/win"),
        ]
        for hook in noise:
            ingest.receive(session, "x", account_id, WebhookRequest(
                method=hook.method, url=hook.path, query={}, body=hook.body,
                headers={k.lower(): v for k, v in hook.headers.items()}))
