"""Sandbox side of Meta: the Graph API send endpoints and signed Page/Messenger/IG/WA webhooks.

Accounts point `api_base_url` at sandbox base + PREFIX; the Graph version is the first path
segment (`/v25.0/...`), as on graph.facebook.com. Endpoints (docs/providers/meta.md,
docs/providers/whatsapp.md#sending):
    POST /{version}/{page_or_ig_or_phone_number_id}/messages   Send API / WhatsApp messages
                                                                (quick replies, interactive
                                                                buttons and lists checked)
    POST /{version}/{object_id}/comments                        Page comment (reply)
    POST /{version}/{ig_comment_id}/replies                      Instagram comment reply
    POST /{version}/{comment_id}                                 hide / unhide
    DELETE /{version}/{comment_id}                               delete a comment ->
                                                                {"success": true}; a deleted
                                                                object is gone for every later
                                                                call (error 100/33), listed
                                                                in GET /_sandbox/deleted
    POST /{version}/{phone_number_id}/media                      WhatsApp media upload
                                                                (multipart file, type,
                                                                messaging_product) -> id
    GET  /{version}/{media_id}                                   WhatsApp media URL + facts
    GET  /whatsapp-media/{media_id}?exp=                         the bytes (bearer; 5 minutes)
    GET  /{version}/{waba_id}/message_templates?limit=&after=    WhatsApp templates, paged
                                                                (`seed_templates`); sends of
                                                                a seeded name are checked
                                                                (132001, 132000)
Links sent in WhatsApp media messages and Messenger attachments are fetched as the real
platforms do (GET, no cookie); what came back (status, type, size, SHA-256) is recorded on
the answer and in `GET /_sandbox/meta/fetched`.
Webhook builders return `SignedWebhook`s signed with `config["app_secret"]` over the exact
bytes (non-ASCII escaped as Meta does).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from threadline.channels.meta_common import sign
from threadline.sandbox.core import SignedWebhook, recorder_of

PREFIX = "/meta"
router = APIRouter()
_VERSION = re.compile(r"^v\d+\.\d+$")
_WA_TYPES = {"text", "template", "image", "video", "audio", "document", "sticker", "location",
             "interactive", "reaction", "contacts"}
_webhook_ids = itertools.count(1)


# --- Graph API --------------------------------------------------------------------------------


def _error(message: str, code: int = 100, status: int = 400,
           kind: str = "OAuthException") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": code,
                                   "fbtrace_id": "Sandbox" + hashlib.sha1(
                                       message.encode()).hexdigest()[:12]}},
                        status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _check(request: Request, version: str) -> JSONResponse | None:
    if not _VERSION.match(version):
        return _error(f"Unknown path components: /{version}", code=2500)
    auth = request.headers.get("authorization", "")
    if not (auth.lower().startswith("bearer ") and auth[7:].strip()) \
            and not request.query_params.get("access_token"):
        return _error("An active access token must be used to query information about the "
                      "current user.", code=2500)
    return None


def _fake_psid(seed: str) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest()[:13], 16))


@router.post("/{version}/{node_id}/messages")
async def messages(version: str, node_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
        return refused
    body = await _body(request)
    await _fetch_links(body)
    if body.get("messaging_product") == "whatsapp":
        return _whatsapp(request, body)
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not recipient:
        return _error("(#100) The parameter recipient is required")
    if not body.get("message") and not body.get("sender_action"):
        return _error("(#100) Must send either message or sender_action")
    if (refused := _check_quick_replies(body.get("message"))) is not None:
        return refused
    n = recorder_of(request).next_id()
    if "comment_id" in recipient or "post_id" in recipient:
        target = str(recipient.get("comment_id") or recipient.get("post_id"))
        return JSONResponse({"recipient_id": _fake_psid(target), "message_id": f"m_sbx{n:012d}"})
    if "id" not in recipient:
        return _error("(#100) The parameter recipient.id is required")
    messaging_type = body.get("messaging_type")
    if messaging_type not in {"RESPONSE", "UPDATE", "MESSAGE_TAG"}:
        return _error("(#100) The parameter messaging_type is required")
    if messaging_type == "MESSAGE_TAG" and not body.get("tag"):
        return _error("(#100) Param tag is required for MESSAGE_TAG")
    return JSONResponse({"recipient_id": str(recipient["id"]), "message_id": f"m_sbx{n:012d}"})


async def _fetch_links(body: dict[str, Any]) -> None:
    """WhatsApp `{type: {link}}` and Messenger `attachment.payload.url`: fetched now."""
    kind = body.get("type")
    media = body.get(kind) if isinstance(kind, str) else None
    links = [media.get("link")] if isinstance(media, dict) else []
    message = body.get("message")
    attachment = message.get("attachment") if isinstance(message, dict) else None
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if isinstance(payload, dict):
        links.append(payload.get("url"))
    for link in links:
        if isinstance(link, str) and link.startswith(("http://", "https://")):
            await fetch_link(link)


def _whatsapp(request: Request, body: dict[str, Any]) -> JSONResponse:
    if body.get("status") == "read":
        if not body.get("message_id"):
            return _error("(#100) The parameter message_id is required")
        return JSONResponse({"success": True})
    to, kind = str(body.get("to") or ""), body.get("type", "text")
    if not to:
        return _error("(#100) The parameter to is required")
    if kind not in _WA_TYPES or not isinstance(body.get(kind), dict):
        return _error(f"(#100) Param {kind} must be an object of type {kind}")
    if kind == "text" and not body["text"].get("body"):
        return _error("(#100) The parameter text['body'] is required")
    if kind == "template" and not (body["template"].get("name")
                                   and body["template"].get("language")):
        return _error("(#132000) Template name and language are required", code=132000)
    if kind == "template" and (refused := _check_template(body["template"])):
        return refused
    if kind == "interactive" and (refused := _check_interactive(body["interactive"])):
        return refused
    n = recorder_of(request).next_id()
    digits = to.lstrip("+")
    return JSONResponse({"messaging_product": "whatsapp",
                         "contacts": [{"input": to, "wa_id": digits}],
                         "messages": [{"id": f"wamid.SBX{n:020d}"}]})


def _check_quick_replies(message: Any) -> JSONResponse | None:
    """Send API `message.quick_replies`: 1 to 13, text ones with a title of at most 20
    characters and a payload of at most 1000 (docs/providers/meta.md#quick-replies)."""
    if not isinstance(message, dict) or "quick_replies" not in message:
        return None
    replies = message["quick_replies"]
    if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
        return _error("(#100) param message[quick_replies] must have 1 to 13 elements")
    for index, reply in enumerate(replies):
        where = f"message[quick_replies][{index}]"
        if not isinstance(reply, dict):
            return _error(f"(#100) param {where} must be an object")
        kind = reply.get("content_type")
        if kind not in {"text", "user_phone_number", "user_email"}:
            return _error(f"(#100) param {where}[content_type] must be one of "
                          "{text, user_phone_number, user_email}")
        if kind != "text":
            continue
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not title or len(title) > 20:
            return _error(f"(#100) param {where}[title] must be a string of 1 to 20 "
                          "characters")
        if not isinstance(payload, str | int) or not str(payload) or len(str(payload)) > 1000:
            return _error(f"(#100) param {where}[payload] must be a non-empty string of at "
                          "most 1000 characters")
    return None


def _check_interactive(interactive: dict[str, Any]) -> JSONResponse | None:
    """WhatsApp `interactive` of type button (1 to 3 reply buttons, titles of at most 20
    characters, unique ids of at most 256) or list (one button label of at most 20
    characters, 1 to 10 rows with titles of at most 24); a body text of at most 1024
    (docs/providers/whatsapp.md#interactive-messages)."""
    text = (interactive.get("body") or {}).get("text") \
        if isinstance(interactive.get("body"), dict) else None
    if not isinstance(text, str) or not text or len(text) > 1024:
        return _error("(#131009) Parameter value is not valid: body.text must be 1 to 1024 "
                      "characters", code=131009)
    action = interactive.get("action")
    if not isinstance(action, dict):
        return _error("(#131009) Parameter value is not valid: action is required",
                      code=131009)
    if interactive.get("type") == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return _error("(#131009) Parameter value is not valid: buttons must have 1 to 3 "
                          "elements", code=131009)
        items = [b.get("reply") if isinstance(b, dict) and b.get("type") == "reply" else None
                 for b in buttons]
        limit = 20
    elif interactive.get("type") == "list":
        label = action.get("button")
        sections = action.get("sections")
        if not isinstance(label, str) or not label or len(label) > 20 \
                or not isinstance(sections, list) or not sections:
            return _error("(#131009) Parameter value is not valid: a list needs a button "
                          "label of 1 to 20 characters and sections", code=131009)
        items = [row for section in sections if isinstance(section, dict)
                 for row in (section.get("rows") or [])]
        if not 1 <= len(items) <= 10:
            return _error("(#131009) Parameter value is not valid: a list has 1 to 10 rows",
                          code=131009)
        limit = 24
    else:
        return _error(f"(#131009) Parameter value is not valid: interactive type "
                      f"{str(interactive.get('type'))[:20]!r} is not supported here",
                      code=131009)
    ids: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            return _error("(#131009) Parameter value is not valid: a button or row must be "
                          "an object", code=131009)
        ident, title = item.get("id"), item.get("title")
        if not isinstance(ident, str) or not ident or len(ident) > 256 or ident in ids:
            return _error("(#131009) Parameter value is not valid: ids must be unique "
                          "strings of 1 to 256 characters", code=131009)
        if not isinstance(title, str) or not title or len(title) > limit:
            return _error(f"(#131009) Parameter value is not valid: titles must be 1 to "
                          f"{limit} characters", code=131009)
        ids.add(ident)
    return None


_deleted: list[str] = []  # objects (comments) deleted through DELETE /{id}, in order


def _gone(object_id: str, method: str) -> JSONResponse | None:
    """Graph's answer for an object that does not exist (here: one deleted before)."""
    if object_id not in _deleted:
        return None
    message = (f"Unsupported {method} request. Object with ID '{object_id[:64]}' does not "
               "exist, cannot be loaded due to missing permissions, or does not support this "
               "operation.")
    return JSONResponse({"error": {"message": message, "type": "GraphMethodException",
                                   "code": 100, "error_subcode": 33,
                                   "fbtrace_id": "SandboxGone"}}, status_code=400)


@router.post("/{version}/{object_id}/comments")
async def comments(version: str, object_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
        return refused
    if (refused := _gone(object_id, "post")) is not None:
        return refused
    body = await _body(request)
    if not body.get("message") and not body.get("attachment_url"):
        return _error("(#100) The parameter message is required")
    n = recorder_of(request).next_id()
    return JSONResponse({"id": f"{object_id.split('_')[0]}_{900_000 + n}"})


@router.post("/{version}/{comment_id}/replies")
async def replies(version: str, comment_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
        return refused
    if (refused := _gone(comment_id, "post")) is not None:
        return refused
    if not (await _body(request)).get("message"):
        return _error("(#100) The parameter message is required")
    return JSONResponse({"id": f"179{recorder_of(request).next_id():014d}"})


# --- media (WhatsApp Cloud API media endpoints; links fetched like the platforms do) ---------

MEDIA_URL_SECONDS = 300
_media: dict[str, dict[str, Any]] = {}  # id -> {"data", "mime_type", "sha256", "file_name"}
_fetched: list[dict[str, Any]] = []  # links fetched by the sandbox, in order
_media_ids = itertools.count(1)


def put_media(data: bytes, mime_type: str, file_name: str | None = None) -> str:
    """Store bytes as WhatsApp media (a customer's phone uploading a photo); its id."""
    media_id = f"{int(time.time())}{next(_media_ids):06d}"
    _media[media_id] = {"data": data, "mime_type": mime_type, "file_name": file_name,
                        "sha256": hashlib.sha256(data).hexdigest()}
    return media_id


@router.post("/{version}/{node_id}/media")
async def upload_media(version: str, node_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
        return refused
    form = await request.form()
    upload = form.get("file")
    if form.get("messaging_product") != "whatsapp" or upload is None \
            or isinstance(upload, str):
        return _error("(#100) The parameters messaging_product and file are required")
    mime = str(form.get("type") or getattr(upload, "content_type", "") or "")
    data = await upload.read()
    if mime.startswith("image/") and len(data) > 5 * 1024 * 1024:
        return _error("(#131053) Media upload error: image over 5 MB", code=131053)
    return JSONResponse({"id": put_media(data, mime, getattr(upload, "filename", None))})


@router.get("/whatsapp-media/{media_id}")
async def media_bytes(media_id: str, request: Request) -> Response:
    auth = request.headers.get("authorization", "")
    if not (auth.lower().startswith("bearer ") and auth[7:].strip()):
        return Response(status_code=401)
    item = _media.get(media_id)
    exp = request.query_params.get("exp", "")
    if item is None or not exp.isdigit() or int(exp) < time.time():
        return Response(status_code=404)
    return Response(content=item["data"], media_type=item["mime_type"])


async def fetch_link(url: str) -> dict[str, Any]:
    """GET a link as the platform would; what came back (recorded)."""
    import httpx

    seen: dict[str, Any] = {"url": url}
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(url)
        seen.update(status=answer.status_code,
                    content_type=answer.headers.get("content-type"),
                    disposition=answer.headers.get("content-disposition"),
                    size=len(answer.content),
                    sha256=hashlib.sha256(answer.content).hexdigest())
    except httpx.HTTPError as exc:
        seen.update(status=0, error=type(exc).__name__)
    _fetched.append(seen)
    return seen


@router.get("/cdn/{media_id}")
async def cdn(media_id: str) -> Response:
    """A Messenger / Instagram / Page photo's CDN URL (no credential, like the real CDN)."""
    item = _media.get(media_id)
    if item is None:
        return Response(status_code=404)
    return Response(content=item["data"], media_type=item["mime_type"])


def cdn_url(sandbox_url: str, media_id: str) -> str:
    return f"{sandbox_url.rstrip('/')}{PREFIX}/cdn/{media_id}?oh=sandbox&oe=0"


@router.get("/_sandbox/fetched")
async def fetched() -> JSONResponse:
    return JSONResponse({"fetched": list(_fetched)})


@router.get("/_sandbox/deleted")
async def deleted() -> JSONResponse:
    """The comments deleted so far (each id once: a repeat got the "does not exist" error)."""
    return JSONResponse({"deleted": list(_deleted)})


@router.get("/{version}/{media_id}")
async def media_info(version: str, media_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
        return refused
    if (refused := _gone(media_id, "get")) is not None:
        return refused
    item = _media.get(media_id)
    if item is None:
        return _error(f"(#100) Unsupported get request. Object with ID '{media_id}' does "
                      "not exist", code=100, status=400)
    expires = int(time.time()) + MEDIA_URL_SECONDS
    base = str(request.base_url).rstrip("/")
    return JSONResponse({"messaging_product": "whatsapp", "id": media_id,
                         "url": f"{base}{PREFIX}/whatsapp-media/{media_id}?exp={expires}",
                         "mime_type": item["mime_type"], "sha256": item["sha256"],
                         "file_size": len(item["data"])})


@router.post("/{version}/{object_id}")
async def update_object(version: str, object_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
        return refused
    if (refused := _gone(object_id, "post")) is not None:
        return refused
    body = await _body(request)
    if not any(key in body for key in ("is_hidden", "hide")):
        return _error("(#100) No fields to update")
    return JSONResponse({"success": True})


@router.delete("/{version}/{object_id}")
async def delete_object(version: str, object_id: str, request: Request) -> JSONResponse:
    """Delete a comment (a customer's on the page's posts, or the page's own reply)."""
    if (refused := _check(request, version)) is not None:
        return refused
    if (refused := _gone(object_id, "delete")) is not None:
        return refused
    _deleted.append(object_id)
    return JSONResponse({"success": True})


# --- WhatsApp message templates (docs/providers/whatsapp.md#templates) -----------------------

_templates: dict[str, list[dict[str, Any]]] = {}  # WABA id -> templates, in listing order
_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([0-9]{1,3}|[a-z_][a-z0-9_]{0,63})\s*\}\}")


def seed_templates(waba_id: str, templates: list[dict[str, Any]]) -> None:
    """Tests and the demo: the WABA's templates become these (each `name`, `language`,
    `status`, `category`, `components`; an `id` is made up when missing). Sends of a seeded
    name are then checked: 132001 for a language or status that cannot be sent, 132000 when
    the body parameters do not match the body's variables."""
    _templates[waba_id] = [{"id": str(t.get("id") or 1_000_000 + i), **t}
                           for i, t in enumerate(templates)]


@router.get("/{version}/{waba_id}/message_templates")
async def message_templates(version: str, waba_id: str, request: Request) -> JSONResponse:
    """`GET /{waba-id}/message_templates?limit=&after=`: one page and `paging.next`."""
    if (refused := _check(request, version)) is not None:
        return refused
    listed = _templates.get(waba_id, [])
    try:
        limit = max(1, min(int(request.query_params.get("limit") or 25), 100))
        start = int(request.query_params.get("after") or 0)
    except ValueError:
        return _error("(#100) Invalid parameter")
    page: dict[str, Any] = {"data": listed[start:start + limit]}
    if start + limit < len(listed):
        base = str(request.base_url).rstrip("/")
        page["paging"] = {"cursors": {"before": str(start), "after": str(start + limit)},
                          "next": f"{base}{PREFIX}/{version}/{waba_id}/message_templates"
                                  f"?limit={limit}&after={start + limit}"}
    return JSONResponse(page)


def _check_template(template: dict[str, Any]) -> JSONResponse | None:
    name, language = template.get("name"), template.get("language")
    code = language.get("code") if isinstance(language, dict) else language
    known = [t for ts in _templates.values() for t in ts if t.get("name") == name]
    if not known:
        return None  # not seeded: any name is taken
    found = next((t for t in known if t.get("language") == code), None)
    if found is None or found.get("status") != "APPROVED":
        return _error(f"(#132001) Template name does not exist in the translation: {name} "
                      f"({code})", code=132001)
    body = next((str(c.get("text") or "") for c in found.get("components") or []
                 if str(c.get("type", "")).upper() == "BODY"), "")
    wanted = len(set(_TEMPLATE_VARIABLE.findall(body)))
    given = sum(len(c.get("parameters") or []) for c in template.get("components") or []
                if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY")
    if wanted != given:
        return _error(f"(#132000) Number of parameters does not match the expected number "
                      f"of params: expected {wanted}, got {given}", code=132000)
    return None


def whatsapp_template_status_webhook(account_id: str, config: dict[str, Any], *,
                                     template_id: int, name: str, language: str = "en_US",
                                     event: str = "APPROVED",
                                     reason: str = "NONE") -> SignedWebhook:
    """`message_template_status_update` on the WABA (the id is a JSON number)."""
    waba = str(config.get("waba_id") or "102290129340398")
    value = {"event": event, "message_template_id": template_id,
             "message_template_name": name, "message_template_language": language,
             "reason": reason}
    envelope = {"object": "whatsapp_business_account",
                "entry": [{"id": waba, "time": int(time.time()),
                           "changes": [{"field": "message_template_status_update",
                                        "value": value}]}]}
    return _signed("whatsapp", account_id, config, envelope)


# --- webhooks ---------------------------------------------------------------------------------


def _fresh() -> str:
    return f"{int(time.time() * 1000)}{next(_webhook_ids):04d}"


def _signed(kind: str, account_id: str, config: dict[str, Any],
            payload: dict[str, Any]) -> SignedWebhook:
    body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()
    return SignedWebhook(path=f"/webhooks/{kind}/{account_id}", body=body,
                         headers={"content-type": "application/json",
                                  "X-Hub-Signature-256": sign(str(config["app_secret"]), body)})


def _page_id(config: dict[str, Any]) -> str:
    return str(config.get("page_id") or "1234567890")


def _ig_id(config: dict[str, Any]) -> str:
    return str(config.get("ig_user_id") or config.get("page_id") or "17841400000000000")


def _change(obj: str, entry_id: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"object": obj, "entry": [{"id": entry_id, "time": int(time.time()),
                                      "changes": [{"field": field, "value": value}]}]}


def _messaging(obj: str, entry_id: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"object": obj, "entry": [{"id": entry_id, "time": int(time.time() * 1000),
                                      "messaging": [event]}]}


def page_comment_webhook(account_id: str, config: dict[str, Any], *, text: str,
                         from_id: str = "5550001", from_name: str = "Jane Doe",
                         post_id: str | None = None, comment_id: str | None = None,
                         parent_id: str | None = None, verb: str = "add",
                         created_time: int | None = None,
                         kind: str = "facebook", photo: str | None = None) -> SignedWebhook:
    """A visitor comments on a Page post (or replies to a comment: pass parent_id), with a
    photo when `photo` is a URL (`cdn_url`)."""
    page = _page_id(config)
    post = post_id or f"{page}_{_fresh()}"
    value = {"item": "comment", "verb": verb,
             "comment_id": comment_id or f"{post.split('_')[-1]}_{_fresh()}",
             "post_id": post, "parent_id": parent_id or post,
             "from": {"id": from_id, "name": from_name}, "message": text,
             "created_time": created_time or int(time.time())}
    if photo:
        value["photo"] = photo
    return _signed(kind, account_id, config, _change("page", page, "feed", value))


def page_post_webhook(account_id: str, config: dict[str, Any], *, text: str,
                      from_id: str = "5550003", from_name: str = "Ann Poe",
                      post_id: str | None = None, item: str = "status", verb: str = "add",
                      created_time: int | None = None, kind: str = "facebook") -> SignedWebhook:
    """A visitor posts on the Page."""
    page = _page_id(config)
    value = {"item": item, "verb": verb, "post_id": post_id or f"{page}_{_fresh()}",
             "from": {"id": from_id, "name": from_name}, "message": text,
             "created_time": created_time or int(time.time()), "published": 1}
    return _signed(kind, account_id, config, _change("page", page, "feed", value))


def messenger_message_webhook(account_id: str, config: dict[str, Any], *, text: str,
                              psid: str = "6001002003", mid: str | None = None,
                              reply_to: str | None = None, timestamp_ms: int | None = None,
                              kind: str = "facebook") -> SignedWebhook:
    """A person writes to the Page on Messenger."""
    message: dict[str, Any] = {"mid": mid or f"m_{_fresh()}", "text": text}
    if reply_to:
        message["reply_to"] = {"mid": reply_to}
    page = _page_id(config)
    event = {"sender": {"id": psid}, "recipient": {"id": page},
             "timestamp": timestamp_ms or int(time.time() * 1000), "message": message}
    return _signed(kind, account_id, config, _messaging("page", page, event))


def messenger_read_webhook(account_id: str, config: dict[str, Any], *,
                           psid: str = "6001002003", watermark_ms: int | None = None,
                           kind: str = "facebook") -> SignedWebhook:
    """The person has read every Page message up to the watermark."""
    now = int(time.time() * 1000)
    page = _page_id(config)
    event = {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": now,
             "read": {"watermark": watermark_ms or now}}
    return _signed(kind, account_id, config, _messaging("page", page, event))


def instagram_comment_webhook(account_id: str, config: dict[str, Any], *, text: str,
                              from_id: str = "7000000000000001", username: str = "jane.doe",
                              media_id: str = "18000000000000001",
                              comment_id: str | None = None, parent_id: str | None = None,
                              kind: str = "instagram") -> SignedWebhook:
    """Someone comments on an Instagram post (or replies to a comment: pass parent_id)."""
    value: dict[str, Any] = {"id": comment_id or f"179{_fresh()}", "text": text,
                             "from": {"id": from_id, "username": username},
                             "media": {"id": media_id, "media_product_type": "FEED"}}
    if parent_id:
        value["parent_id"] = parent_id
    return _signed(kind, account_id, config,
                   _change("instagram", _ig_id(config), "comments", value))


def instagram_dm_webhook(account_id: str, config: dict[str, Any], *, text: str,
                         igsid: str = "7000000000000001", mid: str | None = None,
                         timestamp_ms: int | None = None,
                         kind: str = "instagram") -> SignedWebhook:
    """Someone sends the Instagram account a DM."""
    ig = _ig_id(config)
    event = {"sender": {"id": igsid}, "recipient": {"id": ig},
             "timestamp": timestamp_ms or int(time.time() * 1000),
             "message": {"mid": mid or f"aWdf{_fresh()}", "text": text}}
    return _signed(kind, account_id, config, _messaging("instagram", ig, event))


def _wa_value(config: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": str(config.get("display_phone_number")
                                                     or "15550783881"),
                         "phone_number_id": str(config.get("phone_number_id")
                                                or "106540352242922")}, **value}


def whatsapp_message_webhook(account_id: str, config: dict[str, Any], *, text: str,
                             wa_id: str = "16505551234", name: str = "Jane Doe",
                             wamid: str | None = None, context_id: str | None = None,
                             timestamp: int | None = None,
                             kind: str = "whatsapp") -> SignedWebhook:
    """A customer writes to the WhatsApp number (a quoted reply when context_id is given)."""
    message: dict[str, Any] = {"from": wa_id, "id": wamid or f"wamid.IN{_fresh()}",
                               "timestamp": str(timestamp or int(time.time())), "type": "text",
                               "text": {"body": text}}
    if context_id:
        message["context"] = {"from": str(config.get("display_phone_number") or "15550783881"),
                              "id": context_id}
    value = _wa_value(config, contacts=[{"profile": {"name": name}, "wa_id": wa_id}],
                      messages=[message])
    waba = str(config.get("waba_id") or "102290129340398")
    return _signed(kind, account_id, config,
                   _change("whatsapp_business_account", waba, "messages", value))


def whatsapp_media_webhook(account_id: str, config: dict[str, Any], *, media_id: str,
                           kind: str = "image", mime_type: str = "image/jpeg",
                           caption: str | None = None, filename: str | None = None,
                           wa_id: str = "16505551234", name: str = "Jane Doe",
                           wamid: str | None = None) -> SignedWebhook:
    """A customer sends a photo (or a document, video, voice note) from `put_media`."""
    media: dict[str, Any] = {"id": media_id, "mime_type": mime_type,
                             "sha256": (_media.get(media_id) or {}).get("sha256", "")}
    if caption is not None:
        media["caption"] = caption
    if filename is not None:
        media["filename"] = filename
    message: dict[str, Any] = {"from": wa_id, "id": wamid or f"wamid.IN{_fresh()}",
                               "timestamp": str(int(time.time())), "type": kind, kind: media}
    value = _wa_value(config, contacts=[{"profile": {"name": name}, "wa_id": wa_id}],
                      messages=[message])
    waba = str(config.get("waba_id") or "102290129340398")
    return _signed("whatsapp", account_id, config,
                   _change("whatsapp_business_account", waba, "messages", value))


def whatsapp_status_webhook(account_id: str, config: dict[str, Any], *, wamid: str,
                            status: str = "delivered", recipient_id: str = "16505551234",
                            timestamp: int | None = None, error: dict[str, Any] | None = None,
                            kind: str = "whatsapp") -> SignedWebhook:
    """A status (sent/delivered/read/failed) of a message Threadline sent."""
    item: dict[str, Any] = {"id": wamid, "status": status,
                            "timestamp": str(timestamp or int(time.time())),
                            "recipient_id": recipient_id}
    if status == "failed":
        item["errors"] = [error or {"code": 131026, "title": "Message undeliverable",
                                    "message": "Message undeliverable"}]
    waba = str(config.get("waba_id") or "102290129340398")
    return _signed(kind, account_id, config, _change(
        "whatsapp_business_account", waba, "messages", _wa_value(config, statuses=[item])))


def messenger_quick_reply_webhook(account_id: str, config: dict[str, Any], *, payload: str,
                                  title: str, psid: str = "6001002003",
                                  mid: str | None = None, timestamp_ms: int | None = None,
                                  kind: str = "facebook") -> SignedWebhook:
    """The person taps one of the quick replies of a Page message: a message whose text is
    the reply's title, with `quick_reply.payload`."""
    page = _page_id(config)
    event = {"sender": {"id": psid}, "recipient": {"id": page},
             "timestamp": timestamp_ms or int(time.time() * 1000),
             "message": {"mid": mid or f"m_{_fresh()}", "text": title,
                         "quick_reply": {"payload": payload}}}
    return _signed(kind, account_id, config, _messaging("page", page, event))


def messenger_postback_webhook(account_id: str, config: dict[str, Any], *, payload: str,
                               title: str, psid: str = "6001002003", mid: str | None = None,
                               kind: str = "facebook") -> SignedWebhook:
    """The person taps a postback button (a template's button, the persistent menu)."""
    page = _page_id(config)
    event = {"sender": {"id": psid}, "recipient": {"id": page},
             "timestamp": int(time.time() * 1000),
             "postback": {"title": title, "payload": payload, "mid": mid or f"m_{_fresh()}"}}
    return _signed(kind, account_id, config, _messaging("page", page, event))


def instagram_quick_reply_webhook(account_id: str, config: dict[str, Any], *, payload: str,
                                  title: str, igsid: str = "7000000000000001",
                                  mid: str | None = None,
                                  kind: str = "instagram") -> SignedWebhook:
    """Someone taps a quick reply of an Instagram DM."""
    ig = _ig_id(config)
    event = {"sender": {"id": igsid}, "recipient": {"id": ig},
             "timestamp": int(time.time() * 1000),
             "message": {"mid": mid or f"aWdf{_fresh()}", "text": title,
                         "quick_reply": {"payload": payload}}}
    return _signed(kind, account_id, config, _messaging("instagram", ig, event))


def whatsapp_interactive_reply_webhook(account_id: str, config: dict[str, Any], *,
                                       reply_id: str, title: str, context_id: str,
                                       wa_id: str = "16505551234", name: str = "Jane Doe",
                                       wamid: str | None = None, list_reply: bool = False,
                                       kind: str = "whatsapp") -> SignedWebhook:
    """The customer taps a reply button (or a list row, `list_reply=True`) of our message
    `context_id`."""
    choice = "list_reply" if list_reply else "button_reply"
    message: dict[str, Any] = {
        "from": wa_id, "id": wamid or f"wamid.IN{_fresh()}",
        "timestamp": str(int(time.time())), "type": "interactive",
        "context": {"from": str(config.get("display_phone_number") or "15550783881"),
                    "id": context_id},
        "interactive": {"type": choice, choice: {"id": reply_id, "title": title}}}
    value = _wa_value(config, contacts=[{"profile": {"name": name}, "wa_id": wa_id}],
                      messages=[message])
    waba = str(config.get("waba_id") or "102290129340398")
    return _signed(kind, account_id, config,
                   _change("whatsapp_business_account", waba, "messages", value))
