"""Per-channel media limits as data (docs/media.md#limits-per-channel).

Each channel maps a kind of attachment (image, video, audio, document, sticker) to the
sniffed MIME types it takes and the most bytes. A file is refused with a typed error that
names the channel's limit (`MediaRefused`). Operators override a channel's size caps with
`THREADLINE_MEDIA_LIMITS` (JSON: {"whatsapp": {"video": 20000000}}).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MB = 1024 * 1024

IMAGES = ("image/jpeg", "image/png")
IMAGES_GIF = (*IMAGES, "image/gif")
IMAGES_ALL = (*IMAGES_GIF, "image/webp")
PDF = ("application/pdf",)
OFFICE = (
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
TEXT = ("text/plain", "text/csv")
DOCUMENTS = (*PDF, *OFFICE, *TEXT)
VIDEO = ("video/mp4", "video/3gpp", "video/quicktime", "video/webm")
AUDIO = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/x-wav",
         "audio/wav")


@dataclass(frozen=True)
class Slot:
    """One kind of attachment on a channel: the types it takes and the most bytes."""

    kind: str  # image | video | audio | document | sticker
    types: tuple[str, ...]
    max_bytes: int


# The channel kinds of channels/registry.py. Sources: §2.1 WhatsApp, §2.2 Messenger, §2.3
# Instagram, §2.4 Telegram (upload limits), §2.5 Twilio MMS (5 MB in all), §2.6 X, §2.7 email
# (kept under aiosmtpd's 32 MiB after base64), §2.8 web chat (our own).
CHANNEL_LIMITS: dict[str, tuple[Slot, ...]] = {
    "whatsapp": (Slot("image", IMAGES, 5 * MB), Slot("sticker", ("image/webp",), 100 * 1024),
                 Slot("video", ("video/mp4", "video/3gpp"), 16 * MB),
                 Slot("audio", ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4",
                                "audio/ogg"), 16 * MB),
                 Slot("document", DOCUMENTS, 100 * MB)),
    "messenger": (Slot("image", IMAGES_GIF, 8 * MB), Slot("video", VIDEO, 25 * MB),
                  Slot("audio", AUDIO, 25 * MB), Slot("document", DOCUMENTS, 25 * MB)),
    "instagram": (Slot("image", IMAGES_GIF, 8 * MB),
                  Slot("video", ("video/mp4", "video/quicktime", "video/webm"), 25 * MB),
                  Slot("audio", ("audio/aac", "audio/mp4", "audio/x-wav", "audio/wav"),
                       25 * MB),
                  Slot("document", PDF, 25 * MB)),
    "telegram": (Slot("image", IMAGES_ALL, 10 * MB), Slot("video", VIDEO, 50 * MB),
                 Slot("audio", AUDIO, 50 * MB), Slot("document", DOCUMENTS, 50 * MB)),
    "sms": (Slot("image", IMAGES_GIF, 5 * MB), Slot("video", ("video/mp4",), 5 * MB),
            Slot("audio", ("audio/mpeg", "audio/mp4", "audio/ogg"), 5 * MB),
            Slot("document", PDF, 5 * MB)),
    "x": (Slot("image", IMAGES_ALL, 5 * MB), Slot("video", ("video/mp4",), 512 * MB)),
    "email": (Slot("image", IMAGES_ALL, 20 * MB), Slot("video", VIDEO, 20 * MB),
              Slot("audio", AUDIO, 20 * MB), Slot("document", DOCUMENTS, 20 * MB)),
    "webchat": (Slot("image", IMAGES_ALL, 10 * MB), Slot("video", VIDEO, 40 * MB),
                Slot("audio", AUDIO, 40 * MB), Slot("document", DOCUMENTS, 40 * MB)),
}
CHANNEL_LIMITS["facebook"] = CHANNEL_LIMITS["messenger"]
CHANNEL_LIMITS["api"] = CHANNEL_LIMITS["webchat"]
# Inbound files are kept if they are any of these (a customer's file is evidence, whatever
# the channel would let us send back); executables, HTML and SVG never are.
ANY_CHANNEL: tuple[Slot, ...] = (
    Slot("image", IMAGES_ALL, 100 * MB), Slot("video", VIDEO, 512 * MB),
    Slot("audio", AUDIO, 100 * MB), Slot("document", (*DOCUMENTS, "application/zip"), 100 * MB))


class MediaRefused(Exception):
    """A file a channel does not take: `code` is stable, `allowed` says what it does take."""

    def __init__(self, message: str, *, code: str, channel: str | None,
                 allowed: list[str], status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.channel = channel
        self.allowed = allowed
        self.status = status


def human_size(size: int) -> str:
    if size >= MB:
        return f"{size / MB:g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} bytes"


def slots_of(channel: str | None,
             overrides: Mapping[str, Mapping[str, int]] | None = None) -> tuple[Slot, ...]:
    if channel is None:
        return ANY_CHANNEL
    slots = CHANNEL_LIMITS.get(channel)
    if slots is None:
        return ()
    extra = (overrides or {}).get(channel) or {}
    return tuple(Slot(s.kind, s.types, int(extra.get(s.kind, s.max_bytes))) for s in slots)


def most_bytes(channel: str | None,
               overrides: Mapping[str, Mapping[str, int]] | None = None) -> int:
    """The biggest file a channel takes of any kind (the streaming cap of an upload)."""
    return max((s.max_bytes for s in slots_of(channel, overrides)), default=0)


def check(channel: str | None, mime: str, size: int,
          overrides: Mapping[str, Mapping[str, int]] | None = None) -> Slot:
    """The slot a file of sniffed type `mime` and `size` bytes goes in on `channel` (None:
    any channel, for inbound), or MediaRefused naming the channel's limit."""
    slots = slots_of(channel, overrides)
    name = channel or "Threadline"
    matching = [s for s in slots if mime in s.types]
    if not matching:
        kinds = sorted({t for s in slots for t in s.types})
        raise MediaRefused(f"{name} does not take {mime} files", code="media_type_refused",
                           channel=channel, allowed=kinds)
    slot = matching[0]
    if size > slot.max_bytes:
        raise MediaRefused(
            f"this {slot.kind} is {human_size(size)}; {name} takes {slot.kind} files of at "
            f"most {human_size(slot.max_bytes)}", code="media_too_large", channel=channel,
            allowed=[f"{slot.kind} of at most {human_size(slot.max_bytes)}"])
    return slot
