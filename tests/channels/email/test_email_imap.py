"""IMAP polling against a real Dovecot server (tests/mailservers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.channels.email.email_helpers import NO_HTTP, OUR_ID, fixture_bytes, make_account
from tests.mailservers import DovecotServer
from threadline.channels.base import AccountConfig, InboundMessage, StatusUpdate
from threadline.channels.email.adapter import EmailAdapter
from threadline.channels.email.imap import ImapError


def account_for(dovecot: DovecotServer, mailbox: str, **extra: Any) -> AccountConfig:
    return make_account(**dovecot.account_config(mailbox, **extra))


def mail(n: int, **headers: str) -> bytes:
    lines = [f"From: Customer {n} <c{n}@example.com>", "To: support@acme-support.com",
             f"Subject: Question {n}", f"Message-ID: <q{n}@example.com>",
             f"Date: Wed, 05 Mar 2025 10:{n % 60:02d}:00 +0000"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + f"\r\n\r\nBody of question {n}.\r\n").encode()


class TestPoll:
    def test_fetches_new_mail_once(self, dovecot: DovecotServer, mailbox: str,
                                   adapter: EmailAdapter) -> None:
        account = account_for(dovecot, mailbox)
        dovecot.append(mail(1), mailbox)
        dovecot.append(mail(2), mailbox)
        events, cursor = adapter.poll(account, None, NO_HTTP)
        assert [e.provider_event_id for e in events] == ["msgid:<q1@example.com>",
                                                         "msgid:<q2@example.com>"]
        assert cursor == {"uidvalidity": dovecot.uidvalidity(mailbox), "last_uid": 2,
                          "mailbox": mailbox}
        again, same = adapter.poll(account, cursor, NO_HTTP)
        assert again == [] and same == cursor

        dovecot.deliver_maildir(mail(3), mailbox)  # delivered by writing a maildir file
        events, cursor = adapter.poll(account, cursor, NO_HTTP)
        assert [e.provider_event_id for e in events] == ["msgid:<q3@example.com>"]
        assert cursor["last_uid"] == 3
        item = adapter.normalize(account, events[0].payload)[0]
        assert isinstance(item, InboundMessage)
        assert item.text == "Body of question 3."
        assert item.meta["imap"]["uid"] == 3

    def test_poll_does_not_mark_seen(self, dovecot: DovecotServer, mailbox: str,
                                     adapter: EmailAdapter) -> None:
        dovecot.append(mail(1), mailbox)
        adapter.poll(account_for(dovecot, mailbox), None, NO_HTTP)
        with dovecot.client() as imap:
            imap.select(mailbox, readonly=True)
            typ, data = imap.uid("SEARCH", "UNSEEN")
        assert typ == "OK" and data[0].split() == [b"1"]

    def test_batches_oldest_first(self, dovecot: DovecotServer, mailbox: str,
                                  adapter: EmailAdapter) -> None:
        account = account_for(dovecot, mailbox, poll_batch=2)
        for n in range(1, 6):
            dovecot.append(mail(n), mailbox)
        seen: list[str] = []
        cursor = None
        for _ in range(4):
            events, cursor = adapter.poll(account, cursor, NO_HTTP)
            assert len(events) <= 2
            seen += [e.provider_event_id for e in events]
        assert seen == [f"msgid:<q{n}@example.com>" for n in range(1, 6)]

    def test_uidvalidity_change_refetches_with_stable_ids(
            self, dovecot: DovecotServer, mailbox: str, adapter: EmailAdapter) -> None:
        account = account_for(dovecot, mailbox)
        dovecot.append(mail(1), mailbox)
        dovecot.append(mail(2), mailbox)
        first, cursor = adapter.poll(account, None, NO_HTTP)
        old_validity = cursor["uidvalidity"]

        dovecot.recreate_mailbox(mailbox)  # the server renumbers: new UIDVALIDITY
        dovecot.append(mail(2), mailbox)
        dovecot.append(mail(1), mailbox)
        dovecot.append(mail(4), mailbox)
        events, cursor = adapter.poll(account, cursor, NO_HTTP)
        assert cursor["uidvalidity"] != old_validity
        assert cursor["last_uid"] == 3
        ids = [e.provider_event_id for e in events]
        assert ids == ["msgid:<q2@example.com>", "msgid:<q1@example.com>",
                       "msgid:<q4@example.com>"]
        # what the pipeline already stored dedupes on the same provider_event_id
        assert {e.provider_event_id for e in first} < set(ids)

    def test_mailbox_change_rescans(self, dovecot: DovecotServer, adapter: EmailAdapter) -> None:
        box_a, box_b = dovecot.create_mailbox(), dovecot.create_mailbox()
        dovecot.append(mail(1), box_a)
        dovecot.append(mail(2), box_b)
        _, cursor = adapter.poll(account_for(dovecot, box_a), None, NO_HTTP)
        events, _ = adapter.poll(account_for(dovecot, box_b), cursor, NO_HTTP)
        assert [e.provider_event_id for e in events] == ["msgid:<q2@example.com>"]

    def test_corrupt_cursor_rescans(self, dovecot: DovecotServer, mailbox: str,
                                    adapter: EmailAdapter) -> None:
        dovecot.append(mail(1), mailbox)
        events, _ = adapter.poll(account_for(dovecot, mailbox), {"uidvalidity": "x"},
                                 NO_HTTP)
        assert len(events) == 1


class TestThreadingThroughImap:
    def test_reply_chain_threads_by_headers(self, dovecot: DovecotServer, mailbox: str,
                                            adapter: EmailAdapter) -> None:
        account = account_for(dovecot, mailbox)
        for name in ("new_plain.eml", "reply_to_agent.eml", "customer_follow_up.eml"):
            dovecot.append(fixture_bytes(name), mailbox)
        events, _ = adapter.poll(account, None, NO_HTTP)
        items = [adapter.normalize(account, e.payload)[0] for e in events]
        assert all(isinstance(i, InboundMessage) for i in items)
        root, reply, follow_up = items
        assert isinstance(root, InboundMessage) and isinstance(reply, InboundMessage)
        assert isinstance(follow_up, InboundMessage)
        assert root.in_reply_to is None and root.references == ()
        assert reply.in_reply_to == f"<tl-{OUR_ID}@acme-support.com>"
        assert root.provider_id in reply.references
        assert reply.link_token == f"msg:{OUR_ID}"
        assert follow_up.in_reply_to == root.provider_id
        assert follow_up.root_provider_id == root.provider_id == reply.root_provider_id

    def test_auto_reply_and_bounce_recognised(self, dovecot: DovecotServer, mailbox: str,
                                              adapter: EmailAdapter) -> None:
        account = account_for(dovecot, mailbox)
        dovecot.append(fixture_bytes("auto_reply_out_of_office.eml"), mailbox)
        dovecot.append(fixture_bytes("bounce_dsn_failed.eml"), mailbox)
        events, _ = adapter.poll(account, None, NO_HTTP)
        auto, bounce = (adapter.normalize(account, e.payload) for e in events)
        assert isinstance(auto[0], InboundMessage) and auto[0].meta["auto_reply"] is True
        assert isinstance(bounce[0], StatusUpdate) and bounce[0].state.value == "failed"

    def test_html_only_gets_text(self, dovecot: DovecotServer, mailbox: str,
                                 adapter: EmailAdapter) -> None:
        account = account_for(dovecot, mailbox)
        dovecot.append(fixture_bytes("html_only.eml"), mailbox)
        events, _ = adapter.poll(account, None, NO_HTTP)
        item = adapter.normalize(account, events[0].payload)[0]
        assert isinstance(item, InboundMessage)
        assert "The link in your newsletter is broken & shows an error." in item.text
        assert item.html is not None and "<b>broken</b>" in item.html


class TestErrors:
    def test_wrong_password(self, dovecot: DovecotServer, mailbox: str,
                            adapter: EmailAdapter) -> None:
        account = account_for(dovecot, mailbox, password="wrong")
        with pytest.raises(ImapError) as info:
            adapter.poll(account, None, NO_HTTP)
        assert info.value.code == "imap_auth_failed" and info.value.retryable is False
        assert "wrong" not in info.value.message

    def test_missing_mailbox(self, dovecot: DovecotServer, adapter: EmailAdapter) -> None:
        with pytest.raises(ImapError) as info:
            adapter.poll(account_for(dovecot, "NoSuchBox"), None, NO_HTTP)
        assert info.value.code == "imap_failed"

    def test_server_down(self, adapter: EmailAdapter) -> None:
        from tests.mailservers import free_port

        account = make_account(imap_host="127.0.0.1", imap_port=free_port(), username="u",
                               password="p", timeout=2)
        with pytest.raises(ImapError) as info:
            adapter.poll(account, None, NO_HTTP)
        assert info.value.code == "imap_unavailable" and info.value.retryable is True

    def test_misconfigured(self, adapter: EmailAdapter) -> None:
        with pytest.raises(ImapError) as info:
            adapter.poll(make_account(), None, NO_HTTP)
        assert info.value.code == "account_misconfigured"


class TestLargeAndOddMailboxes:
    def test_oversized_message_stored_header_only(
            self, dovecot: DovecotServer, mailbox: str, adapter: EmailAdapter,
            monkeypatch: pytest.MonkeyPatch) -> None:
        from threadline.channels.email import imap

        monkeypatch.setattr(imap, "MAX_MESSAGE_BYTES", 100)
        account = account_for(dovecot, mailbox)
        dovecot.append(mail(1) + b"x" * 500, mailbox)
        events, _ = adapter.poll(account, None, NO_HTTP)
        assert events[0].payload["truncated"] is True
        item = adapter.normalize(account, events[0].payload)[0]
        assert isinstance(item, InboundMessage)
        assert item.meta["truncated"] is True and item.subject == "Question 1"

    def test_mailbox_name_with_space(self, dovecot: DovecotServer,
                                     adapter: EmailAdapter) -> None:
        name = dovecot.create_mailbox('"Support Queue"').strip('"')
        dovecot.append(mail(1), f'"{name}"')
        events, cursor = adapter.poll(account_for(dovecot, name), None, NO_HTTP)
        assert len(events) == 1 and cursor["mailbox"] == name


class TestMailServerHelpers:
    def test_missing_dovecot_fails_under_ci(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import tests.mailservers as mailservers

        monkeypatch.setattr(mailservers, "find_dovecot", lambda: None)
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="dovecot-imapd"), \
                mailservers.dovecot_server():
            pass
        monkeypatch.setenv("CI", "false")
        with pytest.raises(pytest.skip.Exception), mailservers.dovecot_server():
            pass
