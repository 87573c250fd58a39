"""The explicit channel registry: one line per channel kind."""

from __future__ import annotations

import importlib
from functools import cache

from threadline.channels.base import ChannelAdapter, ChannelError

_ADAPTERS: dict[str, str] = {
    "api": "threadline.channels.api.adapter:ApiAdapter",
    "x": "threadline.channels.x.adapter:XAdapter",
    "facebook": "threadline.channels.facebook.adapter:FacebookAdapter",
    "messenger": "threadline.channels.facebook.adapter:FacebookAdapter",
    "instagram": "threadline.channels.instagram.adapter:InstagramAdapter",
    "whatsapp": "threadline.channels.whatsapp.adapter:WhatsAppAdapter",
    "sms": "threadline.channels.twilio.adapter:SmsAdapter",
    "voice": "threadline.channels.twilio.adapter:VoiceAdapter",
    "telegram": "threadline.channels.telegram.adapter:TelegramAdapter",
    "discourse": "threadline.channels.discourse.adapter:DiscourseAdapter",
    "email": "threadline.channels.email.adapter:EmailAdapter",
    "webchat": "threadline.channels.webchat.adapter:WebchatAdapter",
}


def kinds() -> list[str]:
    return sorted(_ADAPTERS)


@cache
def get_adapter(kind: str) -> ChannelAdapter:
    try:
        target = _ADAPTERS[kind]
    except KeyError:
        raise ChannelError(f"unknown channel kind {kind!r}", code="unknown_channel") from None
    module_name, _, class_name = target.partition(":")
    adapter: ChannelAdapter = getattr(importlib.import_module(module_name), class_name)()
    return adapter
