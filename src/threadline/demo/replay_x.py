"""Real customer-care threads from the Customer Support on Twitter data set, played as X
traffic: each row becomes a signed Account Activity webhook posted to Threadline over HTTP
(brand rows come back as the account's own tweets, so they are stored as echoes)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import httpx

from threadline.ingest.replay import read_twcs, twcs_files
from threadline.sandbox.providers import x

log = logging.getLogger("threadline.sandbox")


def replay_twcs_as_x(base_url: str, account_id: str, config: dict[str, Any], path: Path, *,
                     pause: float = 0.2, stop: threading.Event | None = None,
                     limit: int | None = None) -> int:
    """Post the rows in file order; returns how many webhooks were accepted."""
    stop = stop or threading.Event()
    own_id = str(config["user_id"])
    sent = 0
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=15) as http:
        for number, tweet in enumerate(t for f in twcs_files(path) for t in read_twcs(f)):
            if (limit is not None and number >= limit) or stop.wait(pause):
                break
            author = tweet.author_id if tweet.inbound else own_id
            hook = x.mention_webhook(account_id, config, tweet_id=tweet.tweet_id,
                                     user_id=author, screen_name=tweet.author_id,
                                     text=tweet.text, in_reply_to=tweet.in_reply_to,
                                     created_at=tweet.created_at)
            try:
                answer = http.request(hook.method, hook.path, content=hook.body,
                                      headers=hook.headers)
            except httpx.HTTPError as exc:
                log.warning("replay webhook failed: %s", type(exc).__name__)
                continue
            if answer.status_code < 300:
                sent += 1
            else:
                log.warning("replay webhook answered %s", answer.status_code)
    return sent
