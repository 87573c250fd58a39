"""Media use cases: take in a file (sniff, check, clean, thumbnail, store), find one for a
workspace, sign its URLs, and describe it on a message. Functions take a session and never
commit; the bytes are written to the blob store before the row (an orphan blob after a
rollback is harmless: it is content-addressed and found again by the next identical file).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.channels.base import Attachment
from threadline.channels.media import FileAttachment
from threadline.config import Settings
from threadline.conversations.service import access_conversation
from threadline.errors import NotFound, PayloadTooLarge, ValidationFailed
from threadline.events.models import InboundEvent
from threadline.media import images, limits, scanning, sniff, tokens
from threadline.media.models import MediaFile
from threadline.media.store import BlobStore, blob_key, sha256, store_for
from threadline.workspace.models import ChannelAccount

# Never stored or served, whatever the channel: script-carrying markup and programs.
REFUSED_ALWAYS = frozenset({"text/html", "image/svg+xml", sniff.UNKNOWN}) | sniff.EXECUTABLES
MAX_NAME = 120
_UNSAFE_NAME = re.compile(r"[^\w.\- ()+,@]+", re.UNICODE)


def refused(exc: limits.MediaRefused) -> ValidationFailed | PayloadTooLarge:
    details: dict[str, Any] = {"allowed": exc.allowed}
    if exc.channel:
        details["channel"] = exc.channel
    if exc.status == 413:
        return PayloadTooLarge(exc.message, code=exc.code, details=details)
    return ValidationFailed(exc.message, code=exc.code, details=details)


def safe_name(name: str | None, mime: str) -> str:
    """The original name without any path, control or odd characters, at most 120
    characters, ending in the extension of the sniffed type (a `.jpg` that is a PDF is
    renamed `.pdf`)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    ext = sniff.extension(mime)
    stem, dot, current = base.rpartition(".")
    if not dot:
        stem, current = base, ""
    if current.lower() != ext and not (ext == "jpg" and current.lower() == "jpeg"):
        stem = base
    else:
        ext = current
    stem = (stem or "file")[:MAX_NAME - len(ext) - 1].strip(" .") or "file"
    return f"{stem}.{ext}"


def take_in(session: Session, settings: Settings, *, workspace_id: uuid.UUID, data: bytes,
            name: str | None, declared_type: str | None, channel: str | None, source: str,
            conversation_id: uuid.UUID | None = None, message_id: uuid.UUID | None = None,
            channel_account_id: uuid.UUID | None = None, provider_media_id: str | None = None,
            created_by: str | None = None, store: BlobStore | None = None,
            scanned: scanning.Scanned | None = None) -> MediaFile:
    """Store one file for a workspace. `channel` is whose limits apply (None: inbound, any
    file we keep). Refusals are typed (ValidationFailed naming the limit, PayloadTooLarge).
    With virus scanning configured the bytes are scanned before anything is stored (not
    again when `scanned` proves these bytes clean): FileInfected, ScannerUnavailable."""
    mime = sniff.sniff(data[:sniff.HEAD_BYTES])
    if mime in REFUSED_ALWAYS:
        what = ("a program" if mime in sniff.EXECUTABLES else
                "markup that can carry script" if mime != sniff.UNKNOWN else
                "of no type we take")
        raise ValidationFailed(f"this file is {what} ({mime}); it is not accepted whatever "
                               "its name says", code="media_type_refused",
                               details={"sniffed": mime, **({"channel": channel}
                                                            if channel else {})})
    try:
        slot = limits.check(channel, mime, len(data), settings.media_limits)
    except limits.MediaRefused as exc:
        raise refused(exc) from None
    scanning.ensure_clean(settings, data, scanned)
    store = store or store_for(settings)
    thumb_key = None
    width = height = None
    if sniff.is_image(mime):
        try:
            data = images.clean(data, mime, max_pixels=settings.media_max_image_pixels)
            thumb, width, height = images.thumbnail(
                data, max_pixels=settings.media_max_image_pixels)
        except images.BadImage as exc:
            raise ValidationFailed(f"the image cannot be used: {exc}",
                                   code="media_unreadable") from None
        thumb_key = blob_key(sha256(thumb), folder="thumbs")
        store.put(thumb_key, thumb, "image/jpeg")
    digest = sha256(data)
    key = blob_key(digest)
    store.put(key, data, mime)
    row = MediaFile(workspace_id=workspace_id, conversation_id=conversation_id,
                    message_id=message_id, channel_account_id=channel_account_id,
                    provider_media_id=provider_media_id, source=source, sha256=digest,
                    mime_type=mime, declared_type=(declared_type or None) and
                    declared_type[:255], kind=slot.kind, size=len(data),
                    name=safe_name(name, mime), storage_key=key, thumbnail_key=thumb_key,
                    width=width, height=height,
                    flags={"checked_for": channel} if channel else {}, created_by=created_by)
    session.add(row)
    session.flush()
    return row


def find_inbound(session: Session, workspace_id: uuid.UUID, channel_account_id: uuid.UUID,
                 provider_media_id: str) -> MediaFile | None:
    return session.scalar(select(MediaFile).where(
        MediaFile.workspace_id == workspace_id,
        MediaFile.channel_account_id == channel_account_id,
        MediaFile.provider_media_id == provider_media_id))


def access_file(session: Session, workspace_id: uuid.UUID, file_id: uuid.UUID) -> MediaFile:
    """A workspace's file, or NotFound (another workspace's id looks like no id at all)."""
    row = session.get(MediaFile, file_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound("attachment not found")
    return row


def access_upload(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                  file_id: uuid.UUID) -> MediaFile:
    """A file uploaded for this conversation (and not yet sent with another message)."""
    row = access_file(session, workspace_id, file_id)
    if row.conversation_id != conversation_id or row.source != "upload":
        raise NotFound("attachment not found")
    return row



def files_by_id(session: Session, workspace_id: uuid.UUID,
                ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, MediaFile]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(MediaFile).where(MediaFile.workspace_id == workspace_id,
                                                   MediaFile.id.in_(wanted)))
    return {r.id: r for r in rows}


def read(settings: Settings, row: MediaFile, *, variant: str = "file") -> bytes:
    key = row.thumbnail_key if variant == "thumb" else row.storage_key
    if key is None:
        raise NotFound("this attachment has no thumbnail")
    return store_for(settings).get(key)


# --- URLs -------------------------------------------------------------------------------------


def url_path(settings: Settings, row: MediaFile, *, variant: str = "file",
             seconds: float | None = None) -> str:
    """The signed path agents open (`/media/<token>/<name>`), short-lived."""
    token = tokens.sign(settings, row.id, row.workspace_id, variant=variant,
                        seconds=seconds if seconds is not None
                        else settings.media_url_minutes * 60)
    name = row.name if variant == "file" else "thumbnail.jpg"
    return f"/media/{token}/{_url_name(name)}"


def public_url(settings: Settings, row: MediaFile) -> str:
    """The signed URL a provider fetches a file we send by link (under `public_url`)."""
    base = (settings.public_url or "").rstrip("/")
    return base + url_path(settings, row, seconds=settings.media_provider_url_hours * 3600)


def _url_name(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


# --- messages ---------------------------------------------------------------------------------


def describe(row: MediaFile) -> dict[str, Any]:
    """What a message's `attachments` list holds for a stored file."""
    return {"attachment_id": str(row.id), "type": row.kind, "mime_type": row.mime_type,
            "name": row.name, "size": row.size, "thumbnail": row.thumbnail_key is not None,
            "width": row.width, "height": row.height}


def attachment_ids(items: Sequence[Any]) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    for item in items:
        if isinstance(item, dict) and item.get("attachment_id"):
            try:
                found.append(uuid.UUID(str(item["attachment_id"])))
            except ValueError:
                continue
    return found


def upload_channel(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                   channel_account_id: uuid.UUID | None) -> tuple[str | None, uuid.UUID | None]:
    """The channel kind (and account) whose limits an upload for this conversation meets:
    the account named, else the one the conversation came in on (None: web chat's)."""
    conv = access_conversation(session, workspace_id, conversation_id)
    account_id = channel_account_id or conv.origin_account_id
    if account_id is None:
        return None, None
    account = session.get(ChannelAccount, account_id)
    if account is None or account.workspace_id != workspace_id:
        raise NotFound("channel account not found")
    return account.kind, account.id


def email_event_payload(session: Session, channel_account_id: uuid.UUID,
                        provider_id: str | None) -> dict[str, Any] | None:
    """The stored raw event of an inbound email (its attachments are MIME parts in it)."""
    if not provider_id:
        return None
    keys = [provider_id] if provider_id.startswith("hash:") else [f"msgid:{provider_id}"]
    payload = session.scalar(select(InboundEvent.payload).where(
        InboundEvent.channel_account_id == channel_account_id,
        InboundEvent.provider_event_id.in_(keys)))
    return payload if isinstance(payload, dict) and payload else None


def for_reply(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
              ids: Sequence[uuid.UUID], channel: str) -> list[MediaFile]:
    """The uploads a reply sends, checked: this conversation's, not yet sent, and taken by
    the reply's channel (checked again unless the upload was checked for that channel, with
    the operator's overrides)."""
    if len(set(ids)) != len(ids):
        raise ValidationFailed("an attachment is named twice", code="duplicate_attachment",
                               details={"field": "attachment_ids"})
    rows = [access_upload(session, workspace_id, conversation_id, i) for i in ids]
    for row in rows:
        if row.message_id is not None:
            raise ValidationFailed("this attachment was already sent with a message",
                                   code="attachment_used", details={"field": "attachment_ids"})
        if (row.flags or {}).get("checked_for") != channel:
            try:
                limits.check(channel, row.mime_type, row.size)
            except limits.MediaRefused as exc:
                raise refused(exc) from None
    return rows


CHANNEL_TYPES = {"image": "image", "video": "video", "audio": "audio", "sticker": "image"}
# Channels that take the bytes (MIME parts, multipart uploads) rather than a link.
BYTES_CHANNELS = frozenset({"email", "telegram"})


def placeholder(row: MediaFile) -> Attachment:
    """The attachment as the channel's policy check sees it before it is sent (the signed
    link is made by the sender, which knows the public URL)."""
    return Attachment(type=CHANNEL_TYPES.get(row.kind, "file"), mime_type=row.mime_type,
                      url=f"https://media.invalid/{row.id}", name=row.name, size=row.size)


def outbound(session: Session, settings: Settings, workspace_id: uuid.UUID,
             items: Sequence[Any], *, with_bytes: bool) -> tuple[Attachment, ...]:
    """A stored message's attachments as the adapter sends them: the signed public link,
    and the bytes for channels that upload or embed the file."""
    rows = files_by_id(session, workspace_id, attachment_ids(items))
    found: list[Attachment] = []
    for file_id in attachment_ids(items):
        row = rows.get(file_id)
        if row is None:
            raise NotFound("an attachment of this message is gone")
        found.append(FileAttachment(
            type=CHANNEL_TYPES.get(row.kind, "file"), mime_type=row.mime_type,
            url=public_url(settings, row) if settings.public_url else None, name=row.name,
            size=row.size, content=read(settings, row) if with_bytes else b""))
    return tuple(found)


def needs_bytes(channel: str, settings: Settings) -> bool:
    """Whether the sender loads the bytes: channels that upload or embed files, and WhatsApp
    when there is no public URL for it to fetch from (upload mode)."""
    return channel in BYTES_CHANNELS or (channel == "whatsapp" and not settings.public_url)
