"""A crash between a send and its commit: the worker claimed the send job, the provider call
went out (real HTTP to the sandbox), and the worker died before recording the outcome. After
the lease expires another worker re-runs the job. Per channel, the send must not happen twice:

- X (tweets and DMs) and Twilio SMS reconcile: the earlier send is found at the provider;
- Messenger and Telegram cannot look it up: the message is held as failed `delivery_unknown`
  (never re-sent); a Messenger echo carrying our message id later proves it sent;
- email re-sends with the same Message-ID (harmless by design; see the email README).

No embedded worker runs here (TestClient app, workers=0): the test drives the worker itself.
"""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.e2e.conftest import tag
from tests.e2e.test_email import mail
from tests.mailservers import SmtpServer, smtp_server
from threadline.channels.meta_common import sign as meta_sign
from threadline.db.base import utcnow
from threadline.events.models import OutboxJob
from threadline.events.service import store_inbound
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.outbound.sender import SEND_JOB, begin_attempt, deliver
from threadline.sandbox.core import SignedWebhook
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import telegram as stg
from threadline.sandbox.providers import twilio as stw
from threadline.sandbox.providers import x as sx

OWN_ID = "2244994945"


class Rig:
    def __init__(self, client: TestClient, worker: Worker, runtime: Runtime,
                 sandbox: Any) -> None:
        self.client, self.worker, self.runtime, self.sandbox = client, worker, runtime, sandbox
        self.tag = tag()

    def account(self, kind: str, config: dict[str, Any]) -> str:
        answer = self.client.post("/api/v1/channel-accounts",
                                  json={"kind": kind, "name": kind, "config": config})
        assert answer.status_code == 201, answer.text
        account_id: str = answer.json()["id"]
        return account_id

    def inbound(self, hook: SignedWebhook) -> str:
        assert self.client.post(hook.path, content=hook.body,
                                headers=hook.headers).status_code == 200
        self.worker.drain()
        [conv] = self.client.get("/api/v1/conversations").json()["items"]
        conv_id: str = conv["id"]
        return conv_id

    def crash_after_send(self, conv_id: str, text: str, **body: Any) -> tuple[str, Any]:
        """Reply, then run the claimed job's HTTP part and die before the commit."""
        answer = self.client.post(f"/api/v1/conversations/{conv_id}/messages",
                                  json={"text": text, **body})
        assert answer.status_code == 201, answer.text
        message_id = answer.json()["id"]
        with self.runtime.db.session() as session:  # a worker claims this send job
            job = session.scalars(select(OutboxJob).where(
                OutboxJob.name == SEND_JOB,
                OutboxJob.payload["message_id"].as_string() == message_id)).one()
            job.claimed_until = utcnow() + timedelta(minutes=5)
            job.attempts += 1
        plan = begin_attempt(self.runtime, uuid.UUID(message_id))
        assert plan is not None
        outcome = deliver(self.runtime, plan)  # reached the provider; then the crash
        assert outcome.result is not None
        with self.runtime.db.session() as session:  # the dead worker's lease runs out
            session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(
                claimed_until=utcnow() - timedelta(seconds=1)))
        self.worker.drain()
        return message_id, outcome.result

    def message(self, conv_id: str, message_id: str) -> dict[str, Any]:
        conv = self.client.get(f"/api/v1/conversations/{conv_id}").json()
        found: dict[str, Any] = next(m for m in conv["messages"] if m["id"] == message_id)
        return found

    def calls(self, provider: str, path_contains: str) -> list[dict[str, Any]]:
        answer = httpx.get(self.sandbox.url + "/_sandbox/calls", params={"provider": provider})
        return [c for c in answer.json()["calls"]
                if c["method"] == "POST" and path_contains in c["path"]
                and self.tag in c["body"]]


@pytest.fixture
def rig(client: TestClient, worker: Worker, runtime: Runtime, sandbox: Any) -> Rig:
    return Rig(client, worker, runtime, sandbox)


def x_config(rig: Rig) -> dict[str, Any]:
    return {"consumer_key": "ck", "consumer_secret": "sandbox_secret",
            "access_token": f"{OWN_ID}-token", "access_token_secret": "ats",
            "user_id": OWN_ID, "api_base_url": rig.sandbox.url + "/x"}


class TestReconciled:
    def test_x_tweet(self, rig: Rig) -> None:
        config = x_config(rig)
        account = rig.account("x", config)
        tid = str(1_860_000_000_000_000_000 + random.randrange(10**15))
        conv = rig.inbound(sx.mention_webhook(account, config, tid, "5", "al", "@acme hi"))
        message_id, first = rig.crash_after_send(conv, f"We are on it {rig.tag}")
        assert len(rig.calls("x", "/2/tweets")) == 1
        message = rig.message(conv, message_id)
        assert message["delivery"] == "sent" and message["provider_id"] == first.provider_id
        assert message["meta"]["send"]["reconciled"] is True

    def test_x_dm(self, rig: Rig) -> None:
        config = x_config(rig)
        account = rig.account("x", config)
        sender = str(random.randrange(10**9, 10**10))
        conv = rig.inbound(sx.dm_webhook(account, config, str(random.randrange(10**18)),
                                         sender, "al", "dm me"))
        message_id, first = rig.crash_after_send(conv, f"Here {rig.tag}", visibility="private")
        assert len(rig.calls("x", f"/with/{sender}/messages")) == 1
        message = rig.message(conv, message_id)
        assert message["delivery"] == "sent" and message["provider_id"] == first.provider_id

    def test_sms(self, rig: Rig) -> None:
        config = {"account_sid": "AC" + "2" * 32, "auth_token": "tok",
                  "from_number": "+15559870001", "api_base_url": rig.sandbox.url + "/twilio"}
        account = rig.account("sms", config)
        customer = f"+1415{random.randrange(10**7):07d}"
        conv = rig.inbound(stw.sms_webhook(account, config, customer, "hi",
                                           base_url="http://testserver"))
        message_id, first = rig.crash_after_send(conv, f"Reply {rig.tag}",
                                                 visibility="private")
        assert len(rig.calls("twilio", "/Messages.json")) == 1
        message = rig.message(conv, message_id)
        assert message["delivery"] == "sent" and message["provider_id"] == first.provider_id


class TestHeldForTheAgent:
    def test_telegram_is_not_sent_twice(self, rig: Rig) -> None:
        config = {"bot_token": "123456:ABC-sandbox_token", "secret_token": "s3cret",
                  "api_base_url": rig.sandbox.url + "/telegram"}
        account = rig.account("telegram", config)
        chat = random.randrange(10**8, 10**9)
        conv = rig.inbound(stg.telegram_message_webhook(account, config, chat_id=chat,
                                                        user_id=chat, text="hi"))
        message_id, _ = rig.crash_after_send(conv, f"Hello {rig.tag}", visibility="private")
        assert len(rig.calls("telegram", "/sendMessage")) == 1
        message = rig.message(conv, message_id)
        assert message["delivery"] == "failed"
        assert message["meta"]["send"]["state"] == "unknown"
        assert "may have reached telegram" in message["delivery_error"]

    def test_messenger_echo_proves_the_send(self, rig: Rig) -> None:
        config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                  "access_token": "EAAG-token", "page_id": "1234567890",
                  "api_base_url": rig.sandbox.url + "/meta"}
        account = rig.account("facebook", config)
        psid = str(random.randrange(10**14, 10**15))
        conv = rig.inbound(sm.messenger_message_webhook(account, config, text="hi",
                                                        psid=psid))
        message_id, first = rig.crash_after_send(conv, f"Hi {rig.tag}", visibility="private")
        assert len(rig.calls("meta", "/messages")) == 1
        assert rig.message(conv, message_id)["delivery"] == "failed"
        # The echo of the send arrives, carrying our message id in its metadata.
        echo = {"object": "page", "entry": [{"id": "1234567890",
                                             "time": int(time.time() * 1000), "messaging": [{
            "sender": {"id": "1234567890"}, "recipient": {"id": psid},
            "timestamp": int(time.time() * 1000),
            "message": {"is_echo": True, "metadata": f"threadline:{message_id}",
                        "mid": first.provider_id, "text": f"Hi {rig.tag}"}}]}]}
        raw = json.dumps(echo).encode()
        rig.inbound(SignedWebhook(path=f"/webhooks/facebook/{account}", body=raw, headers={
            "content-type": "application/json",
            "X-Hub-Signature-256": meta_sign(config["app_secret"], raw)}))
        conv_view = rig.client.get(f"/api/v1/conversations/{conv}").json()
        outbound = [m for m in conv_view["messages"] if m["direction"] == "outbound"]
        assert len(outbound) == 1  # matched, not stored twice
        assert outbound[0]["delivery"] == "sent"
        assert outbound[0]["provider_id"] == first.provider_id


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


class TestResentWithTheSameId:
    def test_email(self, rig: Rig, smtp: SmtpServer, workspace_id: uuid.UUID) -> None:
        config = {**smtp.account_config(), "imap_host": "127.0.0.1", "imap_port": 1,
                  "poll": False}  # inbound is stored directly below; this is about sending
        account = rig.account("email", config)
        raw, first_id = mail(f"Question {rig.tag}", "Hello there")
        with rig.runtime.db.session() as session:
            store_inbound(session, workspace_id=workspace_id,
                          channel_account_id=uuid.UUID(account),
                          events=[(f"msgid:{first_id}", {
                              "raw": base64.b64encode(raw).decode(), "encoding": "base64",
                              "mailbox": "INBOX", "uidvalidity": 1, "uid": 1})])
        rig.worker.drain()
        [conv] = rig.client.get("/api/v1/conversations").json()["items"]
        message_id, first = rig.crash_after_send(conv["id"], f"Answer {rig.tag}",
                                                 visibility="private")
        copies = [m for m in smtp.messages if rig.tag.encode() in m.data
                  and b"Answer" in m.data]
        assert len(copies) == 2  # SMTP has no lookup: sent again ...
        assert {c.parsed["Message-ID"] for c in copies} == {first.provider_id}  # ... same id
        message = rig.message(conv["id"], message_id)
        assert message["delivery"] == "sent" and message["provider_id"] == first.provider_id
