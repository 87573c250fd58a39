"""Hypothesis: normalize() on random and mutated messages raises only typed ChannelErrors."""

from __future__ import annotations

import base64
import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.email.email_helpers import FIXTURES, make_account
from threadline.channels.base import (
    ChannelError,
    InboundMessage,
    NormalizedItem,
    StatusUpdate,
)
from threadline.channels.email import parsing
from threadline.channels.email.adapter import EmailAdapter
from threadline.channels.email.payloads import StoredEmail

ADAPTER = EmailAdapter()
ACCOUNT = make_account(reply_token_secret="fuzz-secret")
FIXTURE_BYTES = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HEADER_NAMES = ["From", "To", "Cc", "Sender", "Reply-To", "Subject", "Date", "Message-ID",
                "In-Reply-To", "References", "Content-Type", "Content-Transfer-Encoding",
                "Content-Disposition", "Auto-Submitted", "Precedence", "List-Id",
                "Return-Path", "X-Threadline-Ref", "MIME-Version", "Received"]
TRICKY_VALUES = ["", "<>", "=?UTF-8?B?SsO8cmdlbg==?= <j@x.de>", "=?bogus?Q?x?=", "\"", "<a@b",
                 "multipart/report; report-type=delivery-status; boundary=b",
                 "multipart/mixed; boundary=", "text/plain; charset=klingon", "base64",
                 "quoted-printable", "Wed, 31 Feb 2025 25:61:00 +9999", "auto-replied",
                 "<tl-m-1.000000000000@acme-support.com>", "a@b, , @, <@>", "(comment",
                 "message/rfc822", "message/delivery-status", "attachment; filename*=x''%ff"]


def check(items: list[NormalizedItem]) -> None:
    for item in items:
        assert isinstance(item, InboundMessage | StatusUpdate)
        if isinstance(item, InboundMessage):
            assert item.created_at.tzinfo is not None
            assert "\x00" not in item.text
            item.text.encode("utf-8")  # no lone surrogates
            assert item.author.provider_user_id == item.author.provider_user_id.lower()
        else:
            assert item.at.tzinfo is not None and item.provider_id


def run(raw: bytes) -> None:
    key = parsing.event_key_of(raw)
    assert key.startswith(("msgid:<", "hash:"))
    payload = StoredEmail.from_bytes(raw, mailbox="INBOX", uidvalidity=1, uid=1).model_dump()
    with contextlib.suppress(ChannelError):
        check(ADAPTER.normalize(ACCOUNT, payload))


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    run(raw)


@FUZZ
@given(st.text(max_size=1000))
def test_random_text_stored_as_utf8(raw: str) -> None:
    with contextlib.suppress(ChannelError):
        check(ADAPTER.normalize(ACCOUNT, {"raw": raw, "encoding": "utf-8"}))


header_line = st.tuples(st.sampled_from(HEADER_NAMES),
                        st.one_of(st.sampled_from(TRICKY_VALUES), st.text(max_size=80)))


@FUZZ
@given(st.lists(header_line, max_size=12), st.text(max_size=400),
       st.sampled_from(["\n", "\r\n"]))
def test_header_soup(headers: list[tuple[str, str]], body: str, eol: str) -> None:
    lines = [f"{name}: {value}" for name, value in headers]
    raw = (eol.join(lines) + eol + eol + body).encode("utf-8", "surrogatepass")
    run(raw)


@FUZZ
@given(st.sampled_from(FIXTURE_BYTES), st.data())
def test_mutated_fixtures(raw: bytes, data: st.DataObject) -> None:
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        at = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        if op == "flip" and mutated:
            mutated[at] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del mutated[at:at + data.draw(st.integers(1, 200))]
        elif op == "insert":
            mutated[at:at] = data.draw(st.sampled_from(
                [b"\n", b"\r\n\r\n", b"--dsn\n", b"=?utf-8?b?", b"\x00", b"\xff\xfe", b":",
                 b"Content-Type: multipart/report; boundary=x\n", b"<tl-", b">"]))
        else:
            mutated[at:at] = mutated[max(0, at - 50):at]
    run(bytes(mutated))


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                      st.text(max_size=30))
json_like = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)


@FUZZ
@given(st.dictionaries(st.sampled_from(["raw", "encoding", "uid", "uidvalidity", "mailbox",
                                        "internaldate", "truncated", "x"]), json_like))
def test_random_payloads(payload: dict[str, Any]) -> None:
    with contextlib.suppress(ChannelError):
        check(ADAPTER.normalize(ACCOUNT, payload))


@FUZZ
@given(st.binary(max_size=600))
def test_random_base64_of_bytes_with_internaldate(raw: bytes) -> None:
    payload = {"raw": base64.b64encode(b"From: a@b.example\n" + raw).decode(),
               "internaldate": "05-Mar-2025 10:15:00 +0000"}
    with contextlib.suppress(ChannelError):
        check(ADAPTER.normalize(ACCOUNT, payload))
