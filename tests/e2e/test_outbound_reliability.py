"""Outbound reliability through real HTTP: 429 retried after Retry-After, 5xx retried with
backoff, other 4xx failed with the provider's reason visible through the API."""

from __future__ import annotations

import itertools
import random
from typing import Any

from tests.e2e.conftest import E2E
from tests.e2e.test_meta import PHONE_ID, meta_config, some_id
from tests.e2e.test_x import tweet_id, x_config
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import telegram as stg
from threadline.sandbox.providers import x as sx


def x_conversation(e2e: E2E) -> str:
    config = x_config(e2e)
    account = e2e.account("x", config)
    tid = tweet_id()
    e2e.post(sx.mention_webhook(account, config, tid, "77", "amy", f"@acme help {e2e.tag}"))
    conv, _ = e2e.wait_message(tid)
    conv_id: str = conv["id"]
    return conv_id


class TestRetries:
    def test_429_is_retried_after_retry_after(self, e2e: E2E) -> None:
        conv_id = x_conversation(e2e)
        e2e.fault("x", "/2/tweets", 429, retry_after=1)
        reply = e2e.sent(conv_id, f"Looking into it {e2e.tag}")
        sent = e2e.wait_delivery(conv_id, reply["id"])
        calls = e2e.calls("x", method="POST", path_contains="/2/tweets", text="Looking into")
        calls = [c for c in calls if e2e.tag in c["body"]]
        assert len(calls) == 2
        assert calls[1]["at"] - calls[0]["at"] >= 0.95  # waited for Retry-After: 1
        assert sent["meta"]["send"]["attempt"] == 2

    def test_5xx_is_retried_with_backoff(self, e2e: E2E) -> None:
        config = {"bot_token": "123456:ABC-sandbox_token", "secret_token": "s3cret",
                  "api_base_url": e2e.sandbox_url("/telegram")}
        account = e2e.account("telegram", config)
        chat = random.randrange(10**8, 10**9)
        mid = random.randrange(1000, 10**6)
        e2e.post(stg.telegram_message_webhook(account, config, chat_id=chat, user_id=chat,
                                              text="hi", message_id=mid))
        conv, _ = e2e.wait_message(f"{chat}:{mid}")
        e2e.fault("telegram", "/sendMessage", 502, count=2)
        reply = e2e.sent(conv["id"], f"Back soon {e2e.tag}", visibility="private")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        calls = e2e.calls("telegram", method="POST", path_contains="/sendMessage",
                          text=e2e.tag)
        assert len(calls) == 3 and sent["meta"]["send"]["attempt"] == 3
        gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(calls)]
        assert gaps[0] >= 0.05 and gaps[1] >= 0.1  # retry_base_seconds 0.05, doubled

    def test_other_4xx_fails_with_the_providers_reason(self, e2e: E2E) -> None:
        config = meta_config(e2e, phone_number_id=PHONE_ID)
        account = e2e.account("whatsapp", config)
        wamid = f"wamid.IN{some_id()}"
        e2e.post(sm.whatsapp_message_webhook(account, config, text="hello",
                                             wa_id=f"1650{random.randrange(10**7)}",
                                             wamid=wamid))
        conv, _ = e2e.wait_message(wamid)
        body: dict[str, Any] = {"error": {
            "message": "(#131047) Re-engagement message", "type": "OAuthException",
            "code": 131047, "error_data": {"details": "More than 24 hours have passed"}}}
        e2e.fault("meta", f"/{PHONE_ID}/messages", 400, body=body)
        reply = e2e.sent(conv["id"], f"Update {e2e.tag}", visibility="private")
        failed = e2e.wait_delivery(conv["id"], reply["id"], ("failed",))
        assert "Re-engagement message" in failed["delivery_error"]
        assert failed["meta"]["send"]["last_code"] == "graph_131047"
        assert len(e2e.calls("meta", path_contains=f"/{PHONE_ID}/messages",
                             text=e2e.tag)) == 1  # never retried
