"""Pure rules of outbound webhooks: the event catalogue, Standard Webhooks signing (symmetric
`v1`: HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the decoded `whsec_` secret),
the retry schedule (exponential backoff with jitter, `Retry-After` honoured) and what a
response means. No database, no network (docs/decisions/0318-outbound-webhooks.md)."""

from __future__ import annotations

import hmac
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from threadline.integrations.signing import SECRET_PREFIX as SECRET_PREFIX  # used from here
from threadline.integrations.signing import new_secret as new_secret
from threadline.integrations.signing import secret_key as secret_key
from threadline.integrations.signing import sign

TOLERANCE_SECONDS = 300

# Every event a subscription may ask for (docs/integrations.md#outbound-webhooks).
EVENT_TYPES: tuple[str, ...] = (
    "message.created",
    "conversation.created",
    "conversation.assigned",
    "conversation.resolved",
    "conversation.reopened",
    "hop.offered",
    "hop.taken",
    "hop.returned",
    "customer.created",
    "customer.merged",
    "csat.recorded",
)


ROTATION_OVERLAP_SECONDS = 24 * 3600  # after a rotation, the old secret signs too this long


def headers(secret: str | Sequence[str], event_id: str, body: bytes, *,
            now: float | None = None) -> dict[str, str]:
    """The request's headers; with several secrets (a rotation's overlap) one signature per
    secret, space-separated, the current one first: a receiver accepts any that matches."""
    secrets_ = [secret] if isinstance(secret, str) else list(secret)
    timestamp = int(now if now is not None else time.time())
    return {"content-type": "application/json", "user-agent": "Threadline-Webhooks/1",
            "webhook-id": event_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(sign(s, event_id, timestamp, body)
                                          for s in secrets_)}


def verify(secret: str, header_values: dict[str, str], body: bytes, *,
           now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """The receiver's check (the snippet in docs/integrations.md does the same): a timestamp
    within `tolerance` seconds and any `v1` signature matching, compared in constant time."""
    try:
        event_id = header_values["webhook-id"]
        timestamp = int(header_values["webhook-timestamp"])
        signatures = header_values["webhook-signature"].split(" ")
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, event_id, timestamp, body).encode()
    return any(hmac.compare_digest(expected, s.encode()) for s in signatures
               if s.startswith("v1,"))


def backoff_seconds(attempts: int, base: float, cap: float, *,
                    rng: random.Random | None = None) -> float:
    """The wait after the `attempts`-th failure: base doubling per attempt, at most `cap`,
    times a random factor in [0.8, 1.2) (jitter: receivers that went down together are not
    hit together when they come back; each gap stays longer than the one before)."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return float(delay * (0.8 + 0.4 * (rng or random).random()))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as delay-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def succeeded(status: int) -> bool:
    return 200 <= status < 300


def gone(status: int) -> bool:
    """410 Gone: the receiver asks us to stop; the subscription is disabled at once."""
    return status == 410
