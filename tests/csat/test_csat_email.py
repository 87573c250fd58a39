"""CSAT by email against a real Dovecot (IMAP, polled) and a real aiosmtpd (SMTP): the survey
leaves by SMTP in the customer's thread, marked as automatic, with a short link; the link's
public page records his score and comment (CSRF-safe: the form's token, no foreign origin),
and a reply by mail ("4 thanks") records it too. Neither reopens the conversation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.csat.conftest import Csat, wait_for
from tests.e2e.test_email import email_account, mail, poll_now
from tests.mailservers import DovecotServer, SmtpServer, dovecot_server, smtp_server
from threadline.jobs.runtime import Runtime

LINK = re.compile(r"(https?://\S+/r/([A-Za-z0-9_-]{20,}))")
TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{64})"')


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with dovecot_server() as server:
        yield server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def public_url(runtime: Runtime, live_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Links in surveys point at the live server (THREADLINE_PUBLIC_URL in production)."""
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(
        update={"public_url": live_server.url}))
    url: str = live_server.url
    return url


def emailed_survey(csat: Csat, dovecot: DovecotServer, smtp: SmtpServer,
                   subject: str) -> tuple[str, str, str, Any, str]:
    """A customer mail answered and resolved: (account, mailbox, conversation id, the survey
    mail, the customer's first Message-ID)."""
    mailbox = dovecot.create_mailbox()
    account = email_account(csat, dovecot, smtp, mailbox)
    raw, first_id = mail(subject, "The kettle leaks.")
    dovecot.append(raw, mailbox)
    poll_now(csat, account)
    conv, _ = csat.wait_message(first_id)
    reply = csat.sent(conv["id"], f"A new one is on its way {csat.tag}", visibility="private")
    csat.wait_delivery(conv["id"], reply["id"])
    csat.resolve(conv["id"])
    csat.wait_survey(conv["id"])
    out = wait_for(lambda: [m for m in smtp.messages if b"/r/" in m.data
                            and subject.encode() in m.data], what="the survey mail")
    return account, mailbox, conv["id"], out[-1].parsed, first_id


class TestEmailLink:
    def test_the_link_page_records_the_answer(self, csat: Csat, dovecot: DovecotServer,
                                              smtp: SmtpServer, public_url: str) -> None:
        csat.enable(question="How did we do?")
        subject = f"Leaking kettle {csat.tag}"
        _, _, conv_id, survey_mail, first_id = emailed_survey(csat, dovecot, smtp, subject)
        assert survey_mail["In-Reply-To"] == first_id
        assert survey_mail["Auto-Submitted"] == "auto-replied"
        body = survey_mail.get_body(("plain",)).get_content()
        url, code = LINK.search(body).groups()  # type: ignore[union-attr]
        assert url.startswith(public_url) and body.startswith("How did we do?")
        customer = httpx.Client(base_url=public_url, timeout=10)
        try:
            page = customer.get(f"/r/{code}")
            assert page.status_code == 200 and 'name="score"' in page.text
            assert page.headers["cache-control"] == "no-store"
            token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
            assert csat.surveys(conv_id)[0]["status"] == "sent"  # a view records nothing
            done = customer.post(f"/r/{code}", data={"score": "5", "comment": "Great help",
                                                     "form_token": token})
            assert done.status_code == 200 and "You rated us 5 out of 5" in done.text
        finally:
            customer.close()
        [survey] = csat.surveys(conv_id)
        assert (survey["method"], survey["status"], survey["score"], survey["comment"]) == (
            "link", "answered", 5, "Great help")
        assert csat.conversation(conv_id)["status"] == "resolved"
        assert csat.conversation_count() == 1

    def test_a_reply_by_mail_is_the_score(self, csat: Csat, dovecot: DovecotServer,
                                          smtp: SmtpServer, public_url: str) -> None:
        csat.enable()
        subject = f"Cold tea {csat.tag}"
        account, mailbox, conv_id, survey_mail, _ = emailed_survey(csat, dovecot, smtp,
                                                                   subject)
        raw, reply_id = mail(f"Re: {subject}", "4 thanks, quick answer\n\n> How would you...",
                             in_reply_to=survey_mail["Message-ID"],
                             references=str(survey_mail["Message-ID"]))
        dovecot.append(raw, mailbox)
        poll_now(csat, account)
        answered = csat.wait_survey(conv_id, "answered")
        assert (answered["score"], answered["comment"]) == (4, "thanks, quick answer")
        conv = csat.conversation(conv_id)
        assert conv["status"] == "resolved"
        assert reply_id not in [m["provider_id"] for m in conv["messages"]]
        assert csat.conversation_count() == 1
