"""Visitor tokens and identity verification.

A visitor token is an itsdangerous timed signature (the process secret key) over a small
JSON object binding the channel account and the visitor id, plus what the visitor told us at
the start (the entry form's name and email, a short-link code) and whether the host site
verified his identity. It is sent in the `X-Visitor-Token` header, never in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from threadline.errors import Unauthorized, ValidationFailed

SALT = "threadline.webchat.visitor"
HEADER = "x-visitor-token"
DEFAULT_TTL_HOURS = 24 * 30


@dataclass(frozen=True)
class Visitor:
    account_id: str
    visitor_id: str
    name: str | None = None
    email: str | None = None
    verified: bool = False
    link_token: str | None = None

    def claims(self) -> dict[str, Any]:
        data: dict[str, Any] = {"a": self.account_id, "v": self.visitor_id}
        for key, value in (("n", self.name), ("e", self.email), ("l", self.link_token)):
            if value:
                data[key] = value
        if self.verified:
            data["h"] = 1
        return data

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"Visitor(account_id={self.account_id!r}, verified={self.verified})"


def serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def issue(secret: str, visitor: Visitor) -> str:
    token: str = serializer(secret).dumps(visitor.claims())
    return token


def read(secret: str, token: str | None, account_id: str, *, max_age: int) -> Visitor:
    """The visitor a token names; 401 for a missing, forged, expired or foreign token."""
    if not token:
        raise Unauthorized("send the visitor token in the X-Visitor-Token header",
                           code="visitor_token_missing")
    try:
        data = serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Unauthorized("the visitor token has expired; start a new session",
                           code="visitor_token_expired") from None
    except BadSignature:
        raise Unauthorized("the visitor token is not valid", code="visitor_token_invalid"
                           ) from None
    if not isinstance(data, dict) or not isinstance(data.get("v"), str):
        raise Unauthorized("the visitor token is not valid", code="visitor_token_invalid")
    if data.get("a") != account_id:
        raise Unauthorized("the visitor token belongs to another chat",
                           code="visitor_token_invalid")
    return Visitor(account_id=account_id, visitor_id=data["v"], name=_str(data.get("n")),
                   email=_str(data.get("e")), verified=bool(data.get("h")),
                   link_token=_str(data.get("l")))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def identifier_hash(secret: str, identifier: str) -> str:
    """What the host site computes server-side: hex HMAC-SHA256(secret, identifier)."""
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def verify_identifier(secret: str | None, identifier: str | None,
                      given_hash: str | None) -> bool:
    """True when the host site vouched for `identifier`; False when none was given.

    A hash without an identifier (or the reverse) is refused; a wrong hash is 401. The
    comparison is constant-time.
    """
    if not identifier and not given_hash:
        return False
    if not identifier or not given_hash:
        raise ValidationFailed("send both identifier and identifier_hash",
                               code="identifier_hash_required" if identifier
                               else "identifier_required")
    if not secret:
        raise ValidationFailed("identity verification is not set up for this chat",
                               code="identity_verification_unavailable")
    expected = identifier_hash(secret, identifier)
    if not hmac.compare_digest(expected.encode(), given_hash.strip().lower().encode()):
        raise Unauthorized("the identifier hash does not match", code="identity_hash_invalid")
    return True
