"""WhatsApp message templates: listing a WhatsApp Business Account's templates, reading
their body variables, filling them, and the template status webhook.

`GET /{version}/{waba-id}/message_templates` answers one page of templates and
`paging.next` (a full URL) for the next; every page is followed on the Graph host the
account uses, never elsewhere (the bearer token goes with it). Statuses outside the known
list become `UNKNOWN`, so a new status on Meta's side never breaks a sync.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from threadline.channels import meta_common as meta
from threadline.channels.base import (
    JSON,
    AccountConfig,
    PermanentSendError,
    RetryableSendError,
)

STATUSES = frozenset({
    "APPROVED", "PENDING", "REJECTED", "DISABLED", "IN_APPEAL", "REINSTATED", "DELETED",
    "PENDING_DELETION", "FLAGGED", "PAUSED", "LIMIT_EXCEEDED", "ARCHIVED", "UNARCHIVED",
    "LOCKED"})
CATEGORIES = frozenset({"MARKETING", "UTILITY", "AUTHENTICATION"})
UNKNOWN = "UNKNOWN"
STATUS_FIELD = "message_template_status_update"
MAX_PAGES = 50  # 50 pages of (by default) 25: far beyond any real account's templates
PAGE_SIZE = 100
MAX_TEMPLATES = 2_000
NAME = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})?$")
# {{1}}, {{2}} ... or named {{first_name}} (lower case, digits and _)
VARIABLE = re.compile(r"\{\{\s*([0-9]{1,3}|[a-z_][a-z0-9_]{0,63})\s*\}\}")
MAX_PARAMETER = 1024  # characters of one parameter's text


@dataclass(frozen=True)
class Template:
    """One template of the account as the provider lists it."""

    provider_id: str
    name: str
    language: str
    status: str
    category: str
    components: list[JSON]


@dataclass(frozen=True)
class TemplateStatusChange:
    """A `message_template_status_update` webhook: which template, and its new status."""

    provider_id: str
    name: str
    language: str
    status: str
    reason: str | None


def status_of(raw: object) -> str:
    text = str(raw or "").strip().upper()
    return text if text in STATUSES else UNKNOWN


def category_of(raw: object) -> str:
    text = str(raw or "").strip().upper()
    return text if text in CATEGORIES else UNKNOWN


def body_text(components: list[JSON]) -> str:
    """The text of the template's BODY component (either case of `type`)."""
    for component in components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text") or "")
    return ""


def variables(body: str) -> list[str]:
    """The body's variables in order of first appearance: "1", "2" or "first_name"."""
    found: list[str] = []
    for match in VARIABLE.finditer(body):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


def fill(body: str, values: dict[str, str]) -> str:
    """The body with each variable replaced by its value (a missing one stays visible)."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def body_parameters(names: list[str], values: dict[str, str]) -> list[JSON]:
    """The send payload's `body` parameters: positional in order, named ones with their
    `parameter_name` (docs: templates written with {{first_name}})."""
    params: list[JSON] = []
    for name in names:
        param: JSON = {"type": "text", "text": values[name]}
        if not name.isdigit():
            param["parameter_name"] = name
        params.append(param)
    return params


def list_templates(account: AccountConfig, http: httpx.Client) -> list[Template]:
    """Every template of the account's WhatsApp Business Account, following `paging.next`."""
    waba = str(account.require("waba_id"))
    if not re.fullmatch(r"[0-9]{1,32}", waba):
        raise PermanentSendError("waba_id is the WhatsApp Business Account's numeric id",
                                 code="bad_waba_id")
    url: str | None = meta.graph_url(account, f"{waba}/message_templates")
    params: dict[str, Any] | None = {"limit": PAGE_SIZE}
    origin = _origin(url or "")
    headers = {"authorization": f"Bearer {account.require('access_token')}"}
    found: list[Template] = []
    pages = 0
    while url is not None:
        pages += 1
        if pages > MAX_PAGES:
            raise PermanentSendError(f"more than {MAX_PAGES} pages of templates",
                                     code="too_many_pages")
        try:
            response = http.get(url, params=params, headers=headers, follow_redirects=False)
        except httpx.TransportError as exc:
            raise RetryableSendError(f"transport error: {type(exc).__name__}",
                                     code="transport_error") from None
        meta.raise_for_graph_error(response)
        try:
            page = response.json()
        except ValueError:
            page = None
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise PermanentSendError("the template list has no data", code="unreadable_answer")
        found.extend(t for t in (_template(raw) for raw in page["data"]) if t is not None)
        if len(found) > MAX_TEMPLATES:
            raise PermanentSendError(f"more than {MAX_TEMPLATES} templates",
                                     code="too_many_templates")
        paging = page.get("paging")
        following = paging.get("next") if isinstance(paging, dict) else None
        if not isinstance(following, str) or not following:
            url = None
        elif _origin(following) != origin:
            raise PermanentSendError("paging.next leaves the Graph host; the token is not "
                                     "sent there", code="unsafe_url")
        else:
            url, params = following, None  # the cursor is in the URL
    return found


def status_changes(body: JSON) -> list[TemplateStatusChange]:
    """The template status changes of one stored WhatsApp webhook change value."""
    value = body.get("template_status")
    if not isinstance(value, dict):
        return []
    ident = value.get("message_template_id")
    name = str(value.get("message_template_name") or "")
    if ident is None or not NAME.match(name):
        return []
    reason = value.get("reason")
    return [TemplateStatusChange(
        provider_id=str(ident)[:64], name=name,
        language=str(value.get("message_template_language") or "")[:16],
        status=status_of(value.get("event")),
        reason=str(reason)[:64] if isinstance(reason, str) else None)]


def _template(raw: object) -> Template | None:
    """One listed template; one that cannot be read (no name or language) is left out."""
    if not isinstance(raw, dict):
        return None
    name, language = raw.get("name"), raw.get("language")
    if not (isinstance(name, str) and NAME.match(name)
            and isinstance(language, str) and LANGUAGE.match(language)):
        return None
    components = raw.get("components")
    return Template(
        provider_id=str(raw.get("id") or f"{name}:{language}")[:64], name=name,
        language=language, status=status_of(raw.get("status")),
        category=category_of(raw.get("category")),
        components=[c for c in components if isinstance(c, dict)]
        if isinstance(components, list) else [])


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
