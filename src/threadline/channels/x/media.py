"""Inbound media on X: the file of a DM (`message_data.attachment.media.media_url_https`, on
ton.twitter.com) and the photos of public tweets (pbs.twimg.com).

A DM's file is served only to a GET signed with OAuth 1.0a in the account's user context
(docs/providers/x.md; X's "Retrieving media" guide): the signature is made for that one URL and
sent only to ton.twitter.com over https (or, with custom provider URLs allowed, to the origin of
the account's own API base: the sandbox). A bearer token is not enough there, so an account
without the four OAuth 1.0a keys cannot fetch DM media. Tweet photos are public and fetched
with no credential. Any other URL is refused before a byte is sent.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

import httpx

from threadline.channels.base import AccountConfig, Attachment, PermanentSendError
from threadline.channels.media import MediaBytes, download
from threadline.channels.x.oauth import oauth1_header
from threadline.channels.x.outbound import X_API

DM_MEDIA_HOSTS = frozenset({"ton.twitter.com"})
PUBLIC_MEDIA_HOSTS = frozenset({"pbs.twimg.com"})
_OAUTH1_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def fetch(account: AccountConfig, attachment: Attachment, http: httpx.Client, *,
          max_bytes: int) -> MediaBytes:
    url = attachment.url or ""
    signed = _needs_signature(account, url)
    headers = {"authorization": _oauth1(account, url)} if signed else {}
    data, declared = download(http, url, headers=headers, max_bytes=max_bytes)
    name = posixpath.basename(unquote(urlsplit(url).path)) or None
    return MediaBytes(data=data, mime_type=declared or attachment.mime_type,
                      name=attachment.name or name)


def _needs_signature(account: AccountConfig, url: str) -> bool:
    """True for DM media (signed), False for public tweet media; refused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = urlsplit(""), None
    clean = "@" not in parts.netloc and not parts.fragment
    if account.urls.allow_custom and clean:
        base = urlsplit(account.provider_base(X_API))
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return True
    if clean and parts.scheme == "https" and port is None:
        if parts.hostname in DM_MEDIA_HOSTS:
            return True
        if parts.hostname in PUBLIC_MEDIA_HOSTS:
            return False
    raise PermanentSendError("not an X media URL; nothing is fetched from it",
                             code="unsafe_url")


def _oauth1(account: AccountConfig, url: str) -> str:
    values = {key: account.get(key) for key in _OAUTH1_KEYS}
    missing = [key for key, value in values.items() if not value]
    if missing:
        raise PermanentSendError("X DM media is fetched with a user-context signature, "
                                 "which needs the account's consumer and access keys; "
                                 "missing " + ", ".join(missing),
                                 code="account_misconfigured")
    return oauth1_header("GET", url, consumer_key=str(values["consumer_key"]),
                         consumer_secret=str(values["consumer_secret"]),
                         token=str(values["access_token"]),
                         token_secret=str(values["access_token_secret"]))
