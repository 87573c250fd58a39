"""Loop prevention and delivery/read reports (docs/providers/email.md#loop-prevention,
docs/providers/email.md#bounces).

`loop_signals` lists every reason a message must never be answered automatically.
`read_report` reads a DSN (multipart/report; report-type=delivery-status), an MDN
(report-type=disposition-notification) or, heuristically, a non-standard bounce from
MAILER-DAEMON / postmaster, and finds the Message-ID of our original mail in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import HeaderParser

from threadline.channels.base import DeliveryState
from threadline.channels.email import parsing, tokens
from threadline.channels.email.payloads import EmailConfig

_DAEMONS = ("mailer-daemon", "postmaster")
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe")
_VENDOR_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned to sender|delivery (status notification|failure|has failed)|"
    r"failure notice|mail delivery failed|non[- ]?delivery", re.IGNORECASE)


def _is_daemon(address: str) -> bool:
    local = address.rpartition("@")[0].lower()
    return local.startswith(_DAEMONS)


def loop_signals(msg: Message, cfg: EmailConfig) -> list[str]:
    """Why this message must not get an automatic answer (empty: a human wrote it)."""
    signals: list[str] = []
    auto = parsing.header(msg, "Auto-Submitted")
    if auto is not None and auto.split(";")[0].strip().lower() not in ("", "no"):
        signals.append(f"auto-submitted:{auto.split(';')[0].strip().lower()[:40]}")
    return_path = parsing.header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        signals.append("null-sender")
    senders = [a for _, a in parsing.addresses(msg, "From", "Sender")]
    if any(_is_daemon(a) for a in senders):
        signals.append("mailer-daemon")
    if any(a in cfg.own_addresses for a in senders):
        signals.append("own-address")
    precedence = (parsing.header(msg, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        signals.append(f"precedence:{precedence}")
    if any(parsing.header(msg, name) is not None for name in _LIST_HEADERS):
        signals.append("mailing-list")
    for name in _VENDOR_HEADERS:
        if parsing.header(msg, name) is not None:
            signals.append(name.lower())
    if msg.get_content_type() == "multipart/report":
        signals.append("multipart/report")
    return signals


@dataclass(frozen=True)
class Report:
    """A delivery or read report about one of our outbound mails."""

    original_id: str | None  # Message-ID of our mail, with angle brackets
    state: DeliveryState | None  # None: nothing to record (a delay, an unknown action)
    error: str | None = None


def _original_ids(msg: Message, cfg: EmailConfig, raw: bytes) -> list[str]:
    ids: list[str] = []
    for path, part in parsing.leaves(msg):
        del path
        ctype = part.get_content_type()
        original: Message | None = None
        if ctype == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                original = payload[0]
        elif ctype == "text/rfc822-headers":
            text = parsing._content(part)
            original = HeaderParser(policy=policy.default).parsestr(text, headersonly=True)
        if original is not None:
            ids.extend(parsing.message_ids(parsing.header(original, "Message-ID")))
    raw_text = parsing.clean(raw.decode("utf-8", "replace")) if not ids else ""
    return ids + tokens.our_message_ids_in(cfg, raw_text)


def _delivery_fields(msg: Message) -> list[Message]:
    blocks: list[Message] = []
    for _, part in parsing.leaves(msg):
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks.extend(b for b in payload if isinstance(b, Message))
    return blocks


def _dsn(msg: Message, cfg: EmailConfig, raw: bytes) -> Report:
    ids = _original_ids(msg, cfg, raw)
    action = status = diagnostic = recipient = None
    for block in _delivery_fields(msg):
        block_action = (parsing.header(block, "Action") or "").strip().lower()
        if not block_action:
            continue
        if action is None or block_action == "failed":
            action = block_action
            status = (parsing.header(block, "Status") or "").strip()
            diagnostic = parsing.header(block, "Diagnostic-Code")
            recipient = parsing.header(block, "Final-Recipient")
    state: DeliveryState | None = None
    if action == "failed" or (action is None and status and status.startswith("5")):
        state = DeliveryState.FAILED
    elif action in ("delivered", "relayed", "expanded"):
        state = DeliveryState.DELIVERED
    error = None
    if state is DeliveryState.FAILED:
        parts = [p for p in (status, diagnostic, recipient and f"recipient {recipient}") if p]
        error = ("; ".join(parts) or "delivery failed")[:500]
    return Report(original_id=ids[0] if ids else None, state=state, error=error)


def _mdn(msg: Message) -> Report:
    original = disposition = None
    for _, part in parsing.leaves(msg):
        if part.get_content_type() == "message/disposition-notification":
            payload = part.get_payload()
            fields = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(fields, Message):
                ids = parsing.message_ids(parsing.header(fields, "Original-Message-ID"))
                original = ids[0] if ids else None
                disposition = (parsing.header(fields, "Disposition") or "").lower()
    state = DeliveryState.READ if disposition and "displayed" in disposition else None
    return Report(original_id=original, state=state)


def read_report(msg: Message, cfg: EmailConfig, raw: bytes) -> Report | None:
    """A Report when `msg` is a DSN, an MDN or a recognisable bounce; None for other mail."""
    if msg.get_content_type() == "multipart/report":
        report_type = (msg.get_param("report-type") or "")
        report_type = report_type.lower() if isinstance(report_type, str) else ""
        if report_type == "disposition-notification":
            return _mdn(msg)
        return _dsn(msg, cfg, raw)
    senders = [a for _, a in parsing.addresses(msg, "From", "Sender")]
    subject = parsing.header(msg, "Subject") or ""
    daemon = any(_is_daemon(a) for a in senders)
    null_sender = (parsing.header(msg, "Return-Path") or "x").strip() == "<>"
    if daemon or (null_sender and _BOUNCE_SUBJECT.search(subject)):
        ids = _original_ids(msg, cfg, raw)
        error = f"bounce: {subject}"[:500] if subject else "bounce"
        return Report(original_id=ids[0] if ids else None, state=DeliveryState.FAILED,
                      error=error)
    return None
