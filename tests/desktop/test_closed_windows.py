"""Closed messaging windows are no dead end in the desktop (issue 15): an approved WhatsApp
template after 24 h, Messenger's human-agent tag up to 7 days; each sent through the sandbox
only when the channel's rules allow it, refused with the channel's typed reason otherwise."""

from __future__ import annotations

import json
import secrets
import time

import httpx

from tests.desktop.conftest import desk_for
from tests.factories import text_tag
from threadline.sandbox.providers import meta
from threadline.workspace.service import create_channel_account

DAY = 86_400


def _account(runtime, workspace_id, sandbox, kind: str):
    config = {"app_secret": secrets.token_hex(8), "verify_token": "vt",
              "access_token": f"EAAG-{secrets.token_hex(4)}", "page_id": "3300001",
              "api_base_url": f"{sandbox.url}/meta"}
    if kind == "whatsapp":
        config.update(phone_number_id=str(secrets.randbelow(10**12)),
                      waba_id="102290129340398")
    with runtime.db.session() as s:
        return create_channel_account(s, workspace_id, kind=kind, name=kind,
                                      config=config), config


def _conversation(client, worker, hook) -> str:
    assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
    worker.drain()
    [conv] = client.get("/api/v1/conversations").json()["items"]
    return str(conv["id"])


def _sent(sandbox, marker: str) -> list[dict]:
    calls = httpx.get(f"{sandbox.url}/_sandbox/calls", params={"provider": "meta"}).json()
    return [c for c in calls["calls"] if c["method"] == "POST" and marker in json.dumps(c)]


def test_whatsapp_template_after_the_window(runtime, workspace_id, client, worker, sandbox,
                                            app):
    account, config = _account(runtime, workspace_id, sandbox, "whatsapp")
    wa_id = f"1650{secrets.randbelow(10**7):07d}"
    conv = _conversation(client, worker, meta.whatsapp_message_webhook(
        str(account.id), config, text="where is my parcel?", wa_id=wa_id,
        timestamp=int(time.time()) - 2 * DAY))
    desk = desk_for(app, runtime, workspace_id, "agent")
    page = desk.get(f"/conversations/{conv}").text
    assert 'data-role="wa-template"' in page and "is closed" in page
    form = {"kind": "message", "visibility": "private", "account_id": str(account.id)}

    refused = desk.post(f"/conversations/{conv}/reply", {**form, "text": "Hello again"},
                        htmx=True)
    assert refused.status_code == 422 and "window_closed" in refused.text
    bad = desk.post(f"/conversations/{conv}/reply",
                    {**form, "text": "", "wa_template": "Order Update!"}, htmx=True)
    assert bad.status_code == 422 and "bad_template" in bad.text
    worker.drain()
    assert _sent(sandbox, wa_id) == []

    marker = text_tag()
    sent = desk.post(f"/conversations/{conv}/reply", {
        **form, "text": "", "wa_template": "order_update", "wa_language": "en_US",
        "wa_params": f"Maya\n#{marker}"}, htmx=True)
    assert sent.status_code == 200, sent.text
    worker.drain()
    [call] = _sent(sandbox, marker)
    body = call["json"]
    assert body["type"] == "template" and body["to"] == wa_id
    assert body["template"]["name"] == "order_update"
    assert body["template"]["language"]["code"] == "en_US"
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == [
        "Maya", f"#{marker}"]
    timeline = desk.get(f"/conversations/{conv}").text
    assert "[WhatsApp template order_update]" in timeline


def test_messenger_human_agent_tag(runtime, workspace_id, client, worker, sandbox, app):
    account, config = _account(runtime, workspace_id, sandbox, "facebook")
    psid = str(6_000_000_000 + secrets.randbelow(10**9))
    conv = _conversation(client, worker, meta.messenger_message_webhook(
        str(account.id), config, text="still waiting for the refund", psid=psid,
        timestamp_ms=int((time.time() - 3 * DAY) * 1000)))
    desk = desk_for(app, runtime, workspace_id, "agent")
    form = {"kind": "message", "visibility": "private", "account_id": str(account.id)}
    hint = desk.get(f"/conversations/{conv}/hint", params=form).text
    assert 'data-role="human-agent"' in hint

    marker = text_tag()
    text = f"We checked: the refund left today {marker}"
    refused = desk.post(f"/conversations/{conv}/reply", {**form, "text": text}, htmx=True)
    assert refused.status_code == 422 and "window_closed" in refused.text
    forged = desk.post(f"/conversations/{conv}/reply",
                       {**form, "text": text, "tag": "ACCOUNT_UPDATE"}, htmx=True)
    assert forged.status_code == 422 and "unknown_tag" in forged.text
    no_token = desk.post(f"/conversations/{conv}/reply",
                         {**form, "text": text, "tag": "HUMAN_AGENT"}, htmx=True, csrf=False)
    assert no_token.status_code == 403
    worker.drain()
    assert _sent(sandbox, marker) == []

    sent = desk.post(f"/conversations/{conv}/reply", {**form, "text": text, "tag": "HUMAN_AGENT"},
                     htmx=True)
    assert sent.status_code == 200, sent.text
    worker.drain()
    [call] = _sent(sandbox, marker)
    assert call["json"]["tag"] == "HUMAN_AGENT"
    assert call["json"]["messaging_type"] == "MESSAGE_TAG"


def test_the_tag_does_not_reach_past_seven_days(runtime, workspace_id, client, worker,
                                                sandbox, app):
    account, config = _account(runtime, workspace_id, sandbox, "facebook")
    conv = _conversation(client, worker, meta.messenger_message_webhook(
        str(account.id), config, text="hello?", psid=str(7_000_000_000 + secrets.randbelow(10**9)),
        timestamp_ms=int((time.time() - 10 * DAY) * 1000)))
    desk = desk_for(app, runtime, workspace_id, "agent")
    answer = desk.post(f"/conversations/{conv}/reply", {
        "kind": "message", "visibility": "private", "account_id": str(account.id),
        "text": "Sorry for the delay", "tag": "HUMAN_AGENT"}, htmx=True)
    assert answer.status_code == 422 and "human_agent_window_closed" in answer.text
