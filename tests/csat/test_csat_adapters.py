"""Choices on the wire, against the provider sandbox over real HTTP: Messenger quick replies,
WhatsApp reply buttons and lists, Telegram inline keyboards and the callback's answer; what a
channel cannot show is refused by the adapter's own check before anything leaves, and the
sandbox refuses what the providers refuse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from threadline.channels.base import (
    AccountConfig,
    ChannelAction,
    OutboundMessage,
    SendContext,
    SendPolicyError,
    Visibility,
)
from threadline.channels.registry import get_adapter
from threadline.channels.urls import UrlPolicy
from threadline.csat import rules

NOW = datetime.now(UTC)
OPEN = SendContext(now=NOW, last_inbound_at=NOW)
LOOSE = UrlPolicy(allow_custom=True)


def account(kind: str, sandbox: Any, **config: Any) -> AccountConfig:
    prefix = "/telegram" if kind == "telegram" else "/meta"
    base = {"app_secret": "s", "access_token": "EAAG-token", "page_id": "1234567890",
            "phone_number_id": "106540352242922", "bot_token": "123456:sandbox-token",
            "secret_token": "t", "api_base_url": sandbox.url + prefix}
    return AccountConfig(id=str(uuid.uuid4()), kind=kind, name=kind, config={**base, **config},
                         urls=LOOSE)


def message(choices: list[dict[str, str]], *, recipient: str = "6001002003",
            **options: Any) -> OutboundMessage:
    return OutboundMessage(message_id=str(uuid.uuid4()), visibility=Visibility.PRIVATE,
                           text="How did we do?", recipient=recipient,
                           thread_key=f"tg:{recipient}",
                           options={"choices": choices, **options})


@pytest.fixture
def http() -> Any:
    with httpx.Client(timeout=10) as client:
        yield client


def last_call(sandbox: Any, provider: str) -> dict[str, Any]:
    calls: list[dict[str, Any]] = httpx.get(f"{sandbox.url}/_sandbox/calls",
                                            params={"provider": provider}).json()["calls"]
    return calls[-1]


class TestMessenger:
    def test_quick_replies_are_sent_and_accepted(self, sandbox: Any, http: Any) -> None:
        acct = account("facebook", sandbox)
        adapter = get_adapter("facebook")
        out = message(rules.scale_choices(uuid.uuid4()))
        adapter.check_send(acct, out, OPEN)
        result = adapter.send(acct, out, http)
        assert result.provider_id.startswith("m_sbx")
        sent = last_call(sandbox, "meta")["json"]["message"]
        assert sent["text"] == "How did we do?" and len(sent["quick_replies"]) == 5

    def test_too_many_or_too_long_choices_are_refused(self, sandbox: Any) -> None:
        acct, adapter = account("instagram", sandbox), get_adapter("instagram")
        many = [{"id": f"c{n}", "title": f"{n}"} for n in range(13)]
        with pytest.raises(SendPolicyError):  # 13 is the most choices_of takes at all
            adapter.check_send(acct, message([*many, {"id": "x", "title": "x"}]), OPEN)
        with pytest.raises(SendPolicyError) as long:
            adapter.check_send(acct, message([{"id": "a", "title": "x" * 21}]), OPEN)
        assert long.value.code == "choice_title_too_long"

    def test_the_sandbox_refuses_what_graph_refuses(self, sandbox: Any) -> None:
        url = f"{sandbox.url}/meta/v25.0/1234567890/messages"
        headers = {"authorization": "Bearer t"}
        for replies in ([], [{"content_type": "text", "title": "x" * 21, "payload": "p"}],
                        [{"content_type": "text", "title": "ok"}],
                        [{"content_type": "text", "title": "t", "payload": "p"}] * 14):
            answer = httpx.post(url, headers=headers, json={
                "recipient": {"id": "1"}, "messaging_type": "RESPONSE",
                "message": {"text": "q", "quick_replies": replies}})
            assert answer.status_code == 400
            assert answer.json()["error"]["code"] == 100


class TestWhatsApp:
    def test_buttons_and_lists(self, sandbox: Any, http: Any) -> None:
        acct, adapter = account("whatsapp", sandbox), get_adapter("whatsapp")
        survey = uuid.uuid4()
        buttons = message(rules.whatsapp_choices(survey, "buttons"), recipient="+16505551234")
        adapter.check_send(acct, buttons, OPEN)
        adapter.send(acct, buttons, http)
        body = last_call(sandbox, "meta")["json"]
        assert body["type"] == "interactive" and body["to"] == "16505551234"
        assert [b["reply"]["id"] for b in body["interactive"]["action"]["buttons"]] == [
            rules.choice_id(survey, 5), rules.choice_id(survey, 3), rules.choice_id(survey, 1)]
        listed = message(rules.whatsapp_choices(survey, "list"), recipient="+16505551234",
                         choices_style="list", choices_button="Choose a rating")
        adapter.check_send(acct, listed, OPEN)
        adapter.send(acct, listed, http)
        body = last_call(sandbox, "meta")["json"]
        assert body["interactive"]["type"] == "list"
        assert len(body["interactive"]["action"]["sections"][0]["rows"]) == 5

    def test_four_buttons_or_eleven_rows_are_refused(self, sandbox: Any) -> None:
        acct, adapter = account("whatsapp", sandbox), get_adapter("whatsapp")
        four = [{"id": f"b{n}", "title": f"B{n}"} for n in range(4)]
        with pytest.raises(SendPolicyError) as refused:
            adapter.check_send(acct, message(four), OPEN)
        assert refused.value.code == "too_many_choices"
        eleven = [{"id": f"r{n}", "title": f"R{n}"} for n in range(11)]
        with pytest.raises(SendPolicyError):
            adapter.check_send(acct, message(eleven, choices_style="list"), OPEN)
        with pytest.raises(SendPolicyError) as closed:
            adapter.check_send(acct, message(four[:3]), SendContext(now=NOW))
        assert closed.value.code == "window_closed"
        url = f"{sandbox.url}/meta/v25.0/106540352242922/messages"
        for interactive in (
                {"type": "button", "body": {"text": "q"}, "action": {"buttons": [
                    {"type": "reply", "reply": {"id": f"{n}", "title": "t"}}
                    for n in range(4)]}},
                {"type": "button", "body": {"text": "q"}, "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "same", "title": "t"}}] * 2}},
                {"type": "list", "body": {"text": "q"}, "action": {"button": "b", "sections": [
                    {"rows": [{"id": f"{n}", "title": "t"} for n in range(11)]}]}},
                {"type": "button", "body": {"text": "x" * 1025}, "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "1", "title": "t"}}]}}):
            answer = httpx.post(url, headers={"authorization": "Bearer t"}, json={
                "messaging_product": "whatsapp", "to": "1", "type": "interactive",
                "interactive": interactive})
            assert answer.status_code == 400, interactive
            assert answer.json()["error"]["code"] == 131009


class TestTelegram:
    def test_an_inline_keyboard_and_the_callback_answer(self, sandbox: Any, http: Any) -> None:
        acct, adapter = account("telegram", sandbox), get_adapter("telegram")
        survey = uuid.uuid4()
        out = message(rules.scale_choices(survey), recipient="700100200")
        adapter.check_send(acct, out, OPEN)
        assert adapter.send(acct, out, http).provider_id.startswith("700100200:")
        body = last_call(sandbox, "telegram")["json"]
        assert body["reply_markup"]["inline_keyboard"][2] == [
            {"text": "3 \u2013 OK", "callback_data": rules.choice_id(survey, 3)}]
        adapter.act(acct, ChannelAction("answer_callback", target="cq-1",
                                        params={"text": "Thank you!"}), http)
        assert last_call(sandbox, "telegram")["json"] == {"callback_query_id": "cq-1",
                                                          "text": "Thank you!"}

    def test_the_sandbox_refuses_bad_keyboards_and_answers(self, sandbox: Any) -> None:
        base = f"{sandbox.url}/telegram/bot123456:sandbox-token"
        for markup in ({"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]},
                       {"inline_keyboard": [[{"text": "x"}]]},
                       {"inline_keyboard": "nope"}):
            answer = httpx.post(f"{base}/sendMessage", json={
                "chat_id": 1, "text": "q", "reply_markup": markup})
            assert answer.status_code == 400 and answer.json()["ok"] is False
        assert httpx.post(f"{base}/answerCallbackQuery", json={}).status_code == 400
        assert httpx.post(f"{base}/answerCallbackQuery", json={
            "callback_query_id": "q", "text": "x" * 201}).status_code == 400
