"""Quick replies and buttons from the desktop composer (issue 15): one per line, on the
channels that have them (Messenger quick replies, WhatsApp reply buttons, Telegram inline
keyboard), sent through the sandbox in the provider's shape, refused with a typed 422 that
names the channel's limit, and the customer's tap comes back in as his message."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

import httpx

from tests.desktop.conftest import desk_for
from tests.factories import text_tag
from threadline.sandbox.providers import meta
from threadline.sandbox.providers import telegram as tg
from threadline.workspace.service import create_channel_account


def _account(runtime, workspace_id, sandbox, kind: str) -> tuple[Any, dict[str, Any]]:
    if kind == "telegram":
        config: dict[str, Any] = {"bot_token": f"{secrets.randbelow(10**9)}:sandbox-token",
                                  "secret_token": "tg-secret",
                                  "api_base_url": f"{sandbox.url}/telegram"}
    else:
        config = {"app_secret": secrets.token_hex(8), "verify_token": "vt",
                  "access_token": f"EAAG-{secrets.token_hex(4)}",
                  "page_id": str(3_300_000 + secrets.randbelow(10**6)),
                  "api_base_url": f"{sandbox.url}/meta"}
        if kind == "whatsapp":
            config.update(phone_number_id=str(secrets.randbelow(10**12)),
                          waba_id="102290129340398")
    if kind == "x":
        config = {"api_base_url": f"{sandbox.url}/x", "consumer_secret": "cs"}
    with runtime.db.session() as s:
        return create_channel_account(s, workspace_id, kind=kind, name=kind,
                                      config=config), config


def _post(client, hook) -> None:
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200


def _conversation(client, worker) -> str:
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    return str(conv["id"])


def _messages(client, conv: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(f"/api/v1/conversations/{conv}").json()[
        "messages"]
    return found


def _calls(sandbox, provider: str, marker: str) -> list[dict[str, Any]]:
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": provider}).json()
    return [c for c in calls["calls"] if c["method"] == "POST" and marker in json.dumps(c)]


def _form(account) -> dict[str, str]:
    return {"kind": "message", "visibility": "private", "account_id": str(account.id)}


class TestMessenger:
    def test_quick_replies_go_out_and_the_tap_comes_back(self, runtime, workspace_id, client,
                                                         worker, sandbox, app):
        account, config = _account(runtime, workspace_id, sandbox, "facebook")
        psid = str(6_000_000_000 + secrets.randbelow(10**9))
        _post(client, meta.messenger_message_webhook(str(account.id), config,
                                                     text="can I change my order?", psid=psid))
        conv = _conversation(client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        hint = desk.get(f"/conversations/{conv}/hint", params=_form(account)).text
        assert 'data-role="quick-replies"' in hint and "up to 13 of 20" in hint

        marker = text_tag()
        text = f"Which one? {marker}"
        too_many = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text,
            "quick_replies": "\n".join(f"Option {i}" for i in range(14))}, htmx=True)
        assert too_many.status_code == 422 and "too_many_choices" in too_many.text
        assert "at most 13" in too_many.text
        too_long = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "Yes\n" + "x" * 21}, htmx=True)
        assert too_long.status_code == 422 and "choice_title_too_long" in too_long.text
        assert "Messenger" in too_long.text and "20 characters" in too_long.text
        no_token = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "Yes\nNo"}, htmx=True,
            csrf=False)
        assert no_token.status_code == 403
        worker.drain()
        assert _calls(sandbox, "meta", marker) == []

        sent = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "Yes\n  \nNo, thanks\n"},
            htmx=True)
        assert sent.status_code == 200, sent.text
        worker.drain()
        [call] = _calls(sandbox, "meta", marker)
        assert call["json"]["message"]["quick_replies"] == [
            {"content_type": "text", "title": "Yes", "payload": "Yes"},
            {"content_type": "text", "title": "No, thanks", "payload": "No, thanks"}]

        _post(client, meta.messenger_quick_reply_webhook(str(account.id), config,
                                                         payload="No, thanks",
                                                         title="No, thanks", psid=psid))
        worker.drain()
        inbound = [m for m in _messages(client, conv) if m["direction"] == "inbound"]
        assert inbound[-1]["text"] == "No, thanks"


class TestWhatsApp:
    def test_reply_buttons_go_out_and_the_tap_comes_back(self, runtime, workspace_id, client,
                                                         worker, sandbox, app):
        account, config = _account(runtime, workspace_id, sandbox, "whatsapp")
        wa_id = f"1650{secrets.randbelow(10**7):07d}"
        _post(client, meta.whatsapp_message_webhook(str(account.id), config,
                                                    text="is it in stock?", wa_id=wa_id))
        conv = _conversation(client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        marker = text_tag()
        text = f"Shall I reserve one? {marker}"
        four = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "A\nB\nC\nD"}, htmx=True)
        assert four.status_code == 422 and "too_many_choices" in four.text
        assert "WhatsApp offers at most 3" in four.text
        long_title = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "Yes please, reserve it"},
            htmx=True)
        assert long_title.status_code == 422 and "choice_title_too_long" in long_title.text
        with_template = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "Yes",
            "wa_template_id": str(uuid.uuid4())}, htmx=True)
        assert with_template.status_code == 404  # no such template: nothing else is looked at
        worker.drain()
        assert _calls(sandbox, "meta", marker) == []

        sent = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "Yes\nNo"}, htmx=True)
        assert sent.status_code == 200, sent.text
        worker.drain()
        [call] = _calls(sandbox, "meta", marker)
        interactive = call["json"]["interactive"]
        assert call["json"]["type"] == "interactive" and interactive["type"] == "button"
        assert interactive["action"]["buttons"] == [
            {"type": "reply", "reply": {"id": "Yes", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "No", "title": "No"}}]
        ours = [m for m in _messages(client, conv) if m["direction"] == "outbound"][-1]

        _post(client, meta.whatsapp_interactive_reply_webhook(
            str(account.id), config, reply_id="Yes", title="Yes",
            context_id=ours["provider_id"], wa_id=wa_id))
        worker.drain()
        inbound = [m for m in _messages(client, conv) if m["direction"] == "inbound"]
        assert inbound[-1]["text"] == "Yes"

    def test_buttons_stay_blocked_when_the_window_is_closed(self, runtime, workspace_id,
                                                            client, worker, sandbox, app):
        account, config = _account(runtime, workspace_id, sandbox, "whatsapp")
        _post(client, meta.whatsapp_message_webhook(
            str(account.id), config, text="hello", timestamp=int(time.time()) - 2 * 86_400))
        conv = _conversation(client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        answer = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": "Still interested?", "quick_replies": "Yes\nNo"},
            htmx=True)
        assert answer.status_code == 422 and "window_closed" in answer.text


class TestTelegram:
    def test_inline_keyboard_goes_out_and_the_tap_comes_back(self, runtime, workspace_id,
                                                             client, worker, sandbox, app):
        account, config = _account(runtime, workspace_id, sandbox, "telegram")
        user = 500_000_000 + secrets.randbelow(10**8)
        _post(client, tg.telegram_message_webhook(str(account.id), config, chat_id=user,
                                                  user_id=user, text="opening hours?"))
        conv = _conversation(client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        hint = desk.get(f"/conversations/{conv}/hint", params=_form(account)).text
        assert 'data-role="quick-replies"' in hint
        marker = text_tag()
        text = f"Which shop? {marker}"
        too_many = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text,
            "quick_replies": "\n".join(f"Shop {i}" for i in range(14))}, htmx=True)
        assert too_many.status_code == 422 and "too_many_choices" in too_many.text
        sent = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": text, "quick_replies": "Berlin\nParis"}, htmx=True)
        assert sent.status_code == 200, sent.text
        worker.drain()
        [call] = _calls(sandbox, "telegram", marker)
        assert call["json"]["reply_markup"]["inline_keyboard"] == [
            [{"text": "Berlin", "callback_data": "Berlin"}],
            [{"text": "Paris", "callback_data": "Paris"}]]
        ours = [m for m in _messages(client, conv) if m["direction"] == "outbound"][-1]
        message_id = int(ours["provider_id"].rpartition(":")[2])

        query_id = f"q{marker}"
        _post(client, tg.telegram_callback_query_webhook(
            str(account.id), config, chat_id=user, user_id=user, data="Paris",
            message_id=message_id, callback_id=query_id))
        worker.drain()
        inbound = [m for m in _messages(client, conv) if m["direction"] == "inbound"]
        assert inbound[-1]["text"] == "Paris"
        worker.drain()  # the tap is answered, so the customer's button stops spinning
        answered = [c for c in _calls(sandbox, "telegram", query_id)
                    if c["path"].endswith("/answerCallbackQuery")]
        assert len(answered) == 1 and answered[0]["json"] == {"callback_query_id": query_id}


class TestOtherChannels:
    def test_no_quick_replies_where_the_channel_has_none(self, runtime, workspace_id, client,
                                                         worker, sandbox, app):
        account, config = _account(runtime, workspace_id, sandbox, "whatsapp")
        _post(client, meta.whatsapp_message_webhook(str(account.id), config, text="hi"))
        conv = _conversation(client, worker)
        x_account, _ = _account(runtime, workspace_id, sandbox, "x")
        desk = desk_for(app, runtime, workspace_id, "agent")
        hint = desk.get(f"/conversations/{conv}/hint", params=_form(x_account)).text
        assert 'data-role="quick-replies"' not in hint
        answer = desk.post(f"/conversations/{conv}/reply", {
            **_form(x_account), "text": "Hello", "quick_replies": "Yes\nNo"}, htmx=True)
        assert answer.status_code == 422 and "no_quick_replies" in answer.text
        oversized = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": "Hello", "quick_replies": "y" * 100_000}, htmx=True)
        assert oversized.status_code == 422 and "choice_title_too_long" in oversized.text
        twice = desk.post(f"/conversations/{conv}/reply", {
            **_form(account), "text": "Hello", "quick_replies": "Yes\nYes"}, htmx=True)
        assert twice.status_code == 422 and "bad_choices" in twice.text
        assert [m for m in _messages(client, conv) if m["direction"] == "outbound"] == []
