"""IMAP polling with UIDVALIDITY/UID idempotency, on the stdlib imaplib
(docs/providers/email.md#imap).

One poll: LOGIN, EXAMINE the mailbox (read-only, so nothing is marked \\Seen), read its
UIDVALIDITY, `UID SEARCH UID <last_uid+1>:*`, then fetch each new message with `BODY.PEEK[]`,
oldest first, at most `poll_batch` per poll. The cursor is {"uidvalidity", "last_uid",
"mailbox"}; when UIDVALIDITY (or the mailbox) changes, the mailbox is read again from UID 1
and the pipeline's dedupe on `msgid:<Message-ID>` drops what it already has.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from pydantic import ValidationError

from threadline.channels.base import JSON, ChannelError, ProviderEvent
from threadline.channels.email import parsing
from threadline.channels.email.payloads import (
    MAX_MESSAGE_BYTES,
    EmailConfig,
    EmailCursor,
    StoredEmail,
)

_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]{1,64})"')


class ImapError(ChannelError):
    """The mailbox could not be read; `retryable` says whether trying later can help."""

    code = "imap_error"

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = True) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def _session(cfg: EmailConfig) -> Iterator[imaplib.IMAP4]:
    if not cfg.imap_host or not cfg.username:
        raise ImapError("imap_host and username are required", code="account_misconfigured",
                        retryable=False)
    context = ssl.create_default_context()
    try:
        if cfg.imap_ssl:
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(cfg.imap_host, cfg.imap_port,
                                                    ssl_context=context, timeout=cfg.timeout)
        else:
            imap = imaplib.IMAP4(cfg.imap_host, cfg.imap_port, timeout=cfg.timeout)
            if cfg.imap_starttls:
                imap.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"cannot reach the IMAP server: {type(exc).__name__}",
                        code="imap_unavailable") from None
    try:
        try:
            imap.login(cfg.username, cfg.password.get_secret_value())
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            raise ImapError("IMAP login failed", code="imap_auth_failed",
                            retryable=False) from None
        yield imap
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise ImapError(f"IMAP connection lost: {type(exc).__name__}",
                        code="imap_unavailable") from None
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"IMAP command failed: {_text(exc)}", code="imap_failed") from None
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


def _text(exc: BaseException) -> str:
    return str(exc)[:300]


def _check(typ: str, data: list[object], what: str) -> None:
    if typ != "OK":
        detail = data[0] if data else b""
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        raise imaplib.IMAP4.error(f"{what}: {typ} {text[:200]}")


def _uidvalidity(imap: imaplib.IMAP4) -> int:
    _, data = imap.response("UIDVALIDITY")
    for item in data:
        if isinstance(item, bytes) and item.strip().isdigit():
            return int(item)
    raise imaplib.IMAP4.error("the server sent no UIDVALIDITY")


def _search_new(imap: imaplib.IMAP4, last_uid: int) -> list[int]:
    typ, data = imap.uid("SEARCH", f"UID {last_uid + 1}:*")
    _check(typ, data, "UID SEARCH")
    uids: set[int] = set()
    for line in data:
        if isinstance(line, bytes):
            uids.update(int(x) for x in line.split() if x.isdigit())
    # "n:*" always matches the highest UID, even when it is below n
    return sorted(u for u in uids if u > last_uid)


def _sizes(imap: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    typ, data = imap.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
    _check(typ, data, "UID FETCH RFC822.SIZE")
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (uid := _UID.search(line)) and (size := _SIZE.search(line)):
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _fetch(imap: imaplib.IMAP4, uid: int, section: str) -> tuple[bytes, str | None] | None:
    typ, data = imap.uid("FETCH", str(uid), f"(UID INTERNALDATE {section})")
    _check(typ, data, "UID FETCH")
    for item in data:
        if not isinstance(item, tuple) or len(item) < 2 or not isinstance(item[1], bytes):
            continue
        meta = item[0] if isinstance(item[0], bytes) else b""
        found = _UID.search(meta)
        if found is not None and int(found.group(1)) != uid:
            continue  # an unsolicited FETCH about another message
        date = _INTERNALDATE.search(meta)
        return item[1], date.group(1).decode("ascii", "replace") if date else None
    return None  # expunged between SEARCH and FETCH


def poll(cfg: EmailConfig, cursor: JSON | None) -> tuple[list[ProviderEvent], JSON]:
    previous: EmailCursor | None = None
    if cursor:
        try:
            previous = EmailCursor.model_validate(cursor)
        except ValidationError:
            previous = None  # an unreadable cursor: re-scan; dedupe makes it safe
    with _session(cfg) as imap:
        typ, data = imap.select(_quote(cfg.mailbox), readonly=True)
        _check(typ, list(data), f"EXAMINE {cfg.mailbox}")
        uidvalidity = _uidvalidity(imap)
        last_uid = 0
        if (previous is not None and previous.uidvalidity == uidvalidity
                and previous.mailbox in (None, cfg.mailbox)):
            last_uid = previous.last_uid
        uids = _search_new(imap, last_uid)[:cfg.poll_batch]
        sizes = _sizes(imap, uids) if uids else {}
        events: list[ProviderEvent] = []
        for uid in uids:
            truncated = sizes.get(uid, 0) > MAX_MESSAGE_BYTES
            fetched = _fetch(imap, uid, "BODY.PEEK[HEADER]" if truncated else "BODY.PEEK[]")
            if fetched is None:
                continue
            raw, internaldate = fetched
            stored = StoredEmail.from_bytes(raw, mailbox=cfg.mailbox, uidvalidity=uidvalidity,
                                            uid=uid, internaldate=internaldate,
                                            truncated=truncated)
            key = parsing.event_key_of(raw)
            events.append(ProviderEvent(key, stored.model_dump(mode="json", exclude_none=True)))
        next_cursor = EmailCursor(uidvalidity=uidvalidity, last_uid=max([last_uid, *uids]),
                                  mailbox=cfg.mailbox)
    return events, next_cursor.model_dump(mode="json")
