"""SMS, Voice and Telegram end to end through real HTTP."""

from __future__ import annotations

import random
import time
from typing import Any

from tests.e2e.conftest import E2E, wait_for
from threadline.sandbox.providers import telegram as stg
from threadline.sandbox.providers import twilio as stw

ACCOUNT_SID = "AC" + "1" * 32
OUR_NUMBER = "+15559870000"
BOT_TOKEN = "123456:ABC-sandbox_token"


def twilio_config(e2e: E2E) -> dict[str, Any]:
    return {"account_sid": ACCOUNT_SID, "auth_token": "sandbox-token",
            "from_number": OUR_NUMBER, "api_base_url": e2e.sandbox_url("/twilio")}


def phone() -> str:
    return f"+1415{random.randrange(10**7):07d}"


class TestSms:
    def test_inbound_sms_reply_and_status_callback(self, e2e: E2E) -> None:
        config = twilio_config(e2e)
        account = e2e.account("sms", config)
        customer, sid = phone(), f"SM{random.randrange(16**32):032x}"
        hook = stw.sms_webhook(account, config, customer, f"Where is my order? {e2e.tag}",
                               message_sid=sid, base_url=e2e.server.url)
        answer = e2e.post(hook)
        assert answer.status_code == 200 and b"<Response" in answer.content
        conv, message = e2e.wait_message(sid)
        assert message["visibility"] == "private"
        reply = e2e.sent(conv["id"], f"On its way {e2e.tag}", visibility="private")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("twilio", method="POST", path_contains="/Messages.json",
                           text=e2e.tag)
        assert call["form"]["To"] == customer and call["form"]["From"] == OUR_NUMBER
        assert call["form"]["Body"] == f"On its way {e2e.tag}"
        status = stw.sms_status_webhook(account, config, sent["provider_id"], "delivered",
                                        to_number=customer, base_url=e2e.server.url)
        assert e2e.post(status).status_code == 200
        e2e.wait_delivery(conv["id"], reply["id"], ("delivered",))

    def test_signature_over_another_url_or_missing_is_refused(self, e2e: E2E) -> None:
        config = twilio_config(e2e)
        account = e2e.account("sms", config)
        hook = stw.sms_webhook(account, config, phone(), "hi",
                               base_url="http://elsewhere.example")
        assert e2e.post(hook).status_code in (401, 403)
        unsigned = {"content-type": "application/x-www-form-urlencoded"}
        assert e2e.post(hook, headers=unsigned).status_code in (401, 403)
        time.sleep(0.3)
        assert e2e.conversations() == []

    def test_replayed_sms_is_one_message(self, e2e: E2E) -> None:
        config = twilio_config(e2e)
        account = e2e.account("sms", config)
        sid = f"SM{random.randrange(16**32):032x}"
        hook = stw.sms_webhook(account, config, phone(), "twice", message_sid=sid,
                               base_url=e2e.server.url)
        assert [e2e.post(hook).status_code for _ in range(3)] == [200, 200, 200]
        conv, _ = e2e.wait_message(sid)
        assert [m["provider_id"] for m in conv["messages"]] == [sid]


class TestVoice:
    def test_inbound_call_becomes_a_call_record_with_its_outcome(self, e2e: E2E) -> None:
        config = twilio_config(e2e)
        account = e2e.account("voice", config)
        caller, sid = phone(), f"CA{random.randrange(16**32):032x}"
        ringing = e2e.post(stw.call_webhook(account, config, caller, call_sid=sid,
                                            base_url=e2e.server.url))
        assert ringing.status_code == 200 and b"<Response>" in ringing.content
        conv, record = e2e.wait_message(sid)
        assert record["kind"] == "call" and record["direction"] == "inbound"
        e2e.post(stw.call_webhook(account, config, caller, call_sid=sid, status="completed",
                                  duration=125, base_url=e2e.server.url))

        def completed() -> dict[str, Any] | None:
            m = e2e.message(conv["id"], record["id"])
            return m if m["edited_at"] and "completed" in m["text"] else None
        final = wait_for(completed, what="call outcome")
        assert "2 min" in final["text"]
        traits = e2e.api.get(f"/channel-accounts/{account}/traits").json()
        assert traits["private"] is True and traits["public"] is False
        refused = e2e.reply(conv["id"], "hello", visibility="private")
        assert refused.status_code == 422
        assert refused.json()["error"]["details"]["allowed"] == ["call"]

    def test_bad_signature_is_refused(self, e2e: E2E) -> None:
        config = twilio_config(e2e)
        account = e2e.account("voice", config)
        hook = stw.call_webhook(account, {**config, "auth_token": "wrong"}, phone(),
                                base_url=e2e.server.url)
        assert e2e.post(hook).status_code in (401, 403)


class TestTelegram:
    def config(self, e2e: E2E) -> dict[str, Any]:
        return {"bot_token": BOT_TOKEN, "secret_token": "sandbox_secret-1",
                "api_base_url": e2e.sandbox_url("/telegram")}

    def test_private_message_reply_and_edit(self, e2e: E2E) -> None:
        config = self.config(e2e)
        account = e2e.account("telegram", config)
        chat = random.randrange(10**8, 10**9)
        message_id = random.randrange(1000, 10**6)
        e2e.post(stg.telegram_message_webhook(account, config, chat_id=chat, user_id=chat,
                                              text=f"hello bot {e2e.tag}",
                                              message_id=message_id))
        conv, message = e2e.wait_message(f"{chat}:{message_id}")
        assert message["visibility"] == "private"
        reply = e2e.sent(conv["id"], f"Hello! {e2e.tag}", visibility="private")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("telegram", method="POST", path_contains="/sendMessage",
                           text=e2e.tag)
        assert call["json"]["chat_id"] in (chat, str(chat))
        assert sent["provider_id"].startswith(f"{chat}:")

        e2e.post(stg.telegram_edited_message_webhook(account, config, chat_id=chat,
                                                     user_id=chat, message_id=message_id,
                                                     text="hello bot, edited"))

        def edited() -> dict[str, Any] | None:
            m = e2e.message(conv["id"], message["id"])
            return m if m["text"] == "hello bot, edited" and m["edited_at"] else None
        wait_for(edited, what="edited telegram message")

    def test_wrong_secret_token_is_refused(self, e2e: E2E) -> None:
        config = self.config(e2e)
        account = e2e.account("telegram", config)
        hook = stg.telegram_message_webhook(account, {**config, "secret_token": "nope"},
                                            chat_id=5, user_id=5, text="hi")
        assert e2e.post(hook).status_code in (401, 403)
        assert e2e.post(hook, headers={"content-type": "application/json"}).status_code in (
            401, 403)
