"""Request authorisation for the X API: OAuth 1.0a user context (HMAC-SHA1) or a bearer token.

OAuth 1.0a follows RFC 5849 §3.4: the signature base string is the upper-case method, the base
URL and the sorted, percent-encoded parameters (the `oauth_*` ones plus the query string; a JSON
body is not signed). The key is `consumer_secret&access_token_secret`. The builder is small and
checked against X's own documented example in the tests, so no OAuth library is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from threadline.channels.base import AccountConfig, PermanentSendError

_OAUTH1_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as OAuth 1.0a requires (only unreserved characters kept)."""
    return quote(value, safe="-._~")


def signature_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if (scheme, netloc.rsplit(":", 1)[-1]) in (("http", "80"), ("https", "443")):
        netloc = netloc.rsplit(":", 1)[0]
    base_url = urlunsplit((scheme, netloc, parts.path or "/", "", ""))
    all_params = list(params) + parse_qsl(parts.query, keep_blank_values=True)
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in all_params)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join(percent_encode(p) for p in (method.upper(), base_url, normalized))


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}".encode()
    digest = hmac.new(key, base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def oauth1_header(method: str, url: str, *, consumer_key: str, consumer_secret: str,
                  token: str, token_secret: str, extra_params: Mapping[str, str] | None = None,
                  nonce: str | None = None, timestamp: int | None = None) -> str:
    """The `Authorization: OAuth ...` value for one request.

    `extra_params` are form-encoded body parameters (none for the JSON v2 endpoints); the query
    string of `url` is always signed.
    """
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    params = list(oauth.items()) + list((extra_params or {}).items())
    base = signature_base_string(method, url, params)
    oauth["oauth_signature"] = hmac_sha1_signature(base, consumer_secret, token_secret)
    return "OAuth " + ", ".join(f'{percent_encode(k)}="{percent_encode(v)}"'
                                for k, v in sorted(oauth.items()))


def authorization(account: AccountConfig, method: str, url: str) -> str:
    """`Bearer <bearer_token>` when the account has one, else an OAuth 1.0a user signature."""
    bearer = account.get("bearer_token")
    if bearer:
        return f"Bearer {bearer}"
    values = {key: account.get(key) for key in _OAUTH1_KEYS}
    missing = [key for key, value in values.items() if not value]
    if missing:
        raise PermanentSendError(
            "X account needs bearer_token or OAuth 1.0a credentials; missing "
            + ", ".join(missing), code="account_misconfigured")
    return oauth1_header(method, url, consumer_key=str(values["consumer_key"]),
                         consumer_secret=str(values["consumer_secret"]),
                         token=str(values["access_token"]),
                         token_secret=str(values["access_token_secret"]))
