"""X-Twilio-Signature: HMAC-SHA1 over the full URL plus sorted parameters
(docs/providers/twilio.md#signature).

Form POSTs: base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 ...)) with the
names in byte order and, for a repeated name, one name+value per value with sorted values.
JSON bodies: the URL alone is signed and its `bodySHA256` query value must equal the hex
SHA-256 of the raw body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

SIGNATURE_HEADER = "x-twilio-signature"
_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute_signature(auth_token: str, url: str,
                      params: Iterable[tuple[str, str]] = ()) -> str:
    """The X-Twilio-Signature value Twilio would send for this URL and these POST params."""
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    parts = [url]
    for name in sorted(grouped, key=lambda n: n.encode("utf-8")):
        for value in sorted(grouped[name]):
            parts.append(name + value)
    digest = hmac.new(auth_token.encode("utf-8"), "".join(parts).encode("utf-8"),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def url_variants(url: str) -> list[str]:
    """The URL as given, without its default port, and with it (SDKs accept either)."""
    variants = [url]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return variants
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    if default is not None and port in (None, default):
        bare = urlunsplit((parts.scheme, prefix + host, parts.path, parts.query, parts.fragment))
        with_port = urlunsplit((parts.scheme, f"{prefix}{host}:{default}", parts.path,
                                parts.query, parts.fragment))
        for candidate in (bare, with_port):
            if candidate not in variants:
                variants.append(candidate)
    return variants


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """Form parameters in wire order; raises ValueError on bytes that are not UTF-8 form data."""
    text = body.decode("utf-8")
    return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                     max_num_fields=2000)


def is_valid(signature: str, auth_tokens: Sequence[str], urls: Sequence[str],
             params: Sequence[tuple[str, str]]) -> bool:
    """Constant-time check of `signature` against every token x URL variant."""
    given = signature.encode("utf-8")
    matched = False
    for token in auth_tokens:
        for base in urls:
            for url in url_variants(base):
                expected = compute_signature(token, url, params).encode("ascii")
                matched |= hmac.compare_digest(given, expected)
    return matched


def body_hash_matches(url: str, body: bytes) -> bool:
    """True when the URL's `bodySHA256` query value is the hex SHA-256 of `body`."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    claimed = query.get("bodySHA256", "")
    return bool(claimed) and hmac.compare_digest(claimed.lower().encode(),
                                                 body_sha256(body).encode())
