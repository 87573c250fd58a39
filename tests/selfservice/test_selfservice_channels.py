"""The bot on Messenger, WhatsApp and Telegram, end to end through real HTTP and the provider
sandbox: off by default (nothing is sent), on when the workspace switches the account on; its
answer leaves through the outbox with "Yes, thanks" / "Talk to a person" as quick replies,
reply buttons or an inline keyboard; a tap on "Talk to a person" hands over; a forged payload
is only text; a public comment is never answered."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.csat.conftest import PAGE_ID, PHONE_ID, Csat, some_id, wait_for
from tests.selfservice.conftest import bot_session, make_kb
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import telegram as st
from threadline.selfservice.models import BotState, Reason

QUESTION = "hello, where is my order"


@pytest.fixture
def harness(live_server: Any, sandbox: Any, token: str, runtime: Runtime,
            workspace_id: uuid.UUID) -> Iterator[Csat]:
    make_kb(runtime, workspace_id)
    h = Csat(live_server, sandbox, token, runtime, workspace_id)
    yield h
    h.close()


def switch(h: Csat, account: str | None, on: bool = True) -> None:
    body: dict[str, Any] = {"enabled": True}
    if account:
        body["accounts"] = {account: on}
    answer = h.api.put("/selfservice/settings", json=body)
    assert answer.status_code == 200, answer.text


def settled(h: Csat, conv_id: str) -> Any:
    return wait_for(lambda: bot_session(h.runtime, conv_id), what="the bot's decision")


class TestMessenger:
    def test_off_by_default_nothing_is_sent(self, harness: Csat) -> None:
        switch(harness, None)  # the bot on, this account not switched on
        config = harness.meta_config(page_id=PAGE_ID)
        account = harness.account("facebook", config)
        psid, mid = some_id(), f"m_{some_id()}"
        harness.post(sm.messenger_message_webhook(account, config, text=QUESTION, psid=psid,
                                                  mid=mid))
        conv, _ = harness.wait_message(mid)
        time.sleep(1.0)  # the worker has had its chance
        assert bot_session(harness.runtime, conv["id"]) is None
        assert not harness.calls("meta", method="POST", text=psid)
        assert harness.conversation(conv["id"])["status"] == "open"

    def test_switched_on_answers_with_quick_replies_and_a_tap_hands_over(
            self, harness: Csat) -> None:
        config = harness.meta_config(page_id=PAGE_ID)
        account = harness.account("facebook", config)
        switch(harness, account)
        psid, mid = some_id(), f"m_{some_id()}"
        harness.post(sm.messenger_message_webhook(account, config, text=QUESTION, psid=psid,
                                                  mid=mid))
        conv, _ = harness.wait_message(mid)
        [call] = wait_for(lambda: [c for c in harness.calls("meta", method="POST", text=psid)
                                   if "quick_replies" in c["body"]], what="the bot's answer")
        message = call["json"]["message"]
        assert message["text"].startswith("Tracking your order")
        replies = message["quick_replies"]
        assert [r["title"] for r in replies] == ["Yes, thanks", "Talk to a person"]
        assert harness.conversation(conv["id"])["status"] == "snoozed"
        harness.post(sm.messenger_quick_reply_webhook(
            account, config, payload=replies[1]["payload"], title="Talk to a person",
            psid=psid))

        def handed() -> Any:
            row = bot_session(harness.runtime, conv["id"])
            return row if row is not None and row.state == BotState.HANDED_OVER else None

        row = wait_for(handed, what="the handover")
        assert row.reason == Reason.ASKED
        assert harness.conversation(conv["id"])["status"] == "open"

    def test_a_forged_payload_is_only_its_text(self, harness: Csat) -> None:
        config = harness.meta_config(page_id=PAGE_ID)
        account = harness.account("facebook", config)
        switch(harness, account)
        psid, mid = some_id(), f"m_{some_id()}"
        harness.post(sm.messenger_message_webhook(account, config, text=QUESTION, psid=psid,
                                                  mid=mid))
        conv, _ = harness.wait_message(mid)
        wait_for(lambda: [c for c in harness.calls("meta", method="POST", text=psid)
                          if "quick_replies" in c["body"]], what="the bot's answer")
        # "yes" naming a reply that is not this conversation's (another workspace's id)
        forged = f"selfservice:yes:{uuid.uuid4().hex}"
        harness.post(sm.messenger_quick_reply_webhook(account, config, payload=forged,
                                                      title="ok", psid=psid))
        wait_for(lambda: harness.audits("selfservice.tap_refused"), what="the tap refused")
        row = settled(harness, conv["id"])
        wait_for(lambda: bot_session(harness.runtime, conv["id"]).state  # type: ignore
                 != BotState.BOT, what="the decision on the forged tap")
        row = bot_session(harness.runtime, conv["id"])
        # its text "ok" is a confirmation in words: believed as words, not as the tap
        assert row is not None and row.state == BotState.DEFLECTED
        malformed = "selfservice:person:../../etc"
        harness.post(sm.messenger_quick_reply_webhook(account, config, payload=malformed,
                                                      title="menu", psid=psid))
        time.sleep(0.5)
        assert len(harness.audits("selfservice.tap_refused")) == 1

    def test_a_public_comment_is_never_answered(self, harness: Csat) -> None:
        config = harness.meta_config(page_id=PAGE_ID)
        account = harness.account("facebook", config)
        switch(harness, account)
        comment_id = f"{PAGE_ID}_{some_id()}"
        harness.post(sm.page_comment_webhook(account, config, text=QUESTION,
                                             comment_id=comment_id))
        conv, _ = harness.wait_message(comment_id)
        time.sleep(1.0)
        assert bot_session(harness.runtime, conv["id"]) is None
        assert not harness.calls("meta", method="POST", path_contains=comment_id)


class TestWhatsApp:
    def test_switched_on_answers_with_reply_buttons(self, harness: Csat) -> None:
        config = harness.meta_config(phone_number_id=PHONE_ID)
        account = harness.account("whatsapp", config)
        switch(harness, account)
        wa_id, wamid = "1650557" + some_id(4), f"wamid.IN{some_id()}"
        harness.post(sm.whatsapp_message_webhook(account, config, text=QUESTION, wa_id=wa_id,
                                                 wamid=wamid))
        conv, _ = harness.wait_message(wamid)
        [call] = wait_for(lambda: [c for c in harness.calls("meta", method="POST", text=wa_id)
                                   if '"interactive"' in c["body"]], what="the buttons")
        buttons = call["json"]["interactive"]["action"]["buttons"]
        assert [b["reply"]["title"] for b in buttons] == ["Yes, thanks", "Talk to a person"]
        assert call["json"]["interactive"]["body"]["text"].startswith("Tracking your order")
        answer = next(m for m in harness.conversation(conv["id"])["messages"]
                      if m["direction"] == "outbound")
        sent = wait_for(lambda: harness.message(conv["id"], answer["id"])
                        if harness.message(conv["id"], answer["id"]).get("provider_id")
                        else None, what="the answer's provider id")
        harness.post(sm.whatsapp_interactive_reply_webhook(
            account, config, reply_id=buttons[0]["reply"]["id"], title="Yes, thanks",
            context_id=sent["provider_id"], wa_id=wa_id))
        wait_for(lambda: bot_session(harness.runtime, conv["id"]).state  # type: ignore
                 == BotState.DEFLECTED, what="the confirmation")
        assert harness.conversation(conv["id"])["status"] == "resolved"


class TestTelegram:
    def test_off_then_on(self, harness: Csat) -> None:
        config = {"bot_token": "123456:sandbox-token", "secret_token": "tg-secret",
                  "api_base_url": harness.sandbox_url("/telegram")}
        account = harness.account("telegram", config)
        switch(harness, account, on=False)
        user = int(some_id(9))
        harness.post(st.telegram_message_webhook(account, config, chat_id=user, user_id=user,
                                                 text=QUESTION))
        conv = wait_for(lambda: next(iter(harness.conversations()), None), what="conv")
        time.sleep(1.0)
        assert bot_session(harness.runtime, conv["id"]) is None
        assert not harness.calls("telegram", text=str(user))

        switch(harness, account, on=True)
        other = int(some_id(9))
        harness.post(st.telegram_message_webhook(account, config, chat_id=other,
                                                 user_id=other, text=QUESTION))
        [call] = wait_for(lambda: [c for c in harness.calls("telegram", text=str(other))
                                   if "inline_keyboard" in c["body"]], what="the keyboard")
        rows = call["json"]["reply_markup"]["inline_keyboard"]
        assert [b["text"] for row in rows for b in row] == ["Yes, thanks", "Talk to a person"]
        assert call["json"]["text"].startswith("Tracking your order")
