"""Outbound mail: a MIME message with threading headers, submitted over SMTP (stdlib smtplib).

The Message-ID is derived from Threadline's outbound message id (tokens.message_id_for), so a
re-send after a crash between the SMTP transaction and the database commit carries the same
Message-ID: receiving clients and our own poller (the echo has `is_self=True` and the same
provider id) see one message, not two.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses

from threadline.channels.base import (
    OutboundMessage,
    PermanentSendError,
    RetryableSendError,
    SendResult,
)
from threadline.channels.email import parsing, tokens
from threadline.channels.email.payloads import EmailConfig
from threadline.channels.media import FileAttachment

MAX_REFERENCES = 20
DEFAULT_SUBJECT = "Your message"


def _one_line(value: object, limit: int = 900) -> str:
    return " ".join(str(value).split())[:limit]


def recipient_of(message: OutboundMessage) -> str:
    pairs = getaddresses([message.recipient or ""])
    addresses = [a.strip() for _, a in pairs if a.strip()]
    if len(addresses) != 1 or not parsing.is_address(addresses[0]):
        raise PermanentSendError(f"not a single email address: {message.recipient!r}"[:300],
                                 code="bad_recipient")
    return addresses[0]


def subject_of(message: OutboundMessage) -> str:
    subject = _one_line(message.options.get("subject") or "", 900) or DEFAULT_SUBJECT
    if message.in_reply_to and not subject.lower().startswith(("re:", "aw:", "sv:")):
        subject = f"Re: {subject}"
    return subject


def references_of(message: OutboundMessage) -> list[str]:
    given = message.options.get("references") or []
    if isinstance(given, str):
        given = [given]
    ids: list[str] = []
    for value in given if isinstance(given, list) else []:
        for mid in parsing.message_ids(str(value)):
            if mid not in ids:
                ids.append(mid)
    parent = parsing.message_ids(message.in_reply_to)
    if parent and (not ids or ids[-1] != parent[0]):
        ids = [i for i in ids if i != parent[0]] + [parent[0]]
    if len(ids) > MAX_REFERENCES:  # keep the root and the most recent ones
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1):]]
    return ids


def build(cfg: EmailConfig, message: OutboundMessage, *, now: datetime | None = None
          ) -> EmailMessage:
    if not cfg.address:
        raise PermanentSendError("the account has no sender address", code="account_misconfigured")
    mail = EmailMessage(policy=policy.SMTP)
    mail["From"] = formataddr((_one_line(cfg.display_name or "", 200), cfg.address))
    mail["To"] = recipient_of(message)
    mail["Subject"] = subject_of(message)
    mail["Date"] = format_datetime(now or datetime.now(UTC))
    mail["Message-ID"] = tokens.message_id_for(cfg, message.message_id)
    parent = parsing.message_ids(message.in_reply_to)
    if parent:
        mail["In-Reply-To"] = parent[0]
    references = references_of(message)
    if references:
        mail["References"] = " ".join(references)
    reply_to = tokens.reply_address_for(cfg, message.message_id)
    if reply_to:
        mail["Reply-To"] = str(Address(display_name=_one_line(cfg.display_name or "", 200),
                                       addr_spec=reply_to))
    token = tokens.token_for(cfg, message.message_id)
    if token:
        mail[tokens.REF_HEADER] = token
    if message.options.get("automatic"):
        mail["Auto-Submitted"] = "auto-replied"  # acknowledgements, surveys (RFC 3834)
        mail["X-Auto-Response-Suppress"] = "All"
    else:
        mail["Auto-Submitted"] = "no"  # an agent wrote it
    text = message.text
    files = [a for a in message.attachments if isinstance(a, FileAttachment) and a.content]
    links = [f"{a.name or a.type}: {a.url}" for a in message.attachments
             if a.url and not (isinstance(a, FileAttachment) and a.content)]
    if links:
        text = text.rstrip() + "\n\n" + "\n".join(links)
    mail.set_content(text)
    html = message.options.get("html")
    if isinstance(html, str) and html.strip():
        mail.add_alternative(html, subtype="html")
    for item in files:  # MIME parts: the message becomes multipart/mixed
        maintype, _, subtype = (item.mime_type or "application/octet-stream").partition("/")
        mail.add_attachment(item.content, maintype=maintype,
                            subtype=subtype or "octet-stream",
                            filename=_one_line(item.name or "attachment", 200))
    return mail


def _error(code: int, detail: bytes | str, what: str) -> RetryableSendError | PermanentSendError:
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    reason = f"SMTP {what} answered {code}: {_one_line(text, 400)}"
    if 400 <= code < 500:
        return RetryableSendError(reason, code=f"smtp_{code}")
    if 500 <= code < 600:
        return PermanentSendError(reason, code=f"smtp_{code}")
    return RetryableSendError(reason, code="smtp_error")


def _connect(cfg: EmailConfig) -> smtplib.SMTP:
    helo = cfg.domain
    if cfg.smtp_ssl:
        return smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, local_hostname=helo,
                                timeout=cfg.timeout, context=ssl.create_default_context())
    server = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, local_hostname=helo,
                          timeout=cfg.timeout)
    if cfg.smtp_starttls:
        server.starttls(context=ssl.create_default_context())
    return server


def send(cfg: EmailConfig, message: OutboundMessage) -> SendResult:
    if not cfg.smtp_host:
        raise PermanentSendError("the account has no smtp_host", code="account_misconfigured")
    try:
        mail = build(cfg, message)
    except (ValueError, TypeError, IndexError) as exc:  # header values the registry refuses
        raise PermanentSendError(f"cannot build the mail: {_one_line(exc, 200)}",
                                 code="bad_message") from None
    envelope_from = cfg.bounce_address or cfg.address
    recipient = str(mail["To"].addresses[0].addr_spec)
    try:
        server = _connect(cfg)
        try:
            login = cfg.smtp_login
            server.ehlo_or_helo_if_needed()
            if login and server.has_extn("auth"):
                server.login(*login)
            server.send_message(mail, from_addr=envelope_from, to_addrs=[recipient])
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
    except smtplib.SMTPRecipientsRefused as exc:
        code, detail = next(iter(exc.recipients.values()), (550, b"recipient refused"))
        raise _error(code, detail, "RCPT") from None
    except smtplib.SMTPAuthenticationError as exc:
        if 400 <= exc.smtp_code < 500:  # 454: temporary authentication failure
            raise _error(exc.smtp_code, exc.smtp_error, "AUTH") from None
        raise PermanentSendError(f"SMTP login failed ({exc.smtp_code})",
                                 code="smtp_auth_failed") from None
    except smtplib.SMTPResponseException as exc:
        raise _error(exc.smtp_code, exc.smtp_error, "server") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentSendError(f"SMTP server lacks a feature: {_one_line(exc, 200)}",
                                 code="smtp_unsupported") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise RetryableSendError(f"SMTP connection failed: {type(exc).__name__}",
                                 code="smtp_unavailable") from None
    return SendResult(provider_id=str(mail["Message-ID"]),
                      meta={"smtp_recipient": recipient})
