"""A hostile sender cannot delay other customers (issue 10, finding 2): while a flood of the
worst messages we know goes through the real Telegram webhook into Threadline under uvicorn
(embedded worker), an ordinary SMS reaches the REST API within a second."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import E2E, wait_for
from threadline.bench.hostile import cases, mixed_text
from threadline.sandbox.providers import telegram as stg
from threadline.sandbox.providers import twilio as stw

FLOOD = ("emoji_10000", "emoji_mixed_10000", "email_local_part", "emails", "sarcasm_prefix",
         "phones_international", "passwords", "ssns", "security_codes", "birth_dates")
ROUNDS = 2  # every worst case twice, plus mixed text, per round
TELEGRAM_MAX_CHARS = 100_000  # what the Telegram payload model accepts
# Before the fix the ordinary message waited behind minutes of quadratic work (10,000 emoji
# took about 64 s each); since, it arrives in about 0.5 s. The bound keeps that difference
# with room for a CI machine running two test processes and Chromium on two cores (it was
# 1 s, and once missed there); the speed itself is `threadline bench hostile`'s to measure.
BOUND_SECONDS = 3.0


@pytest.fixture
def e2e(live_server: Any, sandbox: Any, token: str) -> Iterator[E2E]:
    harness = E2E(live_server, sandbox, token)
    yield harness
    harness.close()


class Flood(threading.Thread):
    """One Telegram user posting the worst cases back to back through the signed webhook."""

    def __init__(self, e2e: E2E, account: str, config: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.e2e, self.account, self.config = e2e, account, config
        self.chat = random.randrange(10**8, 10**9)
        worst = cases()
        self.texts = [t[:TELEGRAM_MAX_CHARS] for _ in range(ROUNDS)
                      for t in (*(worst[n] for n in FLOOD), mixed_text(256 * 1024))]
        self.acknowledged = 0
        self.statuses: list[int] = []

    def run(self) -> None:
        for n, text in enumerate(self.texts):
            hook = stg.telegram_message_webhook(self.account, self.config, chat_id=self.chat,
                                                user_id=self.chat, text=text,
                                                message_id=10_000 + n)
            self.statuses.append(self.e2e.post(hook).status_code)
            self.acknowledged += 1


def test_an_ordinary_message_is_not_delayed_by_a_flood_of_worst_case_messages(e2e: E2E) -> None:
    telegram = {"bot_token": "123456:ABC-sandbox_token", "secret_token": "sandbox_secret-1",
                "api_base_url": e2e.sandbox_url("/telegram")}
    sms = {"account_sid": "AC" + "1" * 32, "auth_token": "sandbox-token",
           "from_number": "+15559870000", "api_base_url": e2e.sandbox_url("/twilio")}
    flood_account = e2e.account("telegram", telegram)
    sms_account = e2e.account("sms", sms)
    flood = Flood(e2e, flood_account, telegram)
    flood.start()
    wait_for(lambda: flood.acknowledged >= 1, timeout=30, what="the flood to be under way")

    sid = f"SM{random.randrange(16**32):032x}"
    hook = stw.sms_webhook(sms_account, sms, "+14155550100", f"Where is my bag? {e2e.tag}",
                           message_sid=sid, base_url=e2e.server.url)
    started = time.monotonic()
    assert e2e.post(hook).status_code == 200

    def arrived() -> bool:
        for item in e2e.conversations(channel="sms"):
            if any(m["provider_id"] == sid for m in e2e.conversation(item["id"])["messages"]):
                return True
        return False

    wait_for(arrived, timeout=30, what="the ordinary SMS")
    elapsed = time.monotonic() - started
    still_flooding = flood.is_alive()
    flood.join(timeout=120)
    assert set(flood.statuses) == {200}
    assert still_flooding or flood.acknowledged == len(flood.texts)
    print(f"ordinary message visible after {elapsed:.3f} s")
    assert elapsed <= BOUND_SECONDS, f"the ordinary message took {elapsed:.2f} s"

    # The flood itself was processed too (nothing dropped, nothing dead-lettered).
    def flooded() -> bool:
        items = e2e.conversations(channel="telegram")
        return bool(items) and len(e2e.conversation(items[0]["id"])["messages"]) == len(
            flood.texts)

    wait_for(flooded, timeout=60, what="the flood's messages")
