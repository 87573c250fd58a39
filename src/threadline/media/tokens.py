"""Signed, expiring tokens naming one file of one workspace (itsdangerous, the process
secret key, a salt of its own so no other token of Threadline opens a file).

A token carries the file id, the workspace id, the variant (the file or its thumbnail) and
its expiry. Agents get short-lived ones (`media_url_minutes`); a provider that fetches a
file we send by link gets one that outlives its retries (`media_provider_url_hours`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from threadline.config import Settings

SALT = "tl-media-v1"
VARIANTS = ("file", "thumb")


class BadMediaToken(Exception):
    """Forged, altered or expired."""


@dataclass(frozen=True)
class MediaGrant:
    file_id: uuid.UUID
    workspace_id: uuid.UUID
    variant: str
    expires_at: int


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.resolved_secret_key(), salt=SALT)


def sign(settings: Settings, file_id: uuid.UUID, workspace_id: uuid.UUID, *,
         variant: str = "file", seconds: float, now: float | None = None) -> str:
    if variant not in VARIANTS:
        raise ValueError("unknown variant")
    expires = int((now if now is not None else time.time()) + seconds)
    return str(_serializer(settings).dumps(
        {"f": file_id.hex, "w": workspace_id.hex, "v": variant, "x": expires}))


def verify(settings: Settings, token: str, *, now: float | None = None) -> MediaGrant:
    if len(token) > 400:
        raise BadMediaToken("token too long")
    try:
        data = _serializer(settings).loads(token)
    except BadSignature:
        raise BadMediaToken("bad signature") from None
    try:
        grant = MediaGrant(file_id=uuid.UUID(hex=str(data["f"])),
                           workspace_id=uuid.UUID(hex=str(data["w"])),
                           variant=str(data["v"]), expires_at=int(data["x"]))
    except (KeyError, TypeError, ValueError):
        raise BadMediaToken("malformed token") from None
    if grant.variant not in VARIANTS:
        raise BadMediaToken("unknown variant")
    if grant.expires_at < (now if now is not None else time.time()):
        raise BadMediaToken("expired")
    return grant
