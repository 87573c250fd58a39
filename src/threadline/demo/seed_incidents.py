"""Demo data for incidents (docs/incidents.md): settings under which the demo's own repeats
group (its traffic replays the same four customers round after round, so within three minutes
the inbox holds the same public posts again and again: one customer's repeats count), and, a
few seconds after start, an outage told by twelve invented customers on X and Facebook that
becomes a suggested incident card in the inbox."""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from typing import Any

import httpx

from threadline.conversations.service import SYSTEM
from threadline.incidents.samples import outage_posts
from threadline.incidents.settings import IncidentSettings, set_incident_settings
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import meta, x

log = logging.getLogger("threadline.demo")
DEMO_SETTINGS = IncidentSettings(min_posts=4, min_authors=1, window_minutes=15)
OUTAGE_POSTS = 12


def _outage(base_url: str, accounts: dict[str, tuple[str, dict[str, Any]]],
            delay: float) -> None:
    time.sleep(delay)
    seq = itertools.count(int(time.time() * 1000))
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=15) as http:
        for n, text in enumerate(outage_posts(OUTAGE_POSTS, seed=2026, brand="@acme_help")):
            i = next(seq)
            if n % 3 == 2:
                acc, cfg = accounts["facebook"]
                hook = meta.page_comment_webhook(acc, cfg, text=text.replace("@acme_help ", ""),
                                                 from_id=f"93{n:05d}", from_name=f"Fan {n + 1}")
            else:
                acc, cfg = accounts["x"]
                hook = x.mention_webhook(acc, cfg, tweet_id=str(i), user_id=f"73{n:05d}",
                                         screen_name=f"outage_fan{n + 1}", text=text)
            try:
                http.request(hook.method, hook.path, content=hook.body, headers=hook.headers)
            except httpx.HTTPError as exc:
                log.warning("demo incident webhook failed: %s", type(exc).__name__)
            time.sleep(0.5)


def seed_incidents(runtime: Runtime, workspace_id: uuid.UUID, base_url: str,
                   accounts: dict[str, tuple[str, dict[str, Any]]], delay: float = 8.0) -> None:
    with runtime.db.session() as session:
        set_incident_settings(session, workspace_id, DEMO_SETTINGS, SYSTEM)
    threading.Thread(target=_outage, args=(base_url, accounts, delay), daemon=True,
                     name="demo-incident").start()
