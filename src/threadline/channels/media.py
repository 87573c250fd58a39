"""Media on the channels: an outbound attachment with its bytes, a file fetched from a provider,
the adapters that can fetch one, and the capped download they share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import httpx

from threadline.channels.base import (
    AccountConfig,
    Attachment,
    PermanentSendError,
    RetryableSendError,
)


@dataclass(frozen=True)
class FileAttachment(Attachment):
    """An outbound attachment with its bytes, for channels that upload or embed the file
    (email MIME parts, Telegram multipart); `url` is still the signed link for the others."""

    content: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class MediaBytes:
    """A file fetched from a provider (inbound media): the bytes, what the provider said
    its type and name were (never trusted: the media domain sniffs the bytes)."""

    data: bytes = field(repr=False)
    mime_type: str | None = None
    name: str | None = None


@runtime_checkable
class MediaFetchingAdapter(Protocol):
    """Adapters that can fetch an inbound attachment's bytes from the provider (WhatsApp's
    media id, Messenger's CDN URL, Telegram's file id). Credentials go only to the provider's
    own hosts; at most `max_bytes` are read. Raise RetryableSendError when a later try may
    work (a 404 of a URL that is not there yet, 429, 5xx), PermanentSendError otherwise."""

    def fetch_media(self, account: AccountConfig, attachment: Attachment, http: httpx.Client,
                    *, max_bytes: int) -> MediaBytes:
        ...


def download(http: httpx.Client, url: str, *, headers: Mapping[str, str] | None = None,
             max_bytes: int) -> tuple[bytes, str | None]:
    """GET `url` (no redirects followed: a redirect could carry a credential elsewhere) and
    read at most `max_bytes`; (bytes, declared content type). Failures are typed."""
    try:
        with http.stream("GET", url, headers=dict(headers or {}),
                         follow_redirects=False) as response:
            if response.status_code in (404, 429) or response.status_code >= 500:
                raise RetryableSendError(f"media download answered {response.status_code}",
                                         code=f"http_{response.status_code}")
            if response.status_code >= 300:
                raise PermanentSendError(f"media download answered {response.status_code}",
                                         code=f"http_{response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise PermanentSendError(f"the file is larger than {max_bytes} bytes",
                                         code="media_too_large")
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise PermanentSendError(f"the file is larger than {max_bytes} bytes",
                                             code="media_too_large")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type")
    except httpx.TransportError as exc:
        raise RetryableSendError(f"transport error: {type(exc).__name__}",
                                 code="transport_error") from None
