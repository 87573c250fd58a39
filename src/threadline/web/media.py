"""Serving stored files by signed, expiring URL: `/media/<token>/<name>`.

No cookie or bearer is needed (providers fetch files we send by link); the token names one
file of one workspace and its expiry. Answers carry the sniffed type, `nosniff`, a sandboxing
policy and `Content-Disposition: attachment` for everything but raster images, so an HTML or
SVG file can never render as a page of ours (it is refused on the way in as well).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from threadline.config import Settings
from threadline.errors import Forbidden, NotFound, PayloadTooLarge
from threadline.media import limits, scanning, service, sniff, tokens
from threadline.media.store import BlobMissing
from threadline.web.deps import ReadSession, RuntimeDep

router = APIRouter(tags=["media"], include_in_schema=False)
CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; " \
      "frame-ancestors 'self'"


def disposition(kind: str, name: str) -> str:
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_"
                         for c in name)[:100] or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.api_route("/media/{token}/{name}", methods=["GET", "HEAD"])
@router.api_route("/media/{token}", methods=["GET", "HEAD"])
def serve(token: str, request: Request, session: ReadSession, runtime: RuntimeDep,
          name: str | None = None) -> Response:
    try:
        grant = tokens.verify(runtime.settings, token)
    except tokens.BadMediaToken:
        raise Forbidden("this link is not valid or has expired", code="bad_media_link") from None
    row = service.access_file(session, grant.workspace_id, grant.file_id)
    try:
        data = service.read(runtime.settings, row, variant=grant.variant)
    except BlobMissing:
        raise NotFound("attachment not found") from None
    if grant.variant == "thumb":
        mime, filename = "image/jpeg", "thumbnail.jpg"
    else:
        mime, filename = row.mime_type, row.name
    inline = sniff.is_image(mime)
    media_type = f"{mime}; charset=utf-8" if mime.startswith("text/") else mime
    headers = {
        "content-disposition": disposition("inline" if inline else "attachment", filename),
        "x-content-type-options": "nosniff",
        "content-security-policy": CSP,
        "cache-control": "private, no-store",
        "referrer-policy": "no-referrer",
        "cross-origin-resource-policy": "same-site",
    }
    return Response(content=data, media_type=media_type, headers=headers)


# --- the desktop timeline's links (Jinja globals, desktop/render.py) --------------------------


def media_url(request: Request, message: object, item: object, variant: str = "file") -> str:
    """A short-lived signed path to a message's stored attachment (or its thumbnail)."""
    if not isinstance(item, dict) or not item.get("attachment_id"):
        return ""
    try:
        file_id = uuid.UUID(str(item["attachment_id"]))
    except ValueError:
        return ""
    workspace_id = getattr(message, "workspace_id", None)
    if not isinstance(workspace_id, uuid.UUID):
        return ""
    settings = request.app.state.runtime.settings
    token = tokens.sign(settings, file_id, workspace_id, variant=variant,
                        seconds=settings.media_url_minutes * 60)
    name = "thumbnail.jpg" if variant == "thumb" else str(item.get("name") or "file")
    return f"/media/{token}/{quote(name, safe='')}"


def file_size(size: object) -> str:
    if not isinstance(size, int) or size < 0:
        return ""
    return limits.human_size(size) if size >= 1024 else f"{size} bytes"


# --- the desktop composer's file input --------------------------------------------------------


def composer_upload(form: Any, session: Session, settings: Settings, *,
                    workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                    account_id: uuid.UUID | None, agent_id: str) -> tuple[uuid.UUID, ...]:
    """The file of the composer's `file` input stored for the conversation (checked against
    the reply's channel): its id to send with the reply, or () when no file was chosen."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return ()
    upload.file.seek(0)
    data = upload.file.read(settings.media_upload_max_bytes + 1)  # the handler: a thread
    if not data:
        return ()
    # scanned before the first query: a slow virus scanner never holds the write transaction
    scanned = scanning.scan(settings, data) if len(data) <= settings.media_upload_max_bytes \
        else None
    channel, _ = service.upload_channel(session, workspace_id, conversation_id, account_id)
    channel = channel or "webchat"
    cap = min(settings.media_upload_max_bytes,
              limits.most_bytes(channel, settings.media_limits) or
              settings.media_upload_max_bytes)
    if len(data) > cap:
        raise PayloadTooLarge(f"the file is larger than {limits.human_size(cap)}",
                              code="upload_too_large", details={"max_bytes": cap})
    row = service.take_in(session, settings, workspace_id=workspace_id, data=data,
                          name=upload.filename, declared_type=upload.content_type,
                          channel=channel, source="upload", conversation_id=conversation_id,
                          created_by=agent_id, scanned=scanned)
    return (row.id,)
