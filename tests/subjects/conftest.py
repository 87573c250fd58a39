"""A customer with a rich history, built only through the real paths: signed X webhooks (a
public mention and a DM), a WhatsApp webhook, an email with an attachment polled from a real
Dovecot, a chat link and a callback form submitted on the public /s/ pages, a web chat
message, agent replies, a note, labels, a merge; Threadline and the provider sandbox run
under uvicorn. A bystander writes in the same workspace and must keep everything."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest

from tests.conftest import LiveServer, make_token
from tests.e2e.conftest import tag, wait_for
from tests.hops.conftest import Hops, some_id
from tests.mailservers import dovecot_server, smtp_server
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import x as sx
from threadline.web.app import create_app
from threadline.workspace import service as workspace_service

PHONE_ID = "106540352242922"


@dataclass
class History:
    harness: Hops
    customer_id: str
    name: str
    tag: str
    texts: list[str]
    coordinates: list[str]
    bystander_id: str
    bystander_text: str
    conversations: set[str] = field(default_factory=set)


def _texts_of(h: Hops, customer_id: str) -> list[dict[str, Any]]:
    detail = h.api.get(f"/customers/{customer_id}").json()
    out: list[dict[str, Any]] = []
    for conv in detail["conversations"]:
        out.extend(h.conversation(conv["id"])["messages"])
    return out


def _wait_text(h: Hops, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def probe() -> tuple[dict[str, Any], dict[str, Any]] | None:
        for item in h.conversations(view="all"):
            conv = h.conversation(item["id"])
            for message in conv["messages"]:
                if text in message["text"]:
                    return conv, message
        return None
    return wait_for(probe, timeout=30, what=f"a message with {text!r}")


def _customer_of(h: Hops, conversation: dict[str, Any]) -> str:
    return str(conversation["customer"]["id"])


def _merge_into(h: Hops, target: str, other: str) -> None:
    if other != target:
        answer = h.api.post(f"/customers/{target}/merge", json={"other_id": other})
        assert answer.status_code == 201, answer.text


def _email(name: str, address: str, word: str) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = "support@acme-support.com"
    msg["Subject"] = f"Refund for order {word}"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=f"{word}.example.org")
    msg.set_content(f"Please refund me, {name}. Email body {word}.")
    msg.add_attachment(f"%PDF-1.4 receipt {word}".encode(), maintype="application",
                       subtype="pdf", filename=f"receipt-{word}.pdf")
    return msg.as_bytes(), str(msg["Message-ID"])


@pytest.fixture(scope="module")
def subjects_server(runtime: Runtime) -> Iterator[LiveServer]:
    server = LiveServer(create_app(runtime, workers=1)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def subjects_workspace(runtime: Runtime) -> uuid.UUID:
    with runtime.db.session() as session:
        return workspace_service.create_workspace(session, "Subjects",
                                                  f"s-{uuid.uuid4().hex[:12]}").id


@pytest.fixture(scope="module")
def history(subjects_server: LiveServer, sandbox: LiveServer, runtime: Runtime,
            subjects_workspace: uuid.UUID) -> Iterator[History]:
    token = make_token(runtime, subjects_workspace, "admin")
    h = Hops(subjects_server, sandbox, token, runtime, subjects_workspace)
    word = tag()
    name = f"Maya {word.capitalize()}"
    screen, x_user = f"maya_{word}", some_id(12)
    email = f"maya.{word}@example.org"
    wa_phone = f"+4477009{random.randrange(10**5):05d}"
    cb_phone = f"+1415{random.randrange(10**7):07d}"
    texts: list[str] = []

    # X: a public complaint, then a DM from the same account.
    x_config = h.x_config()
    x_account = h.account("x", x_config)
    tweet, dm_id = str(1_850_000_000_000_000_000 + random.randrange(10**15)), some_id(18)
    texts.append(f"@acme my kettle {word} exploded")
    assert h.post(sx.mention_webhook(x_account, x_config, tweet, x_user, screen, texts[-1],
                                     name=name)).status_code == 200
    public, _ = h.wait_message(tweet)
    customer_id = _customer_of(h, public)
    texts.append(f"Private note {word}: I live at 12 {word} Lane")
    assert h.post(sx.dm_webhook(x_account, x_config, dm_id, x_user, screen, texts[-1],
                                name=name)).status_code == 200
    dm_conv, _ = _wait_text(h, texts[-1])

    # The agents answer, note and label.
    texts.append(f"Thanks {name}, we are on it {word}")
    reply = h.sent(dm_conv["id"], texts[-1], visibility="private")
    h.wait_delivery(dm_conv["id"], reply["id"], ("sent", "delivered", "failed"))
    texts.append(f"Internal: {name} sounds upset {word}")
    assert h.api.post(f"/conversations/{public['id']}/messages",
                      json={"text": texts[-1], "kind": "note"}).status_code == 201
    assert h.api.patch(f"/conversations/{public['id']}",
                       json={"labels": [f"vip-{word}"], "category": "complaint"}
                       ).status_code == 200

    # A chat link taken on the public /s/ page: email, consent, a chat question, a message.
    chat_account = h.account("webchat", {"title": "Acme chat"}, name="Acme chat")
    offer = h.offer(public["id"], "chat_link")
    texts.append(f"Chat question {word}")
    answer = h.customer.post(h.path(offer["url"]), data={
        "name": name, "email": email, "question": texts[-1], "consent": "yes"})
    assert answer.status_code == 200, answer.text
    visitor, _ = h.handoff(answer.text)
    texts.append(f"Chat message {word}")
    assert h.customer.post(f"/webchat/{chat_account}/messages",
                           json={"text": texts[-1], "echo_id": "e" + word},
                           headers={"x-visitor-token": visitor}).status_code == 202
    _wait_text(h, texts[-1])

    # A callback form: a phone number with consent, a call placed through the sandbox.
    voice = {"account_sid": "AC" + "3" * 32, "auth_token": "sandbox-token",
             "from_number": "+15559870000", "api_base_url": h.sandbox_url("/twilio")}
    h.account("voice", voice)
    offer = h.offer(public["id"], "callback_form", reason="practicality")
    done = h.customer.post(h.path(offer["url"]), data={
        "phone": cb_phone, "window_start": "", "window_end": "", "tz_offset": "0",
        "consent": "yes"})
    assert done.status_code == 200, done.text
    wait_for(lambda: [c for c in h.api.get("/callbacks", params={
        "conversation_id": public["id"]}).json() if c["state"] == "placed"],
        what="the callback placed")
    # Whoever took the public links is a separate, unverified person until proven
    # (docs/decisions/0103); an agent confirms it is him, so the taker joins his profile.
    for taker in h.api.get(f"/conversations/{public['id']}").json()["takers"]:
        if not taker["verified"]:
            assert h.api.post(f"/takers/{taker['id']}/confirm").status_code in (200, 201)

    # WhatsApp: another customer at first, merged into him.
    wa_config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                 "access_token": "EAAG-token", "api_base_url": h.sandbox_url("/meta"),
                 "phone_number_id": PHONE_ID}
    wa_account = h.account("whatsapp", wa_config)
    texts.append(f"WhatsApp hello {word}")
    assert h.post(sm.whatsapp_message_webhook(wa_account, wa_config, text=texts[-1],
                                              wa_id=wa_phone[1:], name=name,
                                              wamid=f"wamid.IN{word}")).status_code == 200
    wa_conv, _ = _wait_text(h, texts[-1])
    _merge_into(h, customer_id, _customer_of(h, wa_conv))

    # Email with an attachment, polled from a real IMAP server.
    with dovecot_server() as imap, smtp_server() as smtp:
        mailbox = imap.create_mailbox()
        account = h.account("email", {**imap.account_config(mailbox), **smtp.account_config(),
                                      "poll_interval_seconds": 30})
        raw, _ = _email(name, email, word)
        texts.append(f"Email body {word}")
        imap.append(raw, mailbox)
        assert h.api.post(f"/channel-accounts/{account}/poll").status_code == 202
        mail_conv, _ = _wait_text(h, texts[-1])
        _merge_into(h, customer_id, _customer_of(h, mail_conv))

    # A bystander in the same workspace.
    other = tag()
    bystander_text = f"Bystander {other} asks about delivery"
    bystander_tweet = str(1_860_000_000_000_000_000 + random.randrange(10**15))
    assert h.post(sx.mention_webhook(x_account, x_config, bystander_tweet, some_id(12),
                                     f"sam_{other}", bystander_text)).status_code == 200
    bystander_conv, _ = h.wait_message(bystander_tweet)

    coordinates = [x_user, screen, email, wa_phone, wa_phone[1:], cb_phone, cb_phone[1:],
                   tweet, dm_id, f"wamid.IN{word}"]
    found = History(harness=h, customer_id=customer_id, name=name, tag=word, texts=texts,
                    coordinates=coordinates, bystander_id=_customer_of(h, bystander_conv),
                    bystander_text=bystander_text)
    found.conversations = {c["id"] for c in h.api.get(
        f"/customers/{customer_id}").json()["conversations"]}
    for message in _texts_of(h, customer_id):
        if len(message.get("provider_id") or "") >= 10:
            found.coordinates.append(message["provider_id"])
    yield found
    h.close()
