"""SMTP sending against a real aiosmtpd server (tests/mailservers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.channels.email.email_helpers import NO_HTTP, OUR_ID, make_account
from tests.mailservers import SmtpServer, free_port
from threadline.channels.base import (
    AccountConfig,
    InboundMessage,
    OutboundMessage,
    PermanentSendError,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    Visibility,
)
from threadline.channels.email.adapter import EmailAdapter
from threadline.channels.email.payloads import StoredEmail

CUSTOMER_MSG = "<CAF1234@mail.example.com>"


def reply(**overrides: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "message_id": OUR_ID, "visibility": Visibility.PRIVATE,
        "text": "Hi Jane,\n\nyour parcel left our warehouse today.\n\nAcme Support",
        "recipient": "Jane Doe <jane@example.com>", "in_reply_to": CUSTOMER_MSG,
        "options": {"subject": "[Acme] Your order 4411",
                    "references": ["<CAF1000@mail.example.com>", CUSTOMER_MSG]},
    }
    fields.update(overrides)
    return OutboundMessage(**fields)


def account_for(smtp: SmtpServer, **extra: Any) -> AccountConfig:
    return make_account(**smtp.account_config(**extra))


class TestSend:
    def test_delivers_with_threading_headers(self, smtp: SmtpServer,
                                             adapter: EmailAdapter) -> None:
        result = adapter.send(account_for(smtp), reply(), NO_HTTP)
        message_id = f"<tl-{OUR_ID}@acme-support.com>"
        assert result.provider_id == message_id
        assert len(smtp.messages) == 1
        got = smtp.messages[0]
        assert got.authenticated_as == smtp.user
        assert got.mail_from == "support@acme-support.com"
        assert got.rcpt_tos == ["jane@example.com"]
        mail = got.parsed
        assert mail["Message-ID"] == message_id
        assert mail["In-Reply-To"] == CUSTOMER_MSG
        assert mail["References"].split() == ["<CAF1000@mail.example.com>", CUSTOMER_MSG]
        assert mail["Subject"] == "Re: [Acme] Your order 4411"
        assert mail["From"].addresses[0].addr_spec == "support@acme-support.com"
        assert mail["From"].addresses[0].display_name == "Acme Support"
        assert mail["To"].addresses[0].addr_spec == "jane@example.com"
        assert mail["Reply-To"].addresses[0].addr_spec == (
            f"support+tl-{OUR_ID}@acme-support.com")
        assert mail["X-Threadline-Ref"] == OUR_ID
        assert mail["Auto-Submitted"] == "no"
        assert mail["Date"].datetime.tzinfo is not None
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None and "your parcel left our warehouse" in body.get_content()

    def test_retried_send_reuses_the_message_id(self, smtp: SmtpServer,
                                                adapter: EmailAdapter) -> None:
        account = account_for(smtp)
        smtp.handler.data_replies.append("451 4.3.0 Try again later")
        with pytest.raises(RetryableSendError):
            adapter.send(account, reply(), NO_HTTP)
        first = adapter.send(account, reply(), NO_HTTP)
        second = adapter.send(account, reply(), NO_HTTP)  # a re-send after a crash
        assert first.provider_id == second.provider_id
        assert [m.parsed["Message-ID"] for m in smtp.messages] == [first.provider_id] * 2

    def test_customer_reply_to_our_mail_links_back(self, smtp: SmtpServer,
                                                   adapter: EmailAdapter) -> None:
        account = account_for(smtp)
        sent = adapter.send(account, reply(), NO_HTTP).provider_id
        ours = smtp.messages[0].parsed
        answer = (f"From: jane@example.com\nTo: {ours['Reply-To']}\n"
                  f"Subject: Re: {ours['Subject']}\nMessage-ID: <next@mail.example.com>\n"
                  f"In-Reply-To: {sent}\n"
                  f"References: {ours['References']} {sent}\n"
                  "Date: Wed, 05 Mar 2025 12:00:00 +0000\n\nThanks!\n").encode()
        item = adapter.normalize(account, StoredEmail.from_bytes(answer).model_dump())[0]
        assert isinstance(item, InboundMessage)
        assert item.in_reply_to == sent
        assert item.references[-1] == sent
        assert item.link_token == f"msg:{OUR_ID}"

    def test_echo_of_our_send_is_self(self, smtp: SmtpServer, adapter: EmailAdapter) -> None:
        account = account_for(smtp)
        sent = adapter.send(account, reply(), NO_HTTP).provider_id
        echo = adapter.normalize(account, StoredEmail.from_bytes(smtp.messages[0].data)
                                 .model_dump())[0]
        assert isinstance(echo, InboundMessage)
        assert echo.provider_id == sent and echo.author.is_self is True

    def test_new_thread_and_automatic_mail(self, smtp: SmtpServer,
                                           adapter: EmailAdapter) -> None:
        message = reply(in_reply_to=None, options={"subject": "We got your message",
                                                   "automatic": True,
                                                   "html": "<p>We got it</p>"})
        adapter.send(account_for(smtp), message, NO_HTTP)
        mail = smtp.messages[0].parsed
        assert mail["Subject"] == "We got your message"
        assert mail["In-Reply-To"] is None and mail["References"] is None
        assert mail["Auto-Submitted"] == "auto-replied"
        assert mail["X-Auto-Response-Suppress"] == "All"
        html = mail.get_body(preferencelist=("html",))
        assert html is not None and "<p>We got it</p>" in html.get_content()

    def test_signed_tokens_and_bounce_address(self, smtp: SmtpServer,
                                              adapter: EmailAdapter) -> None:
        account = account_for(smtp, reply_token_secret="k3y",
                              bounce_address="bounces@acme-support.com",
                              message_id_domain="mail.acme-support.com")
        result = adapter.send(account, reply(), NO_HTTP)
        assert result.provider_id.startswith(f"<tl-{OUR_ID}.")
        assert result.provider_id.endswith("@mail.acme-support.com>")
        assert smtp.messages[0].mail_from == "bounces@acme-support.com"

    def test_attachment_links_in_text(self, smtp: SmtpServer, adapter: EmailAdapter) -> None:
        from threadline.channels.base import Attachment

        message = reply(attachments=(Attachment(type="file", url="https://cdn.example/a.pdf",
                                                name="label.pdf"),))
        adapter.send(account_for(smtp), message, NO_HTTP)
        body = smtp.messages[0].parsed.get_body(preferencelist=("plain",))
        assert body is not None and "label.pdf: https://cdn.example/a.pdf" in body.get_content()


class TestSmtpErrors:
    @pytest.mark.parametrize(("where", "answer", "error", "code"), [
        ("rcpt", "450 4.2.1 Mailbox busy", RetryableSendError, "smtp_450"),
        ("rcpt", "550 5.1.1 No such user", PermanentSendError, "smtp_550"),
        ("data", "451 4.3.0 Try again later", RetryableSendError, "smtp_451"),
        ("data", "554 5.7.1 Message rejected as spam", PermanentSendError, "smtp_554"),
    ])
    def test_status_mapping(self, smtp: SmtpServer, adapter: EmailAdapter, where: str,
                            answer: str, error: type[Exception], code: str) -> None:
        if where == "rcpt":
            smtp.handler.rcpt_reply = answer
        else:
            smtp.handler.data_reply = answer
        with pytest.raises(error) as info:
            adapter.send(account_for(smtp), reply(), NO_HTTP)
        assert getattr(info.value, "code", None) == code
        assert answer.split(" ", 1)[1] in str(info.value)
        assert smtp.messages == []

    def test_wrong_password_is_permanent(self, smtp: SmtpServer,
                                         adapter: EmailAdapter) -> None:
        with pytest.raises(PermanentSendError) as info:
            adapter.send(account_for(smtp, password="wrong"), reply(), NO_HTTP)
        assert info.value.code == "smtp_auth_failed"
        assert "wrong" not in str(info.value)

    def test_connection_refused_is_retryable(self, adapter: EmailAdapter) -> None:
        account = make_account(smtp_host="127.0.0.1", smtp_port=free_port(), timeout=2)
        with pytest.raises(RetryableSendError) as info:
            adapter.send(account, reply(), NO_HTTP)
        assert info.value.code == "smtp_unavailable"

    def test_starttls_unsupported_is_permanent(self, smtp: SmtpServer,
                                               adapter: EmailAdapter) -> None:
        with pytest.raises(PermanentSendError) as info:
            adapter.send(account_for(smtp, smtp_starttls=True), reply(), NO_HTTP)
        assert info.value.code == "smtp_unsupported"

    @pytest.mark.parametrize("recipient", [None, "", "not-an-address", "a@x.com, b@y.com"])
    def test_bad_recipient(self, smtp: SmtpServer, adapter: EmailAdapter,
                           recipient: str | None) -> None:
        with pytest.raises(PermanentSendError) as info:
            adapter.send(account_for(smtp), reply(recipient=recipient), NO_HTTP)
        assert info.value.code == "bad_recipient"

    def test_header_injection_is_neutralised(self, smtp: SmtpServer,
                                             adapter: EmailAdapter) -> None:
        message = reply(options={"subject": "Hi\r\nBcc: victim@example.com"})
        adapter.send(account_for(smtp), message, NO_HTTP)
        mail = smtp.messages[0].parsed
        assert mail["Bcc"] is None and smtp.messages[0].rcpt_tos == ["jane@example.com"]

    def test_misconfigured_account(self, adapter: EmailAdapter) -> None:
        with pytest.raises(PermanentSendError) as info:
            adapter.send(make_account(), reply(), NO_HTTP)
        assert info.value.code == "account_misconfigured"
        with pytest.raises(PermanentSendError):
            adapter.send(make_account(smtp_host="h", smtp_port="not a port"), reply(), NO_HTTP)


class TestPolicy:
    def context(self) -> SendContext:
        return SendContext(now=datetime(2025, 3, 5, tzinfo=UTC))

    def test_private_send_allowed_any_time(self, adapter: EmailAdapter,
                                           account: AccountConfig) -> None:
        adapter.check_send(account, reply(text="x" * 50_000), self.context())

    def test_public_refused(self, adapter: EmailAdapter, account: AccountConfig) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account, reply(visibility=Visibility.PUBLIC), self.context())
        assert info.value.allowed == ["private"]

    def test_recipient_required(self, adapter: EmailAdapter, account: AccountConfig) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account, reply(recipient=None), self.context())
        assert info.value.code == "no_recipient"

    def test_traits(self) -> None:
        traits = EmailAdapter.traits
        assert (traits.public, traits.private, traits.realtime) == (False, True, False)
        assert traits.char_limit is None and traits.window_hours is None
        assert traits.identity_kind == "email" and EmailAdapter.kind == "email"
