"""Helpers for X DMs with media end to end: an X account on the sandbox, a customer's DM with
a photo (the bytes put on the sandbox's ton path), and waiting for the worker's verdict."""

from __future__ import annotations

import random
from typing import Any

from tests.e2e.conftest import E2E, wait_for
from threadline.sandbox.providers import x as sx

OWN_ID = "2244994945"


def x_config(e2e: E2E, **extra: Any) -> dict[str, Any]:
    return {"consumer_key": "ck-media", "consumer_secret": "sandbox_secret",
            "access_token": f"{OWN_ID}-media-token", "access_token_secret": "ats-media",
            "user_id": OWN_ID, "api_base_url": e2e.sandbox_url("/x"), **extra}


def snowflake() -> str:
    return str(1_880_000_000_000_000_000 + random.randrange(10**15))


def dm_with_photo(e2e: E2E, data: bytes, mime: str = "image/jpeg", *,
                  config: dict[str, Any] | None = None, name: str = "IMG_2211.jpg",
                  text: str | None = None) -> tuple[str, str, str, dict[str, Any]]:
    """A customer DMs the account a photo: (account id, DM event id, media id, config)."""
    config = config or x_config(e2e)
    account = e2e.account("x", config)
    event_id, media_id = snowflake(), snowflake()
    sx.put_dm_media(data, mime, media_id)
    media = sx.dm_media(e2e.sandbox.url, event_id, media_id, name)
    hook = sx.dm_webhook(account, config, event_id, str(random.randrange(10**8, 10**9)),
                         "jane_doe", text if text is not None else f"the box {e2e.tag}",
                         media=media)
    assert e2e.post(hook).status_code == 200
    return account, event_id, media_id, config


def settled_attachment(e2e: E2E, event_id: str) -> tuple[dict[str, Any], dict[str, Any],
                                                         dict[str, Any]]:
    """(conversation, message, attachment entry) once the worker stored or refused it."""
    def probe() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
        conv, message = e2e.wait_message(event_id)
        done = [a for a in message["attachments"]
                if a.get("attachment_id") or a.get("media_error")]
        return (conv, message, done[0]) if done else None
    return wait_for(probe, timeout=30, what=f"attachment of DM {event_id}")
