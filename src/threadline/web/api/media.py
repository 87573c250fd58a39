"""Attachments in the API: upload a file for a conversation (then send it with a message's
`attachment_ids`), read one's facts and signed URL.

The byte cap is enforced while the body streams in (413 past it, before it is all read);
the type is sniffed from the bytes and checked against the channel's limits (a typed 422
naming the limit: a 30 MB video on WhatsApp, a program named .jpg).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.requests import Request as StarletteRequest
from starlette.types import Message

from threadline.errors import NotFound, PayloadTooLarge, ValidationFailed
from threadline.jobs.runtime import Runtime
from threadline.media import limits, service
from threadline.media.models import MediaFile
from threadline.web.contract import errors
from threadline.web.deps import Principal, RuntimeDep, WriteSession, current_principal

router = APIRouter(tags=["media"])
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file


class AttachmentOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID | None
    type: str
    mime_type: str
    name: str
    size: int
    width: int | None = None
    height: int | None = None
    url: str
    thumbnail_url: str | None = None


def attachment_out(runtime: Runtime, row: MediaFile) -> AttachmentOut:
    settings = runtime.settings
    return AttachmentOut(
        id=row.id, conversation_id=row.conversation_id, type=row.kind,
        mime_type=row.mime_type, name=row.name, size=row.size, width=row.width,
        height=row.height, url=service.url_path(settings, row),
        thumbnail_url=service.url_path(settings, row, variant="thumb")
        if row.thumbnail_key else None)


async def capped_form(request: Request, cap: int) -> Any:
    """The multipart form, read with at most `cap` body bytes (413 as soon as more come)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(f"the upload is larger than {limits.human_size(cap)}",
                              code="upload_too_large", details={"max_bytes": cap})
    received = 0
    receive = request.receive

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise PayloadTooLarge(f"the upload is larger than {limits.human_size(cap)}",
                                      code="upload_too_large", details={"max_bytes": cap})
        return message

    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ValidationFailed("send the file as multipart/form-data in the field `file`",
                               code="not_multipart", details={"field": "file"})
    return await StarletteRequest(request.scope, counted).form(max_files=1, max_fields=4,
                                                               max_part_size=4096)


@router.post("/conversations/{conversation_id}/attachments", status_code=201,
             response_model=AttachmentOut,
             responses=errors(NotFound, PayloadTooLarge))
async def upload(conversation_id: uuid.UUID, request: Request,
                 principal: Annotated[Principal, Depends(current_principal)],
                 runtime: RuntimeDep) -> AttachmentOut:
    """Upload one file (multipart field `file`; optional `channel_account_id`: whose limits
    apply, default the account the conversation came in on). Send it with a message's
    `attachment_ids`."""
    # A coroutine, to count the body's bytes as they stream in; its database work and the
    # file's processing run in the thread pool, never on the event loop.
    settings = runtime.settings
    raw_account = request.query_params.get("channel_account_id")
    try:
        account_id = uuid.UUID(raw_account) if raw_account else None
    except ValueError:
        raise ValidationFailed("channel_account_id: not a UUID", code="validation_failed",
                               details={"field": "channel_account_id"}) from None

    def channel_of() -> str:
        with runtime.db.session(write=False) as session:
            channel, _ = service.upload_channel(session, principal.workspace_id,
                                                conversation_id, account_id)
        return channel or "webchat"

    channel = await run_in_threadpool(channel_of)
    cap = min(settings.media_upload_max_bytes,
              limits.most_bytes(channel, settings.media_limits) or
              settings.media_upload_max_bytes)
    form = await capped_form(request, cap + MULTIPART_SLACK)
    try:
        upload_file = form.get("file")
        if not isinstance(upload_file, UploadFile):
            raise ValidationFailed("the field `file` is missing", code="validation_failed",
                                   details={"field": "file"})
        data = await upload_file.read(cap + 1)
        if len(data) > cap:
            raise PayloadTooLarge(f"the file is larger than {limits.human_size(cap)}",
                                  code="upload_too_large", details={"max_bytes": cap})
        if not data:
            raise ValidationFailed("the file is empty", code="empty_file",
                                   details={"field": "file"})

        def store() -> AttachmentOut:
            with runtime.db.session() as session:
                row = service.take_in(
                    session, settings, workspace_id=principal.workspace_id, data=data,
                    name=upload_file.filename, declared_type=upload_file.content_type,
                    channel=channel, source="upload", conversation_id=conversation_id,
                    channel_account_id=None, created_by=principal.actor.id)
            return attachment_out(runtime, row)

        return await run_in_threadpool(store)
    finally:
        await form.close()


@router.get("/attachments/{attachment_id}", response_model=AttachmentOut,
            responses=errors(NotFound))
def get_attachment(attachment_id: uuid.UUID,
                   principal: Annotated[Principal, Depends(current_principal)],
                   session: WriteSession, runtime: RuntimeDep) -> AttachmentOut:
    """An attachment's facts and short-lived signed URLs (the file, its thumbnail)."""
    return attachment_out(runtime, service.access_file(session, principal.workspace_id,
                                                       attachment_id))
