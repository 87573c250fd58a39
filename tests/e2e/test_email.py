"""Email end to end against a real Dovecot (IMAP, polled by the poller job) and a real
aiosmtpd (SMTP): a customer mail becomes a conversation, the agent's REST reply leaves by SMTP
threaded with In-Reply-To / References, and the customer's answer comes back to the same
conversation by headers or by the reply token alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest

from tests.e2e.conftest import E2E, wait_for
from tests.mailservers import DovecotServer, SmtpServer, dovecot_server, smtp_server

CUSTOMER = "jane.doe@example.org"
SUPPORT = "support@acme-support.com"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with dovecot_server() as server:
        yield server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def mail(subject: str, body: str, *, to: str = SUPPORT, in_reply_to: str | None = None,
         references: str | None = None) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = f"Jane Doe <{CUSTOMER}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    message_id = make_msgid(domain="example.org")
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    return msg.as_bytes(), message_id


def email_account(e2e: E2E, dovecot: DovecotServer, smtp: SmtpServer,
                  mailbox: str) -> str:
    config: dict[str, Any] = {**dovecot.account_config(mailbox), **smtp.account_config(),
                              "poll_interval_seconds": 30}
    return e2e.account("email", config)


def poll_now(e2e: E2E, account: str) -> None:
    answer = e2e.api.post(f"/channel-accounts/{account}/poll")
    assert answer.status_code == 202, answer.text


class TestEmailRoundTrip:
    def test_poll_reply_by_smtp_and_customer_answers(self, e2e: E2E, dovecot: DovecotServer,
                                                     smtp: SmtpServer) -> None:
        mailbox = dovecot.create_mailbox()
        account = email_account(e2e, dovecot, smtp, mailbox)
        raw, first_id = mail(f"Broken kettle {e2e.tag}", "It stopped working yesterday.")
        dovecot.append(raw, mailbox)
        poll_now(e2e, account)
        conv, message = e2e.wait_message(first_id)
        assert message["channel"] == "email" and message["subject"].startswith("Broken")

        reply = e2e.sent(conv["id"], f"Sorry! A new one is on its way {e2e.tag}",
                         visibility="private")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        out = wait_for(lambda: [m for m in smtp.messages if e2e.tag in m.data.decode(
            "utf-8", "replace") and b"on its way" in m.data], what="SMTP delivery")
        assert len(out) == 1
        parsed = out[0].parsed
        assert out[0].rcpt_tos == [CUSTOMER]
        assert parsed["In-Reply-To"] == first_id
        assert first_id in str(parsed["References"])
        assert str(parsed["Subject"]) == f"Re: Broken kettle {e2e.tag}"
        assert parsed["Message-ID"] == sent["provider_id"]

        # The customer answers by headers: same conversation.
        raw2, second_id = mail(f"Re: Broken kettle {e2e.tag}", "Thanks, when?",
                               in_reply_to=sent["provider_id"],
                               references=f"{first_id} {sent['provider_id']}")
        dovecot.append(raw2, mailbox)
        poll_now(e2e, account)
        conv2, _ = e2e.wait_message(second_id)
        assert conv2["id"] == conv["id"]

        # A mail that carries only the reply token (plus-address) joins it too.
        reply_to = str(parsed["Reply-To"])
        assert "+tl-" in reply_to
        raw3, third_id = mail("new subject, no headers", "One more thing",
                              to=reply_to.split("<")[-1].rstrip(">"))
        dovecot.append(raw3, mailbox)
        poll_now(e2e, account)
        conv3, _ = e2e.wait_message(third_id)
        assert conv3["id"] == conv["id"]

    def test_a_second_poll_stores_nothing_twice(self, e2e: E2E, dovecot: DovecotServer,
                                                smtp: SmtpServer) -> None:
        mailbox = dovecot.create_mailbox()
        account = email_account(e2e, dovecot, smtp, mailbox)
        raw, message_id = mail(f"Invoice {e2e.tag}", "Please resend it")
        dovecot.append(raw, mailbox)
        dovecot.append(raw, mailbox)  # the same mail twice in the mailbox
        poll_now(e2e, account)
        conv, _ = e2e.wait_message(message_id)
        poll_now(e2e, account)
        traits = e2e.api.get(f"/channel-accounts/{account}/traits").json()
        assert traits["polling"] is True and traits["realtime"] is False
        assert traits["crash_recovery"] == "resend_same_id"
        conv = e2e.conversation(conv["id"])
        assert [m["provider_id"] for m in conv["messages"]] == [message_id]

    def test_poll_of_a_webhook_account_is_refused(self, e2e: E2E) -> None:
        account = e2e.account("telegram", {"bot_token": "1:x", "secret_token": "s"})
        answer = e2e.api.post(f"/channel-accounts/{account}/poll")
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "not_polled"
        missing = e2e.api.post(f"/channel-accounts/{uuid.uuid4()}/poll")
        assert missing.status_code == 404
