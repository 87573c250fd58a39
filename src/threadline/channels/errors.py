"""The errors adapters raise: typed, with a stable code, and a reason bounded and cleaned so it
can be shown to agents (delivery_error, dead letters, audit) without leaking what a provider
echoed back."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from threadline.channels.base import AccountConfig

# Reasons shown to agents (delivery_error, dead letters, audit) are at most this long.
MAX_REASON_CHARS = 300
_KEPT_CHARS = 64 * 1024  # of the original text, until it is redacted
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")


def clean_reason(text: str) -> str:
    """A provider's words made safe to show: one line, no control characters, bounded."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= MAX_REASON_CHARS else line[:MAX_REASON_CHARS - 1] + "…"


class ChannelError(Exception):
    """Base of every adapter error. `code` is stable and machine readable; `message` is one
    bounded line (it may quote a provider, and it is shown to agents)."""

    code = "channel_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        self._said = message[:_KEPT_CHARS]  # for `redacted`: a cut must not halve a secret
        message = clean_reason(message)
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def redacted(self, account: AccountConfig) -> Self:
        """This error with the account's credentials removed from its message (a provider,
        or something posing as one, may echo our request back), redacted before the bound."""
        message = clean_reason(account.redact(self._said))
        if message == self.message:
            return self
        clean = copy.copy(self)
        clean.message, clean.args = message, (message,)
        return clean


class SignatureError(ChannelError):
    """The request is not signed by the provider (answer 401/403, store nothing)."""

    code = "bad_signature"


class PayloadError(ChannelError):
    """The body is not a payload of this provider (answer 400, store nothing)."""

    code = "bad_payload"


class RetryableSendError(ChannelError):
    """429, 5xx, timeouts: the send may be retried (after `retry_after` seconds if given)."""

    code = "retryable"

    def __init__(self, message: str, *, retry_after: float | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentSendError(ChannelError):
    """Other 4xx: never retried; the message is marked failed with `message` as reason."""

    code = "send_failed"


# Codes of retryable send errors raised when the request may have reached the provider (a
# timeout after it left): the outcome is unknown, so the sender reconciles before a re-send.
OUTCOME_UNKNOWN_CODES = frozenset({"outcome_unknown", "transport_ambiguous"})


class PollError(ChannelError):
    """A poll could not read the provider. `retryable`: trying later can help (server down,
    429); otherwise (bad credentials, misconfiguration) polling waits for an operator."""

    code = "poll_failed"

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = True,
                 retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable
        self.retry_after = retry_after


class SendPolicyError(ChannelError):
    """A send breaks the channel's rules (window, length, private reply used...).

    `allowed` names what is possible instead, e.g. ["template", "human_agent_tag"].
    """

    code = "channel_policy"

    def __init__(self, message: str, *, code: str | None = None,
                 allowed: Sequence[str] = ()) -> None:
        super().__init__(message, code=code)
        self.allowed = list(allowed)
