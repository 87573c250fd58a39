"""Reply tokens and Message-IDs of outbound mail.

Every mail we send carries one token, `T`, derived from Threadline's outbound message id:

    T = <message_id>                       (no `reply_token_secret` configured)
    T = <message_id>.<hmac12>              (with a secret: first 12 hex digits of
                                            HMAC-SHA256(secret, message_id))

and puts it in three places:

    Message-ID:        <tl-T@domain>                  (domain: `message_id_domain` or the
                                                       domain of `address`)
    Reply-To:          local+tl-T@address-domain      (plus-addressing; `reply_plus_address`)
    X-Threadline-Ref:  T

An inbound reply that carries T (in a recipient address, in In-Reply-To / References, or in the
X-Threadline-Ref header of a quoted original) gets `link_token = "msg:<message_id>"`: the
pipeline resolves it to the conversation of that outbound message. Tokens with a wrong HMAC
are ignored when a secret is configured. Message ids outside `[A-Za-z0-9_-]{1,80}` get a
hashed Message-ID and no token (Threadline's ids are UUIDs, so this does not happen).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from threadline.channels.email.payloads import EmailConfig

LINK_PREFIX = "msg:"
REF_HEADER = "X-Threadline-Ref"
_REF = r"[A-Za-z0-9_-]{1,80}"
_SIG_LEN = 12
_SAFE_REF = re.compile(rf"^{_REF}$")
_TOKEN = rf"(?P<ref>{_REF})(?:\.(?P<sig>[0-9a-f]{{{_SIG_LEN}}}))?"
_IN_ADDRESS = re.compile(rf"\+tl-{_TOKEN}@", re.IGNORECASE)
_IN_MESSAGE_ID = re.compile(rf"^<tl-{_TOKEN}@(?P<domain>[^<>@\s]+)>$")
_BARE = re.compile(rf"^\s*{_TOKEN}\s*$")
_ANYWHERE = re.compile(rf"<tl-{_TOKEN}@(?P<domain>[^<>@\s]+)>")


def _sign(cfg: EmailConfig, ref: str) -> str | None:
    if cfg.reply_token_secret is None or not cfg.reply_token_secret.get_secret_value():
        return None
    key = cfg.reply_token_secret.get_secret_value().encode()
    return hmac.new(key, ref.encode(), hashlib.sha256).hexdigest()[:_SIG_LEN]


def token_for(cfg: EmailConfig, message_id: str) -> str | None:
    """The reply token of an outbound message, or None if its id is not token-safe."""
    if not _SAFE_REF.match(message_id):
        return None
    sig = _sign(cfg, message_id)
    return f"{message_id}.{sig}" if sig else message_id


def message_id_for(cfg: EmailConfig, message_id: str) -> str:
    """The stable RFC 5322 Message-ID (with angle brackets) of an outbound message."""
    token = token_for(cfg, message_id)
    if token is None:
        token = "x" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:40]
    return f"<tl-{token}@{cfg.domain}>"


def reply_address_for(cfg: EmailConfig, message_id: str) -> str | None:
    """`local+tl-T@domain` for the Reply-To header, or None when plus-addressing is off."""
    token = token_for(cfg, message_id)
    local, at, domain = cfg.address.rpartition("@")
    if not cfg.reply_plus_address or token is None or not at or not local or not domain:
        return None
    return f"{local}+tl-{token}@{domain}"


def _accept(cfg: EmailConfig, match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    if "domain" in match.groupdict() and match.group("domain").lower() != cfg.domain:
        return None
    ref, sig = match.group("ref"), match.group("sig")
    expected = _sign(cfg, ref)
    if expected is not None and (sig is None or not hmac.compare_digest(sig, expected)):
        return None
    return LINK_PREFIX + ref


def link_token_from(cfg: EmailConfig, *, recipients: list[str], in_reply_to: str | None,
                    references: tuple[str, ...], ref_headers: list[str]) -> str | None:
    """The first valid token found: recipient plus-address, In-Reply-To, References, header."""
    for address in recipients:
        if (found := _accept(cfg, _IN_ADDRESS.search(address))) is not None:
            return found
    for mid in [in_reply_to, *reversed(references)]:
        if mid and (found := _accept(cfg, _IN_MESSAGE_ID.match(mid))) is not None:
            return found
    for value in ref_headers:
        if (found := _accept(cfg, _BARE.match(value))) is not None:
            return found
    return None


def our_message_ids_in(cfg: EmailConfig, text: str) -> list[str]:
    """Message-IDs of our own outbound mail quoted anywhere in `text` (bounce heuristics)."""
    found: list[str] = []
    for match in _ANYWHERE.finditer(text):
        if _accept(cfg, match) is not None and match.group(0) not in found:
            found.append(match.group(0))
    return found
