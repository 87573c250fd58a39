"""Telegram Bot API adapter (docs/providers/telegram.md).

Inbound: Telegram POSTs one JSON `Update` per request to /webhooks/telegram/{account_id} with
`X-Telegram-Bot-Api-Secret-Token` = the `secret_token` given to setWebhook (a shared secret,
compared in constant time). Private chats are private threads (`thread_key` "tg:<chat.id>");
groups, supergroups and channel posts are public surfaces threaded by reply.
Outbound: `POST {api_base_url}/bot{bot_token}/sendMessage` (choices as an inline keyboard);
a tap on one comes back as a `callback_query` (an inbound item carrying `callback_data`),
answered with `act(ChannelAction("answer_callback", ...))` -> `answerCallbackQuery`.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    BaseAdapter,
    ChannelAction,
    ChannelTraits,
    DeliveryState,
    MessageDelete,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderEvent,
    ProviderHosts,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SendResult,
    SignatureError,
    Visibility,
    WebhookRequest,
    check_choice_titles,
    check_common_policy,
    choices_of,
)
from threadline.channels.media import FileAttachment, MediaBytes, download
from threadline.channels.telegram.messages import (
    provider_id,
    to_callback,
    to_edit,
    to_inbound,
)
from threadline.channels.telegram.payloads import TgAnswer, TgSentMessage, TgUpdate

WEBHOOK_HEADER = "x-telegram-bot-api-secret-token"
TELEGRAM_API = ProviderHosts("https://api.telegram.org", frozenset({"api.telegram.org"}))
CHAR_LIMIT = 4096
NEW_MESSAGE_FIELDS = ("message", "channel_post", "business_message")
EDIT_FIELDS = ("edited_message", "edited_channel_post", "edited_business_message")
KEYBOARD_BUTTONS, BUTTON_TEXT = 13, 64  # what Threadline sends (docs/providers/telegram.md)
CALLBACK_ANSWER = 200  # characters of an answerCallbackQuery notification
CAPTION = 1024  # characters of a photo's or document's caption
BOT_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files (hosted Bot API)
_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_FILE_PATH = re.compile(r"^[A-Za-z0-9_./-]{1,300}$")
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})  # others: sendDocument
_CHAT_ID = re.compile(r"^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$")


class TelegramAdapter(BaseAdapter):
    kind: ClassVar[str] = "telegram"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=True, private=True, char_limit=CHAR_LIMIT, window_hours=None, realtime=True,
        can_hide=False, identity_kind="telegram")
    provider_hosts: ClassVar[ProviderHosts | None] = TELEGRAM_API

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        given = request.header(WEBHOOK_HEADER)
        if not given:
            raise SignatureError("missing X-Telegram-Bot-Api-Secret-Token header",
                                 code="missing_signature")
        expected = str(account.require("secret_token"))
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise SignatureError("secret token does not match")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        try:
            raw: Any = json.loads(request.body)
        except (ValueError, RecursionError):
            raise PayloadError("body is not JSON") from None
        if not isinstance(raw, dict):
            raise PayloadError("a Telegram update is a JSON object")
        update = _parse(raw)
        if not _interesting(update, raw):
            return []  # reactions, member changes, service messages...
        payload: JSON = {"update": raw, "received_at": datetime.now(UTC).isoformat()}
        return [ProviderEvent(f"update:{update.update_id}", payload)]

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        raw = payload.get("update") if isinstance(payload, dict) else None
        if not isinstance(raw, dict):
            raise PayloadError("stored Telegram event has no update")
        update = _parse(raw)
        bot_id = _bot_id(account)
        own = frozenset(str(c).lower() for c in (account.get("own_chat_ids") or ())
                        if isinstance(c, str | int))
        for name in NEW_MESSAGE_FIELDS:
            msg = getattr(update, name)
            if msg is not None:
                if not msg.has_content:
                    return []
                return [to_inbound(msg, update_id=update.update_id, bot_id=bot_id,
                                   own_chat_ids=own)]
        for name in EDIT_FIELDS:
            msg = getattr(update, name)
            if msg is not None:
                return [to_edit(msg)] if msg.has_content else []
        if update.callback_query is not None:
            return [to_callback(update.callback_query, update_id=update.update_id,
                                bot_id=bot_id, at=_received(payload.get("received_at")))]
        return _business_deletes(raw, payload.get("received_at"))

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        check_common_policy(self.traits, message, context)
        if not message.text.strip() and not message.attachments:
            raise SendPolicyError("Telegram refuses an empty message", code="empty_message",
                                  allowed=["text"])
        if len(message.attachments) > 1:
            raise SendPolicyError("one attachment per Telegram message",
                                  code="too_many_attachments", allowed=["one attachment"])
        if message.attachments and len(message.text) > CAPTION:
            raise SendPolicyError(f"a Telegram caption has at most {CAPTION} characters",
                                  code="too_long", allowed=[f"at most {CAPTION} characters"])
        if message.attachments and choices_of(message.options):
            raise SendPolicyError("buttons go with text, not with an attachment",
                                  code="attachment_with_choices", allowed=["text"])
        check_choice_titles(choices_of(message.options), most=KEYBOARD_BUTTONS,
                            title_chars=BUTTON_TEXT, channel="Telegram")
        if _target(message)[0] is None:
            raise SendPolicyError("no Telegram chat to send to", code="no_recipient")
        if message.visibility is Visibility.PRIVATE and context.last_inbound_at is None:
            raise SendPolicyError(
                "a bot cannot start a private chat: the user must message the bot first",
                code="bot_cannot_start_chat", allowed=["public"])

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        chat_id, reply = _target(message)
        if chat_id is None:
            raise PermanentSendError("no Telegram chat to send to", code="no_recipient")
        body: JSON = {"chat_id": _chat_value(chat_id), "text": message.text}
        if reply is not None:
            reply_chat, reply_mid = reply
            parameters: JSON = {"message_id": reply_mid, "allow_sending_without_reply": True}
            if reply_chat != chat_id:
                parameters["chat_id"] = _chat_value(reply_chat)
            body["reply_parameters"] = parameters
        choices = choices_of(message.options)
        if choices:  # one button a row: the titles stay readable on a phone
            body["reply_markup"] = {"inline_keyboard": [
                [{"text": c.title, "callback_data": c.id}] for c in choices]}
        thread = message.options.get("message_thread_id")
        if isinstance(thread, int) and not isinstance(thread, bool):
            body["message_thread_id"] = thread
        if message.attachments:
            answer = _send_file(http, account, body, message.attachments[0])
        else:
            answer = _call(http, account, "sendMessage", body)
        if not isinstance(answer.result, TgSentMessage):
            raise PermanentSendError("Telegram answered ok without the sent message",
                                     code="bad_response")
        return SendResult(provider_id=provider_id(answer.result.chat.id,
                                                  answer.result.message_id),
                          state=DeliveryState.SENT)


    def fetch_media(self, account: AccountConfig, attachment: Attachment, http: httpx.Client,
                    *, max_bytes: int) -> MediaBytes:
        """`getFile` for the file's path, then the file URL (the bot token is in both URLs:
        never in an error or a log). Bots may download files of at most 20 MB."""
        file_id = attachment.provider_media_id or ""
        if not _FILE_ID.match(file_id):
            raise PermanentSendError("no Telegram file id", code="no_media_id")
        cap = min(max_bytes, BOT_DOWNLOAD_BYTES)
        if attachment.size is not None and attachment.size > cap:
            raise PermanentSendError(f"the file is larger than {cap} bytes",
                                     code="media_too_large")
        token = account.get("bot_token")
        if not token:
            raise PermanentSendError("channel account is missing config key 'bot_token'",
                                     code="account_misconfigured")
        base = account.provider_base(TELEGRAM_API)
        bot = quote(str(token), safe=":")
        try:
            response = http.post(f"{base}/bot{bot}/getFile", json={"file_id": file_id},
                                 follow_redirects=False)
        except httpx.TransportError as exc:
            raise RetryableSendError(f"could not reach Telegram: {type(exc).__name__}",
                                     code="transport_error") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        result = answer.get("result") if isinstance(answer, dict) else None
        path = result.get("file_path") if isinstance(result, dict) else None
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableSendError(f"Telegram getFile answered {response.status_code}",
                                     code=f"telegram_{response.status_code}")
        if not isinstance(path, str) or not _FILE_PATH.match(path) or ".." in path:
            raise PermanentSendError(f"Telegram getFile gave no file path "
                                     f"({response.status_code})", code="media_gone")
        data, _ = download(http, f"{base}/file/bot{bot}/{quote(path, safe='/')}",
                           max_bytes=cap)
        return MediaBytes(data=data, mime_type=attachment.mime_type, name=attachment.name)

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        """`answer_callback`: stop the spinner of a tapped inline button, with a short
        notification (`params["text"]`)."""
        if action.name != "answer_callback" or not action.target:
            return super().act(account, action, http)
        body: JSON = {"callback_query_id": action.target}
        text = str(action.params.get("text") or "")[:CALLBACK_ANSWER]
        if text:
            body["text"] = text
        _call(http, account, "answerCallbackQuery", body)
        return SendResult(provider_id=action.target)


def _send_file(http: httpx.Client, account: AccountConfig, body: JSON,
               attachment: Attachment) -> TgAnswer:
    """sendPhoto for JPEG/PNG/WebP images, sendDocument otherwise: the bytes as a multipart
    upload when we have them (photos up to 10 MB, files up to 50 MB), else the URL."""
    photo = attachment.type == "image" and (attachment.mime_type or "") in PHOTO_TYPES
    method, field = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
    text = str(body.pop("text", "") or "")
    if text:
        body["caption"] = text
    if isinstance(attachment, FileAttachment) and attachment.content:
        form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        files = {field: (attachment.name or field, attachment.content,
                         attachment.mime_type or "application/octet-stream")}
        return _call(http, account, method, form, files=files)
    if not attachment.url:
        raise PermanentSendError("the attachment has neither bytes nor a URL",
                                 code="attachment_missing")
    return _call(http, account, method, {**body, field: attachment.url})


def _call(http: httpx.Client, account: AccountConfig, method: str, body: JSON, *,
          files: dict[str, tuple[str, bytes, str]] | None = None) -> TgAnswer:
    token = account.get("bot_token")
    if not token:
        raise PermanentSendError("channel account is missing config key 'bot_token'",
                                 code="account_misconfigured")
    base = account.provider_base(TELEGRAM_API)
    url = f"{base}/bot{quote(str(token), safe=':')}/{method}"
    try:
        if files:
            response = http.post(url, data=body, files=files, follow_redirects=False)
        else:
            response = http.post(url, json=body, follow_redirects=False)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        # the URL holds the bot token: never put the exception text in the error
        raise RetryableSendError(f"could not reach Telegram: {type(exc).__name__}",
                                 code="transport_unreached") from None
    except httpx.TransportError as exc:
        raise RetryableSendError(f"no answer from Telegram: {type(exc).__name__}",
                                 code="transport_ambiguous") from None
    try:
        answer = TgAnswer.model_validate_json(response.content or b"{}")
    except ValidationError:
        answer = TgAnswer(ok=False, description=response.text[:300] or None)
    if response.status_code < 400 and answer.ok:
        return answer
    code = answer.error_code or response.status_code
    reason = f"Telegram error {code}: {answer.description or response.reason_phrase}"
    params = answer.parameters
    if code == 429 or response.status_code == 429 or code >= 500:
        retry_after = params.retry_after if params and params.retry_after is not None else None
        if retry_after is None:
            retry_after = _header_retry_after(response)
        raise RetryableSendError(reason, retry_after=retry_after, code=f"telegram_{code}")
    if params and params.migrate_to_chat_id is not None:
        raise PermanentSendError(f"{reason} (the group is now chat {params.migrate_to_chat_id})",
                                 code="telegram_chat_migrated")
    raise PermanentSendError(reason, code=f"telegram_{code}")


def _target(message: OutboundMessage) -> tuple[str | None, tuple[str, int] | None]:
    """(chat id to send to, (chat id, message id) replied to) from the outbound message."""
    reply: tuple[str, int] | None = None
    if message.in_reply_to:
        chat, _, mid = message.in_reply_to.rpartition(":")
        if _CHAT_ID.match(chat) and mid.isdigit():
            reply = (chat, int(mid))
    candidates: list[Any] = [message.options.get("chat_id")]
    thread = message.thread_key or ""
    thread_chat = thread[3:] if thread.startswith("tg:") else None
    if message.visibility is Visibility.PRIVATE:
        candidates += [thread_chat, message.recipient]
        if reply is not None and not reply[0].startswith("-"):
            candidates.append(reply[0])  # a private chat id is the user's id (positive)
    else:
        candidates += [reply[0] if reply else None, thread_chat]
    for candidate in candidates:
        if candidate is not None and _CHAT_ID.match(str(candidate)):
            return str(candidate), reply
    return None, reply


def _chat_value(chat_id: str) -> int | str:
    return chat_id if chat_id.startswith("@") else int(chat_id)


def _header_retry_after(response: httpx.Response) -> float | None:
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _parse(raw: dict[str, Any]) -> TgUpdate:
    try:
        return TgUpdate.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise PayloadError(f"invalid update at {where or 'body'}: "
                           f"{first.get('msg', 'invalid')}") from None


def _interesting(update: TgUpdate, raw: dict[str, Any]) -> bool:
    for name in NEW_MESSAGE_FIELDS + EDIT_FIELDS:
        msg = getattr(update, name)
        if msg is not None:
            return bool(msg.has_content)
    if update.callback_query is not None:  # a tap on one of our inline buttons
        return update.callback_query.data is not None
    return isinstance(raw.get("deleted_business_messages"), dict)


def _received(value: Any) -> datetime:
    """When the update was stored (a callback query carries no date of its own)."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(UTC)
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _business_deletes(raw: dict[str, Any], received_at: Any) -> list[NormalizedItem]:
    """`deleted_business_messages` {chat, message_ids[]}
    (shape unverified, docs/providers/telegram.md#updates)."""
    deleted = raw.get("deleted_business_messages")
    if not isinstance(deleted, dict):
        return []
    chat, ids = deleted.get("chat"), deleted.get("message_ids")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if not isinstance(chat_id, int) or isinstance(chat_id, bool) or not isinstance(ids, list):
        raise PayloadError("deleted_business_messages needs chat.id and message_ids")
    at = _received(received_at)
    return [MessageDelete(provider_id=provider_id(chat_id, mid), at=at)
            for mid in ids if isinstance(mid, int) and not isinstance(mid, bool)]


def _bot_id(account: AccountConfig) -> str:
    explicit = account.get("bot_id")
    if explicit:
        return str(explicit)
    token = str(account.get("bot_token") or "")
    head = token.partition(":")[0]
    return head if head.isdigit() else ""
