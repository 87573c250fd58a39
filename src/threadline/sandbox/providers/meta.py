"""Sandbox side of Meta: the Graph API send endpoints and signed Page/Messenger/IG/WA webhooks.

Accounts point `api_base_url` at sandbox base + PREFIX; the Graph version is the first path
segment (`/v25.0/...`), as on graph.facebook.com. Endpoints (docs/providers/meta.md,
docs/providers/whatsapp.md#sending):
    POST /{version}/{page_or_ig_or_phone_number_id}/messages   Send API / WhatsApp messages
    POST /{version}/{object_id}/comments                        Page comment (reply)
    POST /{version}/{ig_comment_id}/replies                      Instagram comment reply
    POST /{version}/{comment_id}                                 hide / unhide
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
from fastapi.responses import JSONResponse

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
    if body.get("messaging_product") == "whatsapp":
        return _whatsapp(request, body)
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not recipient:
        return _error("(#100) The parameter recipient is required")
    if not body.get("message") and not body.get("sender_action"):
        return _error("(#100) Must send either message or sender_action")
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
    n = recorder_of(request).next_id()
    digits = to.lstrip("+")
    return JSONResponse({"messaging_product": "whatsapp",
                         "contacts": [{"input": to, "wa_id": digits}],
                         "messages": [{"id": f"wamid.SBX{n:020d}"}]})


@router.post("/{version}/{object_id}/comments")
async def comments(version: str, object_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
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
    if not (await _body(request)).get("message"):
        return _error("(#100) The parameter message is required")
    return JSONResponse({"id": f"179{recorder_of(request).next_id():014d}"})


@router.post("/{version}/{object_id}")
async def update_object(version: str, object_id: str, request: Request) -> JSONResponse:
    if (refused := _check(request, version)) is not None:
        return refused
    body = await _body(request)
    if not any(key in body for key in ("is_hidden", "hide")):
        return _error("(#100) No fields to update")
    return JSONResponse({"success": True})


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
                         kind: str = "facebook") -> SignedWebhook:
    """A visitor comments on a Page post (or replies to a comment: pass parent_id)."""
    page = _page_id(config)
    post = post_id or f"{page}_{_fresh()}"
    value = {"item": "comment", "verb": verb,
             "comment_id": comment_id or f"{post.split('_')[-1]}_{_fresh()}",
             "post_id": post, "parent_id": parent_id or post,
             "from": {"id": from_id, "name": from_name}, "message": text,
             "created_time": created_time or int(time.time())}
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
