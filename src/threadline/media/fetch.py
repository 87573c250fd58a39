"""Inbound media: after a message with attachments is stored, a durable job per attachment
fetches its bytes from the provider (WhatsApp's media id, an email's MIME part) and stores
them (`service.take_in`); the message's attachment entry then names the stored file.

The raw event was stored (and acknowledged) before any of this runs; a download is a job,
retried with backoff (provider URLs that are not there yet, 429, 5xx), idempotent by
(account, provider media id): a second run finds the stored file and only links it. A file
refused (a program, too big) is noted on the attachment entry, never retried.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    AccountConfig,
    Attachment,
    ChannelError,
    PermanentSendError,
    RetryableSendError,
)
from threadline.channels.media import MediaBytes, MediaFetchingAdapter
from threadline.channels.registry import get_adapter
from threadline.conversations.models import Message
from threadline.errors import ThreadlineError
from threadline.events.names import Live
from threadline.events.service import ConversationEvent, audit, enqueue, publish
from threadline.jobs.hooks import ConversationEvents, conversation_hook
from threadline.jobs.registry import Job, RetryLater, handler
from threadline.jobs.runtime import Runtime
from threadline.media import ocr, scanning, service, sniff
from threadline.media.models import MediaFile
from threadline.workspace.models import ChannelAccount

log = logging.getLogger("threadline.media")
FETCH_JOB = "media.fetch"
MEDIA_STAGE = 5  # before automation (10): it only enqueues downloads
NOT_FILES = frozenset({"location", "fallback", "contact", "contacts"})
MAX_ATTACHMENTS = 20  # per message


def needs_fetch(channel: str, item: Any) -> bool:
    if not isinstance(item, dict) or item.get("attachment_id") or item.get("media_error"):
        return False
    if item.get("type") in NOT_FILES or not (item.get("provider_media_id") or item.get("url")):
        return False
    if channel == "email":
        return str(item.get("provider_media_id") or "").startswith("part:")
    try:
        return isinstance(get_adapter(channel), MediaFetchingAdapter)
    except ChannelError:
        return False


@conversation_hook(MEDIA_STAGE, "media")
def queue_downloads(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    for event in batch.of(ConversationEvent.MESSAGE_RECEIVED):
        try:
            message_id = uuid.UUID(str(event.get("message_id")))
        except ValueError:
            continue
        message = session.get(Message, message_id)
        if message is None or message.direction != "inbound":
            continue
        for index, item in enumerate((message.attachments or [])[:MAX_ATTACHMENTS]):
            if needs_fetch(message.channel, item):
                enqueue(session, FETCH_JOB, {"message_id": str(message.id), "index": index},
                        workspace_id=message.workspace_id)


def _attachment(item: dict[str, Any]) -> Attachment:
    return Attachment(type=str(item.get("type") or "file"), url=item.get("url"),
                      mime_type=item.get("mime_type"),
                      provider_media_id=item.get("provider_media_id"), name=item.get("name"))


def media_key(item: dict[str, Any]) -> str:
    """What makes an inbound file unique on its account: the provider's media id (or, for
    channels that give only a URL, the URL without its query)."""
    key = item.get("provider_media_id") or str(item.get("url") or "").split("?", 1)[0]
    return str(key)[:255]


@handler(FETCH_JOB)
def fetch_media(runtime: Runtime, job: Job) -> None:
    message_id, index = uuid.UUID(str(job.payload["message_id"])), int(job.payload["index"])
    with runtime.db.session(write=False) as session:
        message = session.get(Message, message_id)
        if message is None or message.channel_account_id is None:
            return
        items = list(message.attachments or [])
        if index >= len(items) or not needs_fetch(message.channel, items[index]):
            return  # gone, erased, or done by an earlier run
        item = dict(items[index])
        account = session.get(ChannelAccount, message.channel_account_id)
        if account is None:
            return
        workspace_id, account_id, kind = message.workspace_id, account.id, account.kind
        public = message.visibility == "public"
        existing = service.find_inbound(session, workspace_id, account_id, media_key(item))
        config = account_config(account, runtime.settings)
        raw_event = (service.email_event_payload(session, account_id, message.provider_id)
                     if kind == "email" else None)
    got: MediaBytes | None = None
    if existing is None:
        try:
            got = _download(runtime, kind, config, item, raw_event)
        except RetryableSendError as exc:
            if job.attempts < runtime.settings.max_attempts:
                raise RetryLater(exc.redacted(config).message, exc.retry_after) from None
            _note(runtime, message_id, index, f"gave up: {exc.redacted(config).message}")
            return
        except ChannelError as exc:
            _note(runtime, message_id, index, exc.redacted(config).message)
            return
    scanned: scanning.Scanned | None = None
    if got is not None:  # scanned before OCR reads it and outside any transaction
        try:
            scanned = scanning.scan(runtime.settings, got.data)
        except scanning.ScannerUnavailable as exc:
            if job.attempts < runtime.settings.max_attempts:
                raise RetryLater(exc.message) from None
            _note(runtime, message_id, index, f"gave up: {exc.message}")
            return
        except (scanning.FileInfected, scanning.FileNotScannable) as exc:
            _refuse(runtime, message_id, index, exc)
            return
    readable = got is not None and sniff.is_image(sniff.sniff(got.data[:sniff.HEAD_BYTES]))
    found_pii = ocr.personal_data(got.data) if got is not None and public and readable \
        else None
    _store(runtime, message_id, index, kind, item, got, found_pii, scanned)


def _download(runtime: Runtime, kind: str, config: AccountConfig, item: dict[str, Any],
              raw_event: dict[str, Any] | None) -> MediaBytes:
    cap = runtime.settings.media_upload_max_bytes
    if kind == "email":
        if raw_event is None:
            raise PermanentSendError("the stored message is gone", code="media_gone")
        email = get_adapter("email")
        fetch = getattr(email, "media_from_event", None)
        if fetch is None:
            raise PermanentSendError("email media cannot be read", code="unsupported")
        found: MediaBytes = fetch(raw_event, _attachment(item), max_bytes=cap)
        return found
    adapter = get_adapter(kind)
    if not isinstance(adapter, MediaFetchingAdapter):
        raise PermanentSendError(f"{kind} media cannot be fetched", code="unsupported")
    return adapter.fetch_media(config, _attachment(item), runtime.http, max_bytes=cap)


def _store(runtime: Runtime, message_id: uuid.UUID, index: int, kind: str,
           item: dict[str, Any], got: MediaBytes | None,
           found_pii: list[str] | None = None,
           scanned: scanning.Scanned | None = None) -> None:
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.channel_account_id is None:
            return
        items = list(message.attachments or [])
        if index >= len(items) or not needs_fetch(message.channel, items[index]):
            return
        key = media_key(item)
        row = service.find_inbound(session, message.workspace_id, message.channel_account_id,
                                   key)
        if row is None:
            if got is None:
                return
            try:
                row = service.take_in(
                    session, runtime.settings, workspace_id=message.workspace_id,
                    data=got.data, name=got.name or item.get("name"),
                    declared_type=got.mime_type, channel=None, source="inbound",
                    conversation_id=message.conversation_id, message_id=message.id,
                    channel_account_id=message.channel_account_id, provider_media_id=key,
                    scanned=scanned)
            except ThreadlineError as exc:
                items[index] = {**items[index], "media_error": exc.message[:300]}
                message.attachments = items
                log.info("inbound %s attachment refused: %s", kind, exc.code)
                return
        items[index] = {**items[index], **service.describe(row)}
        if found_pii:
            _flag(session, message, row, items[index], found_pii)
        message.attachments = items


def _flag(session: Session, message: Message, row: MediaFile, entry: dict[str, Any],
          types: list[str]) -> None:
    """Personal data read in an image of a public post: the preview is masked (the desktop
    shows no thumbnail until an agent asks), audited, and a private channel suggested."""
    entry["pii"] = types
    entry["masked"] = True
    row.flags = {**(row.flags or {}), "ocr_pii": types}
    audit(session, message.workspace_id, "message.pii_flagged", "message", message.id,
          data={"types": types, "source": "image"})
    publish(session, message.workspace_id, Live.MESSAGE_PII,
            {"conversation_id": str(message.conversation_id), "message_id": str(message.id),
             "suggest_hop": "privacy", "source": "image"})


def _refuse(runtime: Runtime, message_id: uuid.UUID, index: int,
            exc: scanning.FileInfected | scanning.FileNotScannable) -> None:
    """A file the virus scanner refused: the message keeps its entry, marked removed (the
    agent sees why), nothing is stored, and the refusal is audited."""
    if isinstance(exc, scanning.FileInfected):
        mark = {"media_error": f"file removed: infected ({exc.signature})",
                "refused": "infected", "signature": exc.signature}
    else:
        mark = {"media_error": "file removed: too large for the virus scanner",
                "refused": "not_scannable"}
    _mark(runtime, message_id, index, mark, audited=True)


def _note(runtime: Runtime, message_id: uuid.UUID, index: int, reason: str) -> None:
    _mark(runtime, message_id, index, {"media_error": reason[:300]})


def _mark(runtime: Runtime, message_id: uuid.UUID, index: int, mark: dict[str, str], *,
          audited: bool = False) -> None:
    """Add `mark` to the message's attachment entry `index` (what the agent sees of it)."""
    with runtime.db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        items = list(message.attachments or [])
        if index < len(items) and isinstance(items[index], dict):
            items[index] = {**items[index], **mark}
            message.attachments = items
            if audited:
                audit(session, message.workspace_id, "message.attachment_refused", "message",
                      message.id, data={"index": index, "reason": mark["refused"],
                                        **({"signature": mark["signature"]}
                                           if "signature" in mark else {})})
