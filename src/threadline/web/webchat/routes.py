"""Web chat endpoints: the visitor's browser is the "provider".

    GET  /webchat/widget.js, /webchat/widget.css   the embeddable widget (served here, no CDN)
    GET  /webchat/{account_id}                     the standalone full-page chat (short links)
    POST /webchat/{account_id}/session             visitor token (+ entry form, HMAC identity)
    POST /webchat/{account_id}/messages            a visitor message -> durable ingest, 202
    POST /webchat/{account_id}/read                a read receipt for an agent message
    POST /webchat/{account_id}/surveys/{survey_id} the visitor's rating of a CSAT survey
    GET  /webchat/{account_id}/history             what this visitor may see (+ link context)
    GET  /webchat/{account_id}/stream              the same, live (server-sent events)
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from threadline.channels.webchat.payloads import (
    WebchatEnvelope,
    WebchatMessage,
    WebchatRead,
    WebchatVisitor,
)
from threadline.csat.answers import Gone, answer_in_chat
from threadline.db.base import utcnow
from threadline.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ThreadlineError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from threadline.events.service import audit
from threadline.jobs.runtime import Runtime
from threadline.web.contract import RAW_BODY, Responses, errors
from threadline.web.limits import rate_limit, rate_limit_client
from threadline.web.security_headers import frame_ancestors, page_headers, policy
from threadline.web.webchat import stream
from threadline.web.webchat.guard import (
    WebchatRoute,
    check_origin,
    preflight_headers,
    read_json_body,
)
from threadline.web.webchat.schemas import (
    HistoryOut,
    MessageAccepted,
    MessageIn,
    RatingIn,
    RatingRecorded,
    ReadAccepted,
    ReadIn,
    SessionIn,
    SessionOut,
)
from threadline.webchat import service, tokens
from threadline.webchat.tokens import Visitor

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
M = TypeVar("M", bound=BaseModel)
router = APIRouter(prefix="/webchat", tags=["webchat"], route_class=WebchatRoute)

DEFAULT_LIMITS = {"messages_per_minute": 30, "sessions_per_minute": 20,
                  "streams_per_minute": 30}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _limit(config: dict[str, Any], key: str) -> int:
    value = config.get(key, DEFAULT_LIMITS[key])
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_LIMITS[key]


def _ttl_seconds(config: dict[str, Any]) -> int:
    hours = config.get("visitor_token_ttl_hours", tokens.DEFAULT_TTL_HOURS)
    if not isinstance(hours, int | float) or hours <= 0:
        hours = tokens.DEFAULT_TTL_HOURS
    return max(1, int(hours * 3600))


async def _open(request: Request, account_id: str) -> dict[str, Any]:
    """The chat account's config, after the origin check (403 for a site not allowed)."""
    runtime = _runtime(request)

    def run() -> dict[str, Any]:
        with runtime.db.session(write=False) as session:
            account = service.chat_account(session, account_id)
            config = dict(account.config or {})
        check_origin(request, config, runtime.settings.public_url)
        return config

    return await run_in_threadpool(run)


def _visitor(request: Request, account_id: str, config: dict[str, Any]) -> Visitor:
    return tokens.read(_runtime(request).settings.resolved_secret_key(),
                       request.headers.get(tokens.HEADER), account_id,
                       max_age=_ttl_seconds(config))


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
                  for e in exc.errors()]
        raise ValidationFailed("the request is not valid", details={"errors": errors}) from None


def _envelope(visitor: Visitor, *, text: str, echo_id: str, link_token: str | None,
              page_url: str | None) -> WebchatEnvelope:
    return WebchatEnvelope(
        type="message",
        visitor=WebchatVisitor(id=visitor.visitor_id, name=visitor.name, email=visitor.email,
                               verified=visitor.verified),
        message=WebchatMessage(echo_id=echo_id, text=text, sent_at=utcnow()),
        link_token=link_token, page_url=page_url)


# --- the widget and the standalone page -------------------------------------------------------


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                        headers={"cache-control": "public, max-age=300"})


@router.get("/widget.css", include_in_schema=False)
def widget_css() -> FileResponse:
    return FileResponse(STATIC / "widget.css", media_type="text/css",
                        headers={"cache-control": "public, max-age=300"})


def _page_headers(allowed_origins: object) -> dict[str, str]:
    """The standalone page's headers; sites on the account's allow-list may frame it."""
    origins = allowed_origins if isinstance(allowed_origins, list) else [allowed_origins or "*"]
    csp = policy(form_action="'none'", frame_ancestors=frame_ancestors(origins))
    return {**page_headers(csp, referrer="no-referrer"), "cache-control": "no-store"}


@router.get("/{account_id}", response_class=HTMLResponse, include_in_schema=False)
def chat_page(account_id: str, request: Request) -> Response:
    runtime = _runtime(request)
    try:
        with runtime.db.session(write=False) as session:
            account = service.chat_account(session, account_id)
            title = str(account.config.get("title") or account.name)
            origins = account.config.get("allowed_origins")
    except NotFound:
        return templates.TemplateResponse(request, "unavailable.html", {}, status_code=404,
                                          headers=_page_headers("*"))
    return templates.TemplateResponse(request, "chat.html",
                                      {"account_id": str(account.id), "title": title},
                                      headers=_page_headers(origins))


@router.options("/{account_id}/{rest:path}", include_in_schema=False)
async def preflight(account_id: str, rest: str, request: Request) -> Response:
    await _open(request, account_id)
    return Response(status_code=204, headers=preflight_headers(request))


# --- visitor API ------------------------------------------------------------------------------


def _doc(ok: int, model: type[BaseModel] | None, *raised: type[ThreadlineError],
         body: type[BaseModel] | None = None) -> dict[str, Any]:
    """OpenAPI for a visitor route: the answer, the errors and, for the bodies the route
    reads itself (size and type checked before parsing), the request body."""
    responses: Responses = {**errors(Forbidden, NotFound, *raised, auth=False)}
    if model is not None:
        responses[ok] = {"model": model, "description": "OK"}
    extra: dict[str, Any] = {RAW_BODY: True}
    if body is not None:
        extra["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": body.model_json_schema()}}}
    return {"responses": responses, "openapi_extra": extra}


BODY = (PayloadTooLarge, UnsupportedMediaType, RateLimited)


@router.post("/{account_id}/session", status_code=201,
             **_doc(201, SessionOut, Unauthorized, *BODY, body=SessionIn))
async def start_session(account_id: str, request: Request) -> JSONResponse:
    """A visitor token; optionally the entry form (name, email, question), the host site's
    identity verification (identifier + identifier_hash) and a short-link code."""
    config = await _open(request, account_id)
    await rate_limit_client(request, f"session:{account_id}", _limit(config,
                                                                      "sessions_per_minute"))
    body = _parse(SessionIn, await read_json_body(request))
    runtime = _runtime(request)
    secret = runtime.settings.resolved_secret_key()
    previous: Visitor | None = None
    try:
        previous = _visitor(request, account_id, config)
    except ThreadlineError:
        previous = None  # no token, or an old one: a new visitor

    def run() -> tuple[str, Visitor, bool]:
        with runtime.db.session() as session:
            account = service.chat_account(session, account_id)
            verified = tokens.verify_identifier(config.get("hmac_secret"), body.identifier,
                                                body.identifier_hash)
            if config.get("require_identity_verification") and not verified:
                raise Unauthorized("this chat needs a verified identity",
                                   code="identity_required")
            if config.get("require_email") and not body.email:
                raise ValidationFailed("an email address is required", code="email_required")
            if verified:
                visitor_id = f"u:{body.identifier}"
            elif previous is not None and not previous.verified:
                visitor_id = previous.visitor_id
            else:
                visitor_id = f"v_{secrets.token_urlsafe(16)}"
            same = previous if previous and previous.visitor_id == visitor_id else None
            if body.link_token:
                service.check_link(session, account, body.link_token)
            visitor = Visitor(
                account_id=account_id, visitor_id=visitor_id,
                name=body.name or (same.name if same else None),
                email=body.email or (same.email if same else None), verified=verified,
                link_token=body.link_token or (same.link_token if same else None))
            asked = False
            if body.question:
                link = visitor.link_token if (body.link_token or not service.has_thread(
                    session, account, visitor)) else None
                service.store_envelope(session, account, _envelope(
                    visitor, text=body.question,
                    echo_id=body.echo_id or f"q-{secrets.token_urlsafe(12)}",
                    link_token=link, page_url=body.page_url))
                asked = True
            audit(session, account.workspace_id, "webchat.session_started", "channel_account",
                  account.id, actor_type="visitor", actor_id=visitor_id,
                  data={"verified": verified, "entry_form": bool(body.name or body.email
                                                                 or body.question),
                        "short_link": bool(visitor.link_token), "renewed": same is not None})
        return tokens.issue(secret, visitor), visitor, asked

    token, visitor, asked = await run_in_threadpool(run)
    return JSONResponse({"token": token, "visitor_id": visitor.visitor_id,
                         "verified": visitor.verified, "question_stored": asked,
                         "expires_in": int(_ttl_seconds(config))}, status_code=201)


@router.post("/{account_id}/messages", status_code=202,
             **_doc(202, MessageAccepted, Unauthorized, *BODY, body=MessageIn))
async def post_message(account_id: str, request: Request) -> JSONResponse:
    config = await _open(request, account_id)
    visitor = _visitor(request, account_id, config)
    await rate_limit(request, f"message:{account_id}:{visitor.visitor_id}",
                     _limit(config, "messages_per_minute"))
    body = _parse(MessageIn, await read_json_body(request))
    runtime = _runtime(request)

    def run() -> int:
        with runtime.db.session() as session:
            account = service.chat_account(session, account_id)
            if body.link_token:
                service.check_link(session, account, body.link_token)
                link: str | None = body.link_token
            elif visitor.link_token and not service.has_thread(session, account, visitor):
                link = visitor.link_token
            else:
                link = None
            return service.store_envelope(session, account, _envelope(
                visitor, text=body.text, echo_id=body.echo_id, link_token=link,
                page_url=body.page_url))

    stored = await run_in_threadpool(run)
    return JSONResponse({"echo_id": body.echo_id, "accepted": True,
                         "duplicate": stored == 0}, status_code=202)


@router.post("/{account_id}/read", status_code=202,
             **_doc(202, ReadAccepted, Unauthorized, *BODY, body=ReadIn))
async def mark_read(account_id: str, request: Request) -> JSONResponse:
    config = await _open(request, account_id)
    visitor = _visitor(request, account_id, config)
    await rate_limit(request, f"message:{account_id}:{visitor.visitor_id}",
                     _limit(config, "messages_per_minute"))
    body = _parse(ReadIn, await read_json_body(request))
    try:
        message_id = uuid.UUID(body.message_id)
    except ValueError:
        raise NotFound("no such message in this chat", code="message_not_found") from None
    runtime = _runtime(request)

    def run() -> None:
        with runtime.db.session() as session:
            account = service.chat_account(session, account_id)
            message = service.own_outbound(session, account, visitor, message_id)
            service.store_envelope(session, account, WebchatEnvelope(
                type="read", visitor=WebchatVisitor(id=visitor.visitor_id),
                read=WebchatRead(message_id=str(message.provider_id), at=utcnow())))

    await run_in_threadpool(run)
    return JSONResponse({"message_id": body.message_id, "accepted": True}, status_code=202)


@router.post("/{account_id}/surveys/{survey_id}",
             **_doc(200, RatingRecorded, Unauthorized, Conflict, Gone, *BODY,
                  body=RatingIn))
async def rate_survey(account_id: str, survey_id: uuid.UUID, request: Request) -> JSONResponse:
    """The visitor's 1-5 rating (and optional comment) of a survey shown in his chat: 404
    unless it was sent to him here, 409 once answered, 410 once closed."""
    config = await _open(request, account_id)
    visitor = _visitor(request, account_id, config)
    await rate_limit(request, f"message:{account_id}:{visitor.visitor_id}",
                     _limit(config, "messages_per_minute"))
    body = _parse(RatingIn, await read_json_body(request))
    runtime = _runtime(request)

    def run() -> int:
        with runtime.db.session() as session:
            account = service.chat_account(session, account_id)
            survey = answer_in_chat(session, account, visitor.visitor_id, survey_id,
                                    body.score, body.comment)
            return int(survey.score or 0)

    score = await run_in_threadpool(run)
    return JSONResponse({"survey_id": str(survey_id), "score": score, "recorded": True})


@router.get("/{account_id}/history", **_doc(200, HistoryOut, Unauthorized))
async def get_history(account_id: str, request: Request) -> JSONResponse:
    config = await _open(request, account_id)
    visitor = _visitor(request, account_id, config)
    runtime = _runtime(request)

    def run() -> dict[str, Any]:
        with runtime.db.session(write=False) as session:
            account = service.chat_account(session, account_id)
            cursor = stream.latest(session, account)
            items = [service.message_view(m) for m in service.history(session, account,
                                                                      visitor)]
            context = service.origin_context(session, account, visitor)
        return {"items": ([context] if context else []) + items, "cursor": str(cursor),
                "visitor": {"id": visitor.visitor_id, "name": visitor.name,
                            "verified": visitor.verified}}

    return JSONResponse(await run_in_threadpool(run))


@router.get("/{account_id}/stream", response_class=EventSourceResponse, responses={
    200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"},
    **errors(Forbidden, NotFound, Unauthorized, RateLimited, BadRequest, auth=False)})
async def get_stream(account_id: str, request: Request) -> EventSourceResponse:
    config = await _open(request, account_id)
    visitor = _visitor(request, account_id, config)
    await rate_limit(request, f"stream:{account_id}:{visitor.visitor_id}",
                     _limit(config, "streams_per_minute"))
    return await stream.respond(_runtime(request), request, account_id, visitor)
