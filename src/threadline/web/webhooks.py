"""Provider webhooks: /webhooks/{kind}/{account_id} (GET handshakes, POST events)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from threadline.channels.base import WebhookRequest
from threadline.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from threadline.ingest import service as ingest
from threadline.jobs.runtime import Runtime
from threadline.web.contract import Responses, errors
from threadline.web.deps import get_runtime

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

ACCEPTED_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain")


async def _read(request: Request, limit: int) -> WebhookRequest:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"body over {limit} bytes")
    url = str(request.url)
    runtime: Runtime = request.app.state.runtime
    if runtime.settings.public_url:
        url = runtime.settings.public_url.rstrip("/") + request.url.path + (
            f"?{request.url.query}" if request.url.query else "")
    return WebhookRequest(method=request.method, url=url,
                          headers={k.lower(): v for k, v in request.headers.items()},
                          query=dict(request.query_params), body=bytes(body))


# What the provider is answered is the channel's own business (a challenge echoed as text, an
# empty 200, a JSON ack): any content type. Errors: unknown account (404), bad signature (401),
# a body the channel cannot read (400).
ACK = {"description": "The channel's acknowledgement", "content": {"*/*": {}}}


def _responses(*raised: type[Exception]) -> Responses:
    out = errors(BadRequest, NotFound, Unauthorized, PayloadTooLarge, auth=False)
    if UnsupportedMediaType in raised:
        out.update(errors(UnsupportedMediaType, auth=False))
    return out


@router.get("/{kind}/{account_id}", responses={200: ACK, **_responses()})
async def webhook_handshake(kind: str, account_id: str, request: Request,
                            runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    req = await _read(request, runtime.settings.max_webhook_body_bytes)

    def run() -> Response:
        with runtime.db.session(write=False) as session:
            answer = ingest.handshake(session, kind, account_id, req)
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    return await run_in_threadpool(run)


@router.post("/{kind}/{account_id}", responses={200: ACK, **_responses(UnsupportedMediaType)})
async def webhook_event(kind: str, account_id: str, request: Request,
                        runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(f"content type {ctype or 'none'!r} is not accepted",
                                   details={"accepted": list(ACCEPTED_TYPES)})
    req = await _read(request, runtime.settings.max_webhook_body_bytes)

    def run() -> Response:
        # Store, commit, then acknowledge: the 2xx goes out only after the commit.
        with runtime.db.session() as session:
            result = ingest.receive(session, kind, account_id, req)
        answer = result.response
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    return await run_in_threadpool(run)
