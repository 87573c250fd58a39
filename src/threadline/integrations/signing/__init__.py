"""Standard Webhooks signing (symmetric `v1`), shared by the outbound webhooks and the
customer data lookup: a `whsec_` secret per endpoint (base64 of 32 random bytes), and
HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the decoded secret, base64-encoded. A
receiver that verifies our webhooks verifies our lookups with the same code."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105  (the prefix of every secret, not one)
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret, shown once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded bytes after `whsec_` (padding may be missing)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a whsec_ secret") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one secret: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
