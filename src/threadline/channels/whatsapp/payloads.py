"""Wire format of the WhatsApp Cloud API `messages` webhook field
(docs/providers/whatsapp.md#inbound)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from threadline.channels.meta_common import MetaModel

MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "document": "file",
               "sticker": "sticker"}
STATUS_VALUES = frozenset({"sent", "delivered", "read", "failed"})
IGNORED_TYPES = frozenset({"reaction"})  # no normalised item for reactions


class Metadata(MetaModel):
    display_phone_number: str | None = Field(default=None, max_length=64)
    phone_number_id: str | None = Field(default=None, max_length=128)


class Profile(MetaModel):
    name: str | None = Field(default=None, max_length=1000)


class Contact(MetaModel):
    wa_id: str = Field(min_length=1, max_length=64)
    profile: Profile | None = None


class Text(MetaModel):
    body: str = Field(default="", max_length=100_000)


class Media(MetaModel):
    id: str | None = Field(default=None, max_length=256)
    mime_type: str | None = Field(default=None, max_length=255)
    sha256: str | None = Field(default=None, max_length=255)
    caption: str | None = Field(default=None, max_length=100_000)
    filename: str | None = Field(default=None, max_length=1000)


class Location(MetaModel):
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = Field(default=None, max_length=1000)
    address: str | None = Field(default=None, max_length=1000)
    url: str | None = Field(default=None, max_length=4096)


class Choice(MetaModel):
    id: str | None = Field(default=None, max_length=1000)
    title: str = Field(default="", max_length=10_000)
    description: str | None = Field(default=None, max_length=10_000)


class Interactive(MetaModel):
    type: str = Field(default="", max_length=50)
    button_reply: Choice | None = None
    list_reply: Choice | None = None
    nfm_reply: dict[str, Any] | None = None


class Button(MetaModel):
    text: str = Field(default="", max_length=10_000)
    payload: str | None = Field(default=None, max_length=10_000)


class Context(MetaModel):
    id: str | None = Field(default=None, max_length=512)
    sender: str | None = Field(default=None, alias="from", max_length=64)


class Error(MetaModel):
    code: int | None = None
    title: str | None = Field(default=None, max_length=1000)
    message: str | None = Field(default=None, max_length=1000)
    error_data: dict[str, Any] | None = None

    def describe(self) -> str:
        text = " ".join(str(p) for p in (self.code, self.title) if p is not None)
        if self.message and self.message != self.title:
            text += f": {self.message}"
        details = (self.error_data or {}).get("details")
        if details:
            text += f" ({str(details)[:500]})"
        return text or "unknown error"


class WaMessage(MetaModel):
    id: str = Field(min_length=1, max_length=512)
    sender: str = Field(alias="from", min_length=1, max_length=64)
    timestamp: int | float | str
    type: str = Field(max_length=50)
    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    contacts: list[dict[str, Any]] | None = Field(default=None, max_length=100)
    system: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None
    context: Context | None = None
    errors: list[Error] = Field(default_factory=list, max_length=100)


class WaStatus(MetaModel):
    id: str = Field(min_length=1, max_length=512)
    status: str = Field(max_length=50)
    timestamp: int | float | str
    recipient_id: str | None = Field(default=None, max_length=64)
    errors: list[Error] = Field(default_factory=list, max_length=100)
    biz_opaque_callback_data: str | None = Field(default=None, max_length=1000)


class Value(MetaModel):
    messaging_product: str | None = Field(default=None, max_length=50)
    metadata: Metadata | None = None
    contacts: list[Contact] = Field(default_factory=list, max_length=1000)
    messages: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    statuses: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)


class SendAnswerMessage(MetaModel):
    id: str = Field(min_length=1, max_length=512)


class SendAnswer(MetaModel):
    contacts: list[Contact] = Field(default_factory=list, max_length=100)
    messages: list[SendAnswerMessage] = Field(min_length=1, max_length=100)
