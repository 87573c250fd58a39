"""Telegram Message -> normalised items
(docs/providers/telegram.md#updates, docs/providers/telegram.md#ids)."""

from __future__ import annotations

from datetime import UTC, datetime

from threadline.channels.base import (
    JSON,
    Attachment,
    Author,
    Coordinate,
    InboundMessage,
    MessageEdit,
    MessageKind,
    Visibility,
)
from threadline.channels.telegram.payloads import (
    TgCallbackQuery,
    TgChat,
    TgFile,
    TgMessage,
    TgUser,
)

IDENTITY_KIND = "telegram"


def provider_id(chat_id: int, message_id: int) -> str:
    """Telegram message ids are unique per chat only: '<chat.id>:<message_id>'."""
    return f"{chat_id}:{message_id}"


def thread_key(chat_id: int | str) -> str:
    return f"tg:{chat_id}"


def to_inbound(msg: TgMessage, *, update_id: int, bot_id: str,
               own_chat_ids: frozenset[str]) -> InboundMessage:
    private = msg.chat.type == "private"
    reply = msg.reply_to_message
    in_reply_to = None
    if reply is not None:
        in_reply_to = provider_id(reply.chat.id if reply.chat else msg.chat.id, reply.message_id)
    if private:
        kind = MessageKind.MESSAGE
    elif in_reply_to is not None:
        kind = MessageKind.COMMENT
    else:
        kind = MessageKind.POST
    meta: JSON = {"update_id": update_id, "chat_id": str(msg.chat.id),
                  "chat_type": msg.chat.type}
    if msg.chat.title:
        meta["chat_title"] = msg.chat.title
    if msg.chat.username:
        meta["chat_username"] = msg.chat.username
    if msg.message_thread_id is not None:
        meta["message_thread_id"] = msg.message_thread_id
    return InboundMessage(
        provider_id=provider_id(msg.chat.id, msg.message_id),
        author=author_of(msg, bot_id, own_chat_ids),
        visibility=Visibility.PRIVATE if private else Visibility.PUBLIC,
        text=msg.body, created_at=from_unix(msg.date), kind=kind, in_reply_to=in_reply_to,
        thread_key=thread_key(msg.chat.id) if private else None,
        attachments=attachments_of(msg), meta=meta)


def to_callback(query: TgCallbackQuery, *, update_id: int, bot_id: str,
                at: datetime) -> InboundMessage:
    """A tap on an inline button: an item from the user, in the chat of the message whose
    button it was, with the button's `callback_data` (the text is the data too: a tap the
    pipeline does not recognise reads as what it was)."""
    msg = query.message
    chat = msg.chat if msg is not None else None
    private = chat is None or chat.type == "private"
    chat_id = chat.id if chat is not None else query.from_.id
    name = " ".join(p for p in (query.from_.first_name, query.from_.last_name) if p) or None
    meta: JSON = {"update_id": update_id, "callback_data": query.data or "",
                  "callback_query_id": query.id, "chat_id": str(chat_id)}
    return InboundMessage(
        provider_id=f"callback:{query.id}",
        author=Author(identity_kind=IDENTITY_KIND, provider_user_id=str(query.from_.id),
                      handle=query.from_.username, display_name=name,
                      is_self=bool(bot_id) and str(query.from_.id) == bot_id),
        visibility=Visibility.PRIVATE if private else Visibility.PUBLIC,
        text=query.data or "", created_at=at, kind=MessageKind.MESSAGE,
        in_reply_to=provider_id(chat_id, msg.message_id) if msg is not None else None,
        thread_key=thread_key(chat_id) if private else None, meta=meta)


def to_edit(msg: TgMessage) -> MessageEdit:
    return MessageEdit(provider_id=provider_id(msg.chat.id, msg.message_id), text=msg.body,
                       at=from_unix(msg.edit_date if msg.edit_date is not None else msg.date))


def author_of(msg: TgMessage, bot_id: str, own_chat_ids: frozenset[str]) -> Author:
    """The sending user, or the chat a message was sent on behalf of (channels, anonymous
    admins, automatic forwards). `is_self` for our bot and for chats listed as our own."""
    if msg.sender_chat is not None or msg.from_ is None:
        chat: TgChat = msg.sender_chat or msg.chat
        own = str(chat.id) in own_chat_ids or (
            chat.username is not None and f"@{chat.username}".lower() in own_chat_ids)
        return Author(identity_kind=IDENTITY_KIND, provider_user_id=str(chat.id),
                      handle=chat.username, display_name=chat.title or _name_of_chat(chat),
                      is_self=own)
    user: TgUser = msg.from_
    coordinates: tuple[Coordinate, ...] = ()
    if msg.contact is not None and msg.contact.user_id == user.id:
        # A contact the user shared about himself is his own number, vouched for by Telegram.
        phone = msg.contact.phone_number.strip()
        coordinates = (Coordinate("phone", phone if phone.startswith("+") else f"+{phone}"),)
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or None
    return Author(identity_kind=IDENTITY_KIND, provider_user_id=str(user.id),
                  handle=user.username, display_name=name,
                  is_self=bool(bot_id) and str(user.id) == bot_id, coordinates=coordinates)


def attachments_of(msg: TgMessage) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if msg.photo:
        largest = max(msg.photo, key=lambda p: p.file_size or 0)
        found.append(_file("image", largest))
    for kind, item in (("file", msg.document), ("video", msg.video), ("video", msg.animation),
                       ("audio", msg.audio), ("audio", msg.voice), ("video", msg.video_note),
                       ("sticker", msg.sticker)):
        if item is not None:
            found.append(_file(kind, item))
    if msg.location is not None:
        found.append(Attachment(type="location",
                                url=f"geo:{msg.location.latitude},{msg.location.longitude}"))
    return tuple(found)


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _file(kind: str, item: TgFile) -> Attachment:
    return Attachment(type=kind, mime_type=item.mime_type, provider_media_id=item.file_id,
                      name=item.file_name, size=item.file_size)


def _name_of_chat(chat: TgChat) -> str | None:
    return " ".join(p for p in (chat.first_name, chat.last_name) if p) or None
