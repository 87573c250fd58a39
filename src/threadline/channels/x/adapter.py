"""X (Twitter): Account Activity webhooks in, v2 API out, a mentions poller as a fallback.

Inbound: `GET /webhooks/x/{account_id}?crc_token=...` is the CRC handshake; `POST` deliveries
carry `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256 of the raw body>` keyed with the
app's `consumer_secret` (docs/providers/x.md#crc, docs/providers/x.md#signature). Outbound:
`POST /2/tweets` (public replies) and `POST /2/dm_conversations/with/:participant_id/messages`
(DMs), signed with OAuth 1.0a user context or a `bearer_token` (OAuth 2.0 user token). Config
keys: docs/design.md#channel-account-config plus `user_id` (the account's own X user id) and
the options listed in this folder's README.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import ClassVar

import httpx

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    BaseAdapter,
    ChannelAction,
    ChannelTraits,
    NormalizedItem,
    OutboundMessage,
    PermanentSendError,
    ProviderEvent,
    ProviderHosts,
    SendContext,
    SendResult,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
)
from threadline.channels.media import MediaBytes
from threadline.channels.x import inbound, media, outbound, poller, search

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# X's CRC tokens are short opaque strings of letters, digits and base64 punctuation. Anything
# else is refused: the CRC answer is an HMAC under the same key as a delivery's signature, so
# a token shaped like a JSON body would turn the handshake into a signing oracle for forged
# deliveries. A delivery body always starts with "{" (a JSON object), which no token can.
CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-=+/.]{1,256}")


def sign(consumer_secret: str, message: bytes) -> str:
    """`sha256=` + base64 HMAC-SHA256: both the CRC answer and the delivery signature."""
    digest = hmac.new(consumer_secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


class XAdapter(BaseAdapter):
    kind: ClassVar[str] = "x"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=True, private=True, char_limit=outbound.TWEET_LIMIT, window_hours=None,
        realtime=True, can_hide=False, identity_kind=inbound.IDENTITY_KIND)
    provider_hosts: ClassVar[ProviderHosts | None] = outbound.X_API
    # Only the account's own tweets can be deleted (`DELETE /2/tweets/:id`), never a
    # customer's: X has no moderation of other people's tweets.
    deletes: ClassVar[frozenset[str]] = frozenset({"outbound"})

    # --- inbound --------------------------------------------------------------------------------

    def handshake(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse | None:
        if request.method.upper() != "GET":
            return None
        token = request.query.get("crc_token")
        if not token or not CRC_TOKEN.fullmatch(token):
            return WebhookResponse(status=400, body=b"missing or malformed crc_token")
        secret = str(account.require("consumer_secret"))
        answer = {"response_token": sign(secret, token.encode())}
        return WebhookResponse(status=200, body=json.dumps(answer).encode(),
                               media_type="application/json")

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        given = request.header(SIGNATURE_HEADER)
        if not given:
            raise SignatureError("missing x-twitter-webhooks-signature header",
                                 code="missing_signature")
        expected = sign(str(account.require("consumer_secret")), request.body)
        if not request.body.lstrip().startswith(b"{"):
            # Deliveries are JSON objects; a signed non-object could only be a CRC answer.
            raise SignatureError("x deliveries are JSON objects")
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise SignatureError("x-twitter-webhooks-signature does not match the body")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        user_id = account.get("user_id")
        return inbound.split_body(request.body, str(user_id) if user_id else None)

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        return inbound.normalize_envelope(payload)

    def fetch_media(self, account: AccountConfig, attachment: Attachment, http: httpx.Client,
                    *, max_bytes: int) -> MediaBytes:
        """A DM's file (OAuth 1.0a-signed GET, ton.twitter.com only) or a tweet's public
        photo (MediaFetchingAdapter); see media.py."""
        return media.fetch(account, attachment, http, max_bytes=max_bytes)

    # --- polling (PollingAdapter) ---------------------------------------------------------------

    def poll(self, account: AccountConfig, cursor: JSON | None,
             http: httpx.Client) -> tuple[list[ProviderEvent], JSON]:
        """New mentions since `cursor` via `GET /2/users/:user_id/mentions`."""
        return poller.poll(account, cursor, http)

    def search(self, account: AccountConfig, query: str, cursor: JSON | None,
               http: httpx.Client) -> tuple[list[ProviderEvent], JSON]:
        """Public tweets matching `query` since `cursor` via `GET /2/tweets/search/recent`
        (listening; search.py)."""
        return search.search_recent(account, query, cursor, http)

    # --- outbound -------------------------------------------------------------------------------

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        outbound.check_send(self.traits, account, message, context)

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        return outbound.send(account, message, http)

    def reconcile(self, account: AccountConfig, message: OutboundMessage,
                  http: httpx.Client, *, since: datetime | None = None) -> SendResult | None:
        """An earlier send of `message` found at X (after a crash between send and commit);
        the ReconcilingAdapter hook: the account's sends from `since` on."""
        return outbound.reconcile(account, message, http, since=since)

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        if action.name == "delete" and action.target:
            return outbound.delete_tweet(account, action.target, http)
        raise PermanentSendError(f"x does not support {action.name!r}",
                                 code="unsupported_action")
