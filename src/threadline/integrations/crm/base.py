"""What the sync needs from a CRM, whichever it is: a connector per CRM (`hubspot/`,
`salesforce/`) behind one Protocol, its typed errors, and the one HTTP helper that sorts a
provider's answer into success, "try again later" (429, 5xx, timeouts, Salesforce's
REQUEST_LIMIT_EXCEEDED; honouring Retry-After) and "retrying cannot help"."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from threadline.channels.errors import clean_reason

MAX_BODY_BYTES = 1_000_000  # a CRM answer larger than this is refused, never parsed
DEFAULT_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 3600.0


class CrmError(Exception):
    """Base of the connectors' errors: a bounded, cleaned reason (never a credential)."""

    code = "crm_error"

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        reason = clean_reason(reason)
        super().__init__(reason)
        self.reason = reason
        if code:
            self.code = code


class CrmRetry(CrmError):
    """Try again after `seconds` (429 with Retry-After, 5xx, timeouts, API limits)."""

    code = "crm_retry"

    def __init__(self, reason: str, *, seconds: float | None = None,
                 code: str | None = None) -> None:
        super().__init__(reason, code=code)
        self.seconds = seconds


class CrmPermanent(CrmError):
    """A refusal retrying cannot change (400 validation, 403 scope, 404, 300 ambiguous)."""

    code = "crm_refused"


class CrmSessionExpired(CrmError):
    """401: the access token expired or was revoked; sign in again, then retry once."""

    code = "crm_session_expired"


@dataclass(frozen=True)
class Contact:
    id: str
    properties: dict[str, Any] = field(default_factory=dict)
    account_id: str | None = None


@dataclass(frozen=True)
class ActivityIn:
    """A conversation as the CRM records it: a marker (`tl-<conversation id hex>`) that finds
    it again, a subject, a summary body, when, and whether it is resolved."""

    marker: str
    subject: str
    body: str
    when: datetime
    resolved: bool
    channel: str | None = None


@dataclass(frozen=True)
class CustomerRef:
    """What the sync knows of a customer to match or create a contact."""

    customer_id: str
    name: str | None
    emails: list[str]
    phones: list[str]
    external_id: str | None = None


class Connector(Protocol):
    """One CRM's REST API. Every method may raise CrmRetry, CrmPermanent or
    CrmSessionExpired (the caller signs in again once)."""

    def find_contact(self, ref: CustomerRef) -> tuple[Contact, str] | None:
        """The contact of `ref` by stored external id, email or phone: (contact, how)."""

    def create_contact(self, ref: CustomerRef) -> Contact:
        """Create (or upsert by Threadline's customer id) a contact for `ref`."""

    def put_activity(self, contact_id: str, activity: ActivityIn,
                     external_id: str | None) -> str:
        """Create the activity on the contact's timeline, or update `external_id`; its id."""

    def find_activity(self, contact_id: str, marker: str) -> str | None:
        """An activity created earlier for `marker` (a create whose answer was lost)."""

    def read_fields(self, contact_id: str, contact_fields: list[str],
                    account_fields: list[str]) -> dict[str, dict[str, Any]]:
        """{"contact": {field: value}, "account": {field: value}} for the panel."""


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delay-seconds or an HTTP-date (RFC 9110), bounded."""
    header = response.headers.get("retry-after")
    if not header:
        return None
    header = header.strip()
    seconds: float | None
    try:
        seconds = float(header)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_SECONDS)


def request(http: httpx.Client, method: str, url: str, *, headers: dict[str, str],
            json: Any = None, params: dict[str, str] | None = None,
            data: dict[str, str] | None = None,
            auth: tuple[str, str] | None = None) -> httpx.Response:
    """One call; transport failures and timeouts become CrmRetry; redirects are not
    followed (a redirect could carry the token elsewhere)."""
    try:
        response = http.request(method, url, headers=headers, json=json, params=params,
                                data=data, auth=auth, follow_redirects=False)
    except httpx.TimeoutException:
        raise CrmRetry("the CRM did not answer in time", code="crm_timeout") from None
    except httpx.HTTPError as exc:
        raise CrmRetry(f"the CRM could not be reached ({type(exc).__name__})",
                       code="crm_unreachable") from None
    if len(response.content) > MAX_BODY_BYTES:
        raise CrmPermanent("the CRM's answer is too large", code="crm_oversized")
    return response


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
