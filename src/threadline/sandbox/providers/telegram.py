"""Sandbox side of the Telegram Bot API: sendMessage (with inline keyboards), answerCallbackQuery,
getMe, and secret-token webhooks (messages, edits, channel posts, inline button taps).

Accounts point `api_base_url` at sandbox base + PREFIX; methods live at /bot{token}/{method}.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from threadline.sandbox.core import SignedWebhook, recorder_of

PREFIX = "/telegram"
router = APIRouter()
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_UPDATE_IDS = itertools.count(int(time.time()) % 100_000_000 * 10)
_MESSAGE_IDS = itertools.count(10_000)


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": status, "description": description},
                        status_code=status)


def _bot(token: str) -> dict[str, Any]:
    return {"id": int(token.partition(":")[0]), "is_bot": True, "first_name": "Sandbox Bot",
            "username": "sandbox_support_bot"}


async def _params(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/bot{token}/sendMessage")
async def send_message(token: str, request: Request) -> JSONResponse:
    if not _TOKEN.match(token):
        return _error(401, "Unauthorized")
    params = await _params(request)
    chat_id, text = params.get("chat_id"), params.get("text")
    if chat_id in (None, ""):
        return _error(400, "Bad Request: chat_id is empty")
    if not isinstance(text, str) or not text.strip():
        return _error(400, "Bad Request: message text is empty")
    if len(text) > 4096:
        return _error(400, "Bad Request: message is too long")
    markup = params.get("reply_markup")
    if isinstance(markup, str):  # form-encoded: a JSON-serialised object
        try:
            markup = json.loads(markup)
        except ValueError:
            return _error(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if markup is not None and (problem := _keyboard_problem(markup)):
        return _error(400, f"Bad Request: {problem}")
    try:
        chat_value: int | str = int(chat_id)
    except (TypeError, ValueError):
        chat_value = str(chat_id)
    chat_type = "private" if isinstance(chat_value, int) and chat_value > 0 else "supergroup"
    message: dict[str, Any] = {
        "message_id": 10_000 + recorder_of(request).next_id(), "from": _bot(token),
        "chat": {"id": chat_value, "type": chat_type}, "date": int(time.time()), "text": text}
    reply = params.get("reply_parameters") or {}
    reply_id = reply.get("message_id") if isinstance(reply, dict) else None
    reply_id = reply_id or params.get("reply_to_message_id")
    if reply_id:
        message["reply_to_message"] = {"message_id": int(reply_id),
                                       "chat": message["chat"], "date": int(time.time())}
    if markup is not None:
        message["reply_markup"] = markup
    return JSONResponse({"ok": True, "result": message})


PHOTO_UPLOAD, FILE_UPLOAD = 10 * 1024 * 1024, 50 * 1024 * 1024
_received_files: list[dict[str, Any]] = []


@router.post("/bot{token}/sendPhoto")
async def send_photo(token: str, request: Request) -> Response:
    return await _send_file(token, request, "photo", PHOTO_UPLOAD)


@router.post("/bot{token}/sendDocument")
async def send_document(token: str, request: Request) -> Response:
    return await _send_file(token, request, "document", FILE_UPLOAD)


async def _send_file(token: str, request: Request, field: str, cap: int) -> Response:
    """sendPhoto / sendDocument: the file as a multipart upload or an HTTP URL (Bot API)."""
    if not _TOKEN.match(token):
        return _error(401, "Unauthorized")
    ctype = request.headers.get("content-type", "")
    seen: dict[str, Any] = {"method": field}
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get(field)
        if upload is None or isinstance(upload, str):
            if not isinstance(upload, str) or not upload:
                return _error(400, f"Bad Request: there is no {field} in the request")
            seen["url"] = upload
        else:
            data = await upload.read()
            if len(data) > cap:  # the hosted Bot API answers with nginx's HTML 413
                return Response("<html><head><title>413 Request Entity Too Large</title>"
                                "</head></html>", status_code=413, media_type="text/html")
            seen.update(size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                        file_name=upload.filename, mime_type=upload.content_type)
    else:
        params = await _params(request)
        link = params.get(field)
        if not isinstance(link, str) or not link:
            return _error(400, f"Bad Request: there is no {field} in the request")
        seen["url"] = link
    chat_id = params.get("chat_id")
    if chat_id in (None, ""):
        return _error(400, "Bad Request: chat_id is empty")
    caption = params.get("caption")
    if isinstance(caption, str) and len(caption) > 1024:
        return _error(400, "Bad Request: message caption is too long")
    try:
        chat_value: int | str = int(str(chat_id))
    except (TypeError, ValueError):
        chat_value = str(chat_id)
    message_id = 10_000 + recorder_of(request).next_id()
    seen.update(chat_id=chat_value, caption=caption, message_id=message_id)
    _received_files.append(seen)
    file_id = f"SBX{field[:3].upper()}{message_id}"
    item: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id[-12:],
                            "file_size": seen.get("size", 0)}
    message: dict[str, Any] = {
        "message_id": message_id, "from": _bot(token),
        "chat": {"id": chat_value, "type": "private" if isinstance(chat_value, int)
                 and chat_value > 0 else "supergroup"}, "date": int(time.time())}
    if field == "photo":
        message["photo"] = [{**item, "width": 320, "height": 240}]
    else:
        message["document"] = {**item, "file_name": seen.get("file_name"),
                               "mime_type": seen.get("mime_type")}
    if caption:
        message["caption"] = caption
    return JSONResponse({"ok": True, "result": message})


_stored_files: dict[str, dict[str, Any]] = {}  # file_id -> {"data", "path", "mime_type"}


def put_file(data: bytes, mime_type: str, file_name: str | None = None) -> str:
    """A file a user sends to the bot (its file_id): what getFile and the file URL serve."""
    file_id = f"AgAC{next(_MESSAGE_IDS)}{hashlib.sha256(data).hexdigest()[:16]}"
    folder = "photos" if mime_type.startswith("image/") else "documents"
    _stored_files[file_id] = {"data": data, "mime_type": mime_type, "file_name": file_name,
                              "path": f"{folder}/file_{len(_stored_files)}"
                                      f".{(file_name or 'x.bin').rsplit('.', 1)[-1]}"}
    return file_id


@router.post("/bot{token}/getFile")
async def get_file(token: str, request: Request) -> JSONResponse:
    if not _TOKEN.match(token):
        return _error(401, "Unauthorized")
    params = await _params(request)
    item = _stored_files.get(str(params.get("file_id") or ""))
    if item is None:
        return _error(400, "Bad Request: invalid file_id")
    if len(item["data"]) > 20 * 1024 * 1024:
        return _error(400, "Bad Request: file is too big")
    return JSONResponse({"ok": True, "result": {
        "file_id": params["file_id"], "file_unique_id": str(params["file_id"])[-12:],
        "file_size": len(item["data"]), "file_path": item["path"]}})


@router.get("/file/bot{token}/{path:path}")
async def download_file(token: str, path: str) -> Response:
    if not _TOKEN.match(token):
        return Response(status_code=401)
    item = next((f for f in _stored_files.values() if f["path"] == path), None)
    if item is None:
        return Response(status_code=404)
    return Response(content=item["data"], media_type="application/octet-stream")


def telegram_file_webhook(account_id: str, config: dict[str, Any], chat_id: int, user_id: int,
                          file_id: str, *, kind: str = "photo", caption: str | None = None,
                          message_id: int | None = None) -> SignedWebhook:
    """A user sends the bot a photo (`kind="photo"`) or a document from `put_file`."""
    message = _message(chat_id, user_id, "", message_id, None, "private", "Jane", None, None)
    del message["text"]
    item = _stored_files.get(file_id) or {}
    size = len(item.get("data", b""))
    if kind == "photo":
        message["photo"] = [{"file_id": file_id, "file_unique_id": file_id[-12:],
                             "width": 800, "height": 600, "file_size": size}]
    else:
        message["document"] = {"file_id": file_id, "file_unique_id": file_id[-12:],
                               "file_name": item.get("file_name"),
                               "mime_type": item.get("mime_type"), "file_size": size}
    if caption:
        message["caption"] = caption
    return _signed(account_id, config, {"update_id": next(_UPDATE_IDS), "message": message})


@router.get("/_sandbox/files")
async def received_files() -> JSONResponse:
    """What sendPhoto / sendDocument received (size, SHA-256, name, type, caption)."""
    return JSONResponse({"files": list(_received_files)})


def _keyboard_problem(markup: Any) -> str | None:
    """What Telegram refuses in an inline keyboard: rows of buttons, each with a text and
    exactly one action; callback_data of 1 to 64 bytes."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        return "field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays"
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str) \
                    or not button["text"]:
                return "text buttons are unallowed in the inline keyboard"
            actions = [k for k in ("callback_data", "url", "switch_inline_query") if k in button]
            if len(actions) != 1:
                return "can't parse inline keyboard button: exactly one action is needed"
            data = button.get("callback_data")
            if "callback_data" in button and (not isinstance(data, str)
                                              or not 1 <= len(data.encode()) <= 64):
                return "BUTTON_DATA_INVALID"
    return None


@router.post("/bot{token}/answerCallbackQuery")
async def answer_callback_query(token: str, request: Request) -> JSONResponse:
    if not _TOKEN.match(token):
        return _error(401, "Unauthorized")
    params = await _params(request)
    if not params.get("callback_query_id"):
        return _error(400, "Bad Request: query is too old and response timeout expired or "
                           "query ID is invalid")
    text = params.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > 200):
        return _error(400, "Bad Request: MESSAGE_TOO_LONG")
    return JSONResponse({"ok": True, "result": True})


@router.api_route("/bot{token}/getMe", methods=["GET", "POST"])
async def get_me(token: str) -> JSONResponse:
    if not _TOKEN.match(token):
        return _error(401, "Unauthorized")
    return JSONResponse({"ok": True, "result": {**_bot(token), "can_join_groups": True,
                                                "can_read_all_group_messages": False,
                                                "supports_inline_queries": False}})


@router.post("/bot{token}/setWebhook")
async def set_webhook(token: str) -> JSONResponse:
    if not _TOKEN.match(token):
        return _error(401, "Unauthorized")
    return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})


# --- webhook builders (the sandbox plays customers) -----------------------------------------


def _signed(account_id: str, config: dict[str, Any], update: dict[str, Any]) -> SignedWebhook:
    return SignedWebhook(path=f"/webhooks/telegram/{account_id}",
                         body=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                         headers={"content-type": "application/json",
                                  "x-telegram-bot-api-secret-token": str(config["secret_token"])})


def _message(chat_id: int, user_id: int, text: str, message_id: int | None,
             reply_to_message_id: int | None, chat_type: str, first_name: str,
             username: str | None, chat_title: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name,
                            "language_code": "en"}
    if username:
        user["username"] = username
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = first_name
    else:
        chat["title"] = chat_title or "Sandbox group"
    message: dict[str, Any] = {"message_id": message_id or next(_MESSAGE_IDS), "from": user,
                               "chat": chat, "date": int(time.time()), "text": text}
    if reply_to_message_id is not None:
        message["reply_to_message"] = {"message_id": reply_to_message_id, "chat": chat,
                                       "date": int(time.time()) - 60}
    return message


def telegram_message_webhook(account_id: str, config: dict[str, Any], chat_id: int,
                             user_id: int, text: str, message_id: int | None = None,
                             update_id: int | None = None,
                             reply_to_message_id: int | None = None,
                             chat_type: str = "private", first_name: str = "Jane",
                             username: str | None = None,
                             chat_title: str | None = None) -> SignedWebhook:
    """A user writes to the bot (private chat) or in a group the bot is in."""
    update = {"update_id": update_id or next(_UPDATE_IDS),
              "message": _message(chat_id, user_id, text, message_id, reply_to_message_id,
                                  chat_type, first_name, username, chat_title)}
    return _signed(account_id, config, update)


def telegram_edited_message_webhook(account_id: str, config: dict[str, Any], chat_id: int,
                                    user_id: int, message_id: int, text: str,
                                    update_id: int | None = None,
                                    chat_type: str = "private",
                                    first_name: str = "Jane") -> SignedWebhook:
    """The user edits an earlier message (same message_id, new text, edit_date)."""
    message = _message(chat_id, user_id, text, message_id, None, chat_type, first_name, None,
                       None)
    message["date"] = int(time.time()) - 120
    message["edit_date"] = int(time.time())
    return _signed(account_id, config, {"update_id": update_id or next(_UPDATE_IDS),
                                        "edited_message": message})


def telegram_channel_post_webhook(account_id: str, config: dict[str, Any], channel_id: int,
                                  text: str, message_id: int | None = None,
                                  update_id: int | None = None,
                                  title: str = "Sandbox channel") -> SignedWebhook:
    """A post in a channel where the bot is an administrator (public)."""
    chat = {"id": channel_id, "title": title, "type": "channel"}
    post = {"message_id": message_id or next(_MESSAGE_IDS), "sender_chat": chat, "chat": chat,
            "date": int(time.time()), "text": text}
    return _signed(account_id, config, {"update_id": update_id or next(_UPDATE_IDS),
                                        "channel_post": post})


def telegram_callback_query_webhook(account_id: str, config: dict[str, Any], chat_id: int,
                                    user_id: int, data: str, message_id: int,
                                    callback_id: str | None = None,
                                    update_id: int | None = None,
                                    first_name: str = "Jane") -> SignedWebhook:
    """The user taps an inline keyboard button of the bot's message `message_id`."""
    user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
    chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    query = {"id": callback_id or f"{user_id}{next(_MESSAGE_IDS)}", "from": user,
             "message": {"message_id": message_id, "chat": chat,
                         "date": int(time.time()) - 30, "text": "(the bot's message)"},
             "chat_instance": str(-abs(chat_id) * 7), "data": data}
    return _signed(account_id, config, {"update_id": update_id or next(_UPDATE_IDS),
                                        "callback_query": query})
