"""A customer texts, then calls: the call joins his conversation, and a reply (from the
desktop's composer or the API without an account) goes where he last wrote, not to the
voice line, which sends no text."""

from __future__ import annotations

import secrets
import time

from sqlalchemy import select

from tests.desktop.conftest import desk_for
from tests.factories import text_tag
from threadline.conversations.models import Message
from threadline.conversations.service import Actor
from threadline.outbound.replies import Reply, post_reply
from threadline.sandbox.providers import twilio as stw
from threadline.workspace.service import create_channel_account


def test_the_reply_goes_to_the_text_channel_after_a_call(runtime, workspace_id, client, worker,
                                                          sandbox, app):
    base = {"auth_token": "sandbox-token", "api_base_url": f"{sandbox.url}/twilio"}
    sms_config = {**base, "account_sid": "AC" + "5" * 32, "from_number": "+15559870001"}
    voice_config = {**base, "account_sid": "AC" + "6" * 32, "from_number": "+15559870002"}
    with runtime.db.session() as s:
        sms = create_channel_account(s, workspace_id, kind="sms", name="Texts",
                                     config=sms_config)
        voice = create_channel_account(s, workspace_id, kind="voice", name="Phone",
                                       config=voice_config)
    number = f"+1415555{secrets.randbelow(10**4):04d}"
    marker = text_tag()
    text = stw.sms_webhook(str(sms.id), sms_config, number, f"My order is late {marker}",
                           base_url="http://testserver")
    assert client.post(text.path, content=text.body, headers=text.headers).status_code == 200
    worker.drain()
    time.sleep(1.1)  # the call's time is Twilio's, to the second: after the text
    call = stw.call_webhook(str(voice.id), voice_config, number, base_url="http://testserver")
    assert client.post(call.path, content=call.body, headers=call.headers).status_code == 200
    worker.drain()
    with runtime.db.session(write=False) as s:
        rows = list(s.scalars(select(Message).where(Message.workspace_id == workspace_id)))
    assert [m.kind for m in sorted(rows, key=lambda m: m.created_at)] == ["message", "call"]
    assert len({m.conversation_id for m in rows}) == 1
    conversation_id = rows[0].conversation_id

    desk = desk_for(app, runtime, workspace_id, "agent")
    page = desk.get(f"/conversations/{conversation_id}").text
    assert f'value="{sms.id}" selected' in page  # the composer offers the text channel

    with runtime.db.session() as s:
        reply = post_reply(s, workspace_id, conversation_id,
                           Reply(text="We are on it", visibility="private"), Actor("system"))
        assert reply.channel_account_id == sms.id and reply.channel == "sms"
