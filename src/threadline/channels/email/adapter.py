"""The email channel: IMAP polling in, SMTP out, threading by headers plus a reply token.

Inbound is pulled (`poll`, a PollingAdapter): there is no webhook, so `verify` refuses every
request and `split` reads nothing. Each fetched mail is one ProviderEvent keyed
`msgid:<Message-ID>` (or `hash:<sha256>` without one); `normalize` reads the raw message.
Outbound is `send` over SMTP. See README.md for dedupe, loop prevention and crash recovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    Author,
    BaseAdapter,
    ChannelError,
    ChannelTraits,
    InboundMessage,
    MessageKind,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderEvent,
    SendContext,
    SendPolicyError,
    SendResult,
    SignatureError,
    StatusUpdate,
    UrlPolicy,
    Visibility,
    WebhookRequest,
    check_common_policy,
    refuse_unsafe,
)
from threadline.channels.email import imap, parsing, reports, smtp, tokens
from threadline.channels.email.payloads import EmailConfig, StoredEmail
from threadline.channels.media import MediaBytes
from threadline.channels.urls import check_host

MAX_TEXT = 100_000


def config_of(account: AccountConfig) -> EmailConfig:
    try:
        return EmailConfig.model_validate(dict(account.config))
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0].get("loc", ()))
        raise ChannelError(f"invalid email account config at {where or 'config'}",
                           code="account_misconfigured") from None


class EmailAdapter(BaseAdapter):
    kind: ClassVar[str] = "email"
    traits: ClassVar[ChannelTraits] = ChannelTraits(public=False, private=True, realtime=False,
                                                    identity_kind="email")
    # A re-send carries the same Message-ID (derived from our message id): see README.
    resend_is_idempotent: ClassVar[bool] = True

    def check_config(self, config: Mapping[str, Any], policy: UrlPolicy) -> None:
        """The mail servers must not be loopback or private hosts (unless trusted)."""
        for key in ("imap_host", "smtp_host"):
            if config.get(key):
                refuse_unsafe(check_host, config[key], policy)

    # --- inbound ----------------------------------------------------------------------------

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        raise SignatureError("the email channel has no webhook; mail is polled over IMAP",
                             code="no_webhook")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        raise PayloadError("the email channel has no webhook; mail is polled over IMAP",
                           code="no_webhook")

    def poll(self, account: AccountConfig, cursor: JSON | None,
             http: httpx.Client) -> tuple[list[ProviderEvent], JSON]:
        """New mail since `cursor` ({"uidvalidity", "last_uid", "mailbox"}). `http` is unused."""
        cfg = config_of(account)
        if cfg.imap_host:
            refuse_unsafe(check_host, cfg.imap_host, account.urls)
        return imap.poll(cfg, cursor)

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        cfg = config_of(account)
        try:
            stored = StoredEmail.model_validate(payload)
            raw = stored.raw_bytes()
        except (ValidationError, ValueError):
            raise PayloadError("not a stored email event (raw, encoding, uid...)") from None
        if not raw.strip():
            raise PayloadError("the message is empty", code="empty_email")
        try:
            return _normalize(cfg, stored, raw)
        except ChannelError:
            raise
        except Exception as exc:  # a last guard: the email package raises many types
            raise PayloadError(f"unreadable email ({type(exc).__name__})",
                               code="unreadable_email") from None

    # --- outbound ---------------------------------------------------------------------------

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        check_common_policy(self.traits, message, context)
        if not message.recipient or "@" not in message.recipient:
            raise SendPolicyError("an email needs a recipient address", code="no_recipient",
                                  allowed=["a customer email address"])

    def media_from_event(self, payload: JSON, attachment: Attachment, *,
                         max_bytes: int) -> MediaBytes:
        """An inbound attachment's bytes from the stored raw message (`part:<path>`)."""
        path = (attachment.provider_media_id or "").removeprefix("part:")
        try:
            raw = StoredEmail.model_validate(payload).raw_bytes()
            found = parsing.part_bytes(raw, path)
        except Exception:  # the email package raises many types on hostile input
            found = None
        if found is None:
            raise PermanentSendError("the attachment is not in the stored message",
                                     code="media_gone")
        data, mime, name = found
        if len(data) > max_bytes:
            raise PermanentSendError(f"the file is larger than {max_bytes} bytes",
                                     code="media_too_large")
        return MediaBytes(data=data, mime_type=mime, name=name)

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        """SMTP submission; `http` is unused. 4xx/connection errors retry, 5xx are final."""
        try:
            cfg = config_of(account)
        except ChannelError as exc:
            raise PermanentSendError(exc.message, code=exc.code) from None
        if cfg.smtp_host:
            refuse_unsafe(check_host, cfg.smtp_host, account.urls)
        return smtp.send(cfg, message)


def _created_at(msg: EmailMessage, stored: StoredEmail) -> datetime:
    created = parsing.parse_date(parsing.header(msg, "Date"))
    if created is None and stored.internaldate:
        try:  # INTERNALDATE: "23-Nov-2025 19:18:06 +0000"
            created = datetime.strptime(stored.internaldate, "%d-%b-%Y %H:%M:%S %z")
        except ValueError:
            created = None
    for received in parsing.headers(msg, "Received") if created is None else []:
        _, _, when = received.rpartition(";")
        created = parsing.parse_date(when.strip())
        if created is not None:
            break
    if created is None:
        raise PayloadError("the message has no readable Date", code="no_date")
    return created.astimezone(UTC)


def _normalize(cfg: EmailConfig, stored: StoredEmail, raw: bytes) -> list[NormalizedItem]:
    msg = parsing.parse(raw)
    report = reports.read_report(msg, cfg, raw)
    if report is not None:
        if report.state is None or not report.original_id:
            return []  # a delay notice, or a report about mail that is not ours
        try:
            at = _created_at(msg, stored)
        except PayloadError:
            at = datetime.now(UTC)  # a report without any date: it arrived just now
        return [StatusUpdate(provider_id=report.original_id, state=report.state, at=at,
                             error=report.error)]
    senders = parsing.addresses(msg, "From") or parsing.addresses(msg, "Sender")
    if not senders:
        raise PayloadError("the message has no From address", code="no_sender")
    display, address = senders[0]
    created_at = _created_at(msg, stored)
    key = parsing.event_key(msg, raw)
    provider_id = parsing.message_id(msg) or key
    in_reply_to = next(iter(parsing.message_ids(parsing.header(msg, "In-Reply-To"))), None)
    references = tuple(parsing.message_ids(" ".join(parsing.headers(msg, "References"))))
    plain, html, used = parsing.bodies(msg)
    text = plain if plain is not None else parsing.html_to_text(html or "")
    text, trimmed = parsing.strip_quoted(text)
    recipients = [a for _, a in parsing.addresses(
        msg, "To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")]
    link_token = tokens.link_token_from(
        cfg, recipients=recipients, in_reply_to=in_reply_to, references=references,
        ref_headers=parsing.headers(msg, tokens.REF_HEADER))
    signals = reports.loop_signals(msg, cfg)
    meta: JSON = {"to": recipients[:50], "auto_reply": bool(signals)}
    if signals:
        meta["auto_reply_signals"] = signals
    if trimmed:
        meta["quoted_text_removed"] = True
    if stored.truncated:
        meta["truncated"] = True
    if stored.uid is not None:
        meta["imap"] = {"mailbox": stored.mailbox, "uidvalidity": stored.uidvalidity,
                        "uid": stored.uid}
    subject = parsing.header(msg, "Subject")
    return [InboundMessage(
        provider_id=provider_id,
        author=Author(identity_kind="email", provider_user_id=address, handle=address,
                      display_name=display or None, is_self=address in cfg.own_addresses),
        visibility=Visibility.PRIVATE,
        text=text[:MAX_TEXT],
        created_at=created_at,
        kind=MessageKind.MESSAGE,
        in_reply_to=in_reply_to,
        references=references,
        root_provider_id=references[0] if references else in_reply_to,
        thread_key=None,
        link_token=link_token,
        html=html,
        subject=subject[:998] if subject else None,
        attachments=tuple(parsing.attachments(msg, used)),
        meta=meta,
    )]

