"""Wire shapes of the Telegram Bot API: Update, Message and the method answers
(docs/providers/telegram.md).

Only the fields Threadline reads are modelled; everything else is ignored (Telegram adds fields
and update types with every Bot API version).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_UNIX = 253_402_300_799  # 9999-12-31: anything later is not a Telegram date
TgId = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]  # chat ids of groups are negative


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class TgUser(_Model):
    id: TgId
    is_bot: bool = False
    first_name: str = Field(default="", max_length=1000)
    last_name: str | None = Field(default=None, max_length=1000)
    username: str | None = Field(default=None, max_length=255)
    language_code: str | None = Field(default=None, max_length=35)


class TgChat(_Model):
    id: TgId
    type: str = Field(max_length=32)  # private, group, supergroup, channel
    title: str | None = Field(default=None, max_length=1000)
    username: str | None = Field(default=None, max_length=255)
    first_name: str | None = Field(default=None, max_length=1000)
    last_name: str | None = Field(default=None, max_length=1000)


class TgFile(_Model):
    """PhotoSize, Document, Video, Audio, Voice, Animation, Sticker: the shared fields."""

    file_id: str = Field(min_length=1, max_length=1000)
    file_unique_id: str | None = Field(default=None, max_length=1000)
    file_size: int | None = Field(default=None, ge=0)
    file_name: str | None = Field(default=None, max_length=1000)
    mime_type: str | None = Field(default=None, max_length=255)


class TgLocation(_Model):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class TgContact(_Model):
    phone_number: str = Field(min_length=1, max_length=64)
    first_name: str = Field(default="", max_length=1000)
    user_id: int | None = None


class TgReplyTo(_Model):
    """`reply_to_message`: the replied message (only its ids are needed)."""

    message_id: TgId
    chat: TgChat | None = None


class TgMessage(_Model):
    message_id: TgId
    from_: TgUser | None = Field(default=None, alias="from")
    sender_chat: TgChat | None = None
    chat: TgChat
    date: int = Field(ge=0, le=MAX_UNIX)
    edit_date: int | None = Field(default=None, ge=0, le=MAX_UNIX)
    message_thread_id: int | None = None
    is_topic_message: bool = False
    is_automatic_forward: bool = False
    text: str | None = Field(default=None, max_length=100_000)
    caption: str | None = Field(default=None, max_length=100_000)
    reply_to_message: TgReplyTo | None = None
    photo: list[TgFile] | None = Field(default=None, max_length=100)
    document: TgFile | None = None
    video: TgFile | None = None
    animation: TgFile | None = None
    audio: TgFile | None = None
    voice: TgFile | None = None
    video_note: TgFile | None = None
    sticker: TgFile | None = None
    location: TgLocation | None = None
    contact: TgContact | None = None

    @property
    def body(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    @property
    def has_content(self) -> bool:
        """False for service messages (members joined, pinned message, ...)."""
        return any(x is not None for x in (
            self.text, self.caption, self.photo, self.document, self.video, self.animation,
            self.audio, self.voice, self.video_note, self.sticker, self.location, self.contact))


class TgCallbackQuery(_Model):
    """A tap on an inline keyboard button of one of our messages (`data` is the button's
    callback_data; `message` the message it belongs to, absent when too old)."""

    id: str = Field(min_length=1, max_length=256)
    from_: TgUser = Field(alias="from")
    message: TgMessage | None = None
    chat_instance: str | None = Field(default=None, max_length=256)
    data: str | None = Field(default=None, max_length=256)


class TgUpdate(_Model):
    update_id: int = Field(ge=0, le=2**63 - 1)
    callback_query: TgCallbackQuery | None = None
    message: TgMessage | None = None
    edited_message: TgMessage | None = None
    channel_post: TgMessage | None = None
    edited_channel_post: TgMessage | None = None
    business_message: TgMessage | None = None
    edited_business_message: TgMessage | None = None


class TgResponseParameters(_Model):
    retry_after: float | None = Field(default=None, ge=0)
    migrate_to_chat_id: int | None = None


class TgSentMessage(_Model):
    message_id: int
    chat: TgChat


class TgAnswer(_Model):
    """`{"ok": true, "result": {...}}` or `{"ok": false, "error_code", "description", ...}`."""

    ok: bool = False
    result: TgSentMessage | bool | None = None  # a sent message, or `true` (answers...)
    error_code: int | None = None
    description: str | None = Field(default=None, max_length=2000)
    parameters: TgResponseParameters | None = None
