"""Plays customers: posts correctly signed provider webhooks into Threadline over HTTP."""

from __future__ import annotations

import itertools
import json
import logging
import random
import threading
import time
from importlib import resources
from typing import Any

import httpx

from threadline.sandbox.core import SignedWebhook
from threadline.sandbox.providers import meta, telegram, twilio, x

log = logging.getLogger("threadline.demo")


def load_script() -> dict[str, Any]:
    text = resources.files("threadline.demo").joinpath("conversations.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


class Traffic:
    """Sends the shipped scenarios round after round, with fresh provider ids each time."""

    def __init__(self, base_url: str, accounts: dict[str, tuple[str, dict[str, Any]]],
                 *, pause: float = 4.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.accounts = accounts
        self.pause = pause
        self.script = load_script()
        self.customers = {c["key"]: c for c in self.script["customers"]}
        self.seq = itertools.count(int(time.time()))
        self.stop = threading.Event()

    def webhook(self, step: dict[str, Any]) -> SignedWebhook:
        c = self.customers[step["customer"]]
        n = next(self.seq)
        channel = step["channel"]
        if channel == "x_mention":
            acc, cfg = self.accounts["x"]
            return x.mention_webhook(acc, cfg, tweet_id=str(n), user_id=c["x_id"],
                                     screen_name=c["x_handle"], text=step["text"],
                                     name=c["name"])
        if channel == "x_dm":
            acc, cfg = self.accounts["x"]
            return x.dm_webhook(acc, cfg, event_id=str(n), sender_id=c["x_id"],
                                screen_name=c["x_handle"], text=step["text"], name=c["name"])
        if channel == "facebook_comment":
            acc, cfg = self.accounts["facebook"]
            return meta.page_comment_webhook(acc, cfg, text=step["text"], from_id=c["psid"],
                                             from_name=c["name"])
        if channel == "messenger":
            acc, cfg = self.accounts["facebook"]
            return meta.messenger_message_webhook(acc, cfg, text=step["text"], psid=c["psid"])
        if channel == "whatsapp":
            acc, cfg = self.accounts["whatsapp"]
            return meta.whatsapp_message_webhook(acc, cfg, text=step["text"],
                                                 wa_id=c["phone"].lstrip("+"), name=c["name"])
        if channel == "sms":
            acc, cfg = self.accounts["sms"]
            return twilio.sms_webhook(acc, cfg, from_number=c["phone"], body=step["text"],
                                      base_url=self.base_url)
        if channel == "telegram":
            acc, cfg = self.accounts["telegram"]
            return telegram.telegram_message_webhook(acc, cfg, chat_id=c["tg_id"],
                                                     user_id=c["tg_id"], text=step["text"],
                                                     first_name=c["name"].split()[0])
        if channel == "phone_call":  # rings the desktops: the caller's social history shows
            acc, cfg = self.accounts["voice"]
            return twilio.call_webhook(acc, cfg, from_number=c["phone"], call_sid=f"CA{n:032x}",
                                       base_url=self.base_url)
        raise ValueError(f"unknown demo channel {channel!r}")

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=15) as http:
            for _round in itertools.count():
                for scenario in self.script["scenarios"]:
                    for step in scenario:
                        if self.stop.wait(self.pause * random.uniform(0.5, 1.5)):
                            return
                        hook = self.webhook(step)
                        try:
                            resp = http.request(hook.method, hook.path, content=hook.body,
                                                headers=hook.headers)
                            if resp.status_code >= 400:
                                log.warning("demo webhook %s answered %s", hook.path,
                                            resp.status_code)
                        except httpx.HTTPError as exc:
                            log.warning("demo webhook failed: %s", type(exc).__name__)
