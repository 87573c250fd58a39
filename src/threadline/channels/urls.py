"""Where credentials may go: provider base URLs, the API channel's endpoint, mail hosts.

Three checks, run when an account is saved and again right before each call (a row written
before the check existed, or by hand, must not leak a credential):

- `check_provider_base`: an account's `api_base_url` is one of its provider's official hosts,
  https, no port, no path, no user info; anything else only when the operator allows custom
  provider URLs (the sandbox, the demo and the tests).
- `check_endpoint`: the brand's own endpoint (API channel `outbound_url`): https, no user info,
  and a host that resolves only to public addresses (no loopback, private, link-local or
  metadata address), unless the host is one the operator trusts or custom URLs are allowed.
- `check_host`: the same address rule for a bare host name (IMAP and SMTP servers).

Pure functions of strings and the resolver; the adapters turn `UrlRefused` into their errors.
See docs/decisions/0102-provider-hosts.md.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Resolver = Callable[[str], Iterable[str]]
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


class UrlRefused(ValueError):
    """A URL or host that credentials must not be sent to; `str(exc)` says why."""


@dataclass(frozen=True)
class UrlPolicy:
    """What the operator allows beyond the official hosts and public addresses.

    `allow_custom`: any http(s) URL or host (the provider sandbox, the demo, tests).
    `trusted_hosts`: host names (lower case) the brand's own endpoint or mail servers may use
    although they resolve to private addresses (a mail server on the company network).
    """

    allow_custom: bool = False
    trusted_hosts: frozenset[str] = field(default_factory=frozenset)


STRICT = UrlPolicy()


@dataclass(frozen=True)
class ProviderHosts:
    """A provider's official API: the default base URL and every host it may be set to."""

    default: str
    hosts: frozenset[str]


def check_provider_base(value: object, provider: ProviderHosts, policy: UrlPolicy) -> str:
    """The base URL to call (no trailing slash): the official default when unset."""
    if value is None or value == "":
        return provider.default
    text = _text(value)
    if policy.allow_custom:
        _split(text, {"http", "https"})
        return text.rstrip("/")
    parts = _split(text, {"https"})
    host = parts.hostname or ""
    if (parts.port is not None or parts.path not in ("", "/") or parts.query
            or host not in provider.hosts or parts.netloc.lower() != host):
        official = ", ".join(sorted(provider.hosts))
        raise UrlRefused(f"api_base_url must be https://<host> with host one of: {official}")
    return f"https://{host}"


def check_endpoint(value: object, policy: UrlPolicy, *, resolve: Resolver | None = None) -> str:
    """The brand's endpoint URL, refused unless https and public (or allowed by `policy`)."""
    text = _text(value)
    parts = _split(text, {"http", "https"} if policy.allow_custom else {"https"})
    if not policy.allow_custom:
        _check_address(parts.hostname or "", policy, resolve)
    return text


def check_host(value: object, policy: UrlPolicy, *, resolve: Resolver | None = None) -> str:
    """A bare server host name (IMAP, SMTP), refused when it resolves to a private address."""
    host = _text(value).strip()
    if _UNSAFE_CHARS.search(host) or any(c in host for c in "/@?#"):
        raise UrlRefused("a server host is a name or an address, not a URL")
    if not policy.allow_custom:
        _check_address(host.lower(), policy, resolve)
    return host


def resolve_addresses(host: str) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UrlRefused(f"the host {host!r} does not resolve") from None
    return [str(info[4][0]) for info in infos]


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise UrlRefused("expected a URL of at most 2,048 characters")
    if _UNSAFE_CHARS.search(value) or not value.isascii():
        raise UrlRefused("the URL holds spaces, control or non-ASCII characters "
                         "(write international names in their xn-- form)")
    return value


def _split(text: str, schemes: set[str]) -> _Parts:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UrlRefused("not a valid URL") from None
    if parts.scheme.lower() not in schemes:
        raise UrlRefused(f"the URL scheme must be {' or '.join(sorted(schemes))}")
    host = parts.hostname or ""
    if "@" in parts.netloc or parts.fragment:
        raise UrlRefused("the URL must not hold user info or a fragment")
    if not _valid_host(host):
        raise UrlRefused("the URL has no valid host name")
    return _Parts(host, port, parts.netloc, parts.path, parts.query)


@dataclass(frozen=True)
class _Parts:
    hostname: str
    port: int | None
    netloc: str
    path: str
    query: str


def _valid_host(host: str) -> bool:
    if host.startswith("[") or ":" in host:
        return _ip(host.strip("[]")) is not None
    if host.endswith(".") or len(host) > 253:
        return False
    return all(_HOST_LABEL.match(label) for label in host.split("."))


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _check_address(host: str, policy: UrlPolicy, resolve: Resolver | None) -> None:
    if not host or host.endswith("."):
        raise UrlRefused("no valid host name")
    if host in policy.trusted_hosts:
        return
    for text in (resolve or resolve_addresses)(host):
        address = _ip(text)
        if address is None or not _public(address):
            raise UrlRefused(f"the host {host!r} resolves to a loopback, private, link-local "
                             "or reserved address")


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _public(embedded)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast
