"""CRM connections (admins): create, change, remove, start a backfill; a customer's CRM
panel (his links, the fields pulled, the sync log). Every input is checked before anything
is stored: the base URL like a provider URL (channels/urls.py: https and official hosts, or
anything the operator allows for the sandbox), the credentials the kind needs, and the field
mapping against the CRM's fields. Services never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from threadline.channels.urls import (
    ProviderHosts,
    UrlPolicy,
    UrlRefused,
    check_endpoint,
    check_provider_base,
)
from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.errors import Conflict, NotFound, ValidationFailed
from threadline.events.service import audit, enqueue
from threadline.integrations.crm.hubspot import connector as hs
from threadline.integrations.crm.models import (
    CrmActivity,
    CrmConnection,
    CrmKind,
    CrmLink,
    CrmSyncLog,
)
from threadline.integrations.crm.salesforce import connector as sf
from threadline.integrations.crm.schemas import (
    ConnectionIn,
    ConnectionPatch,
    Credentials,
    LinkOut,
    LogOut,
)

BACKFILL_JOB = "crm.backfill"
REFRESH_JOB = "crm.refresh"
SYNC_JOB = "crm.sync"
LOG_LIMIT = 20
HUBSPOT_HOSTS = ProviderHosts(default=hs.DEFAULT_BASE, hosts=hs.HOSTS)
SALESFORCE_SUFFIX = ".my.salesforce.com"


def _invalid(message: str, code: str, field: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code, details={"field": field})


def check_base_url(kind: str, value: str | None, policy: UrlPolicy) -> str:
    """The URL to call (no trailing slash), or a 422 naming `base_url`."""
    try:
        if kind == CrmKind.HUBSPOT:
            return check_provider_base(value, HUBSPOT_HOSTS, policy)
        if not value:
            raise UrlRefused("Salesforce needs the org's My Domain URL "
                             "(https://<name>.my.salesforce.com)")
        if policy.allow_custom:
            return check_endpoint(value, policy).rstrip("/")
        return salesforce_host(value)
    except UrlRefused as exc:
        raise _invalid(str(exc), "crm_url_refused", "base_url") from None


def salesforce_host(value: str) -> str:
    """https://<name>.my.salesforce.com: no port, path, query or user info."""
    check_endpoint(value, UrlPolicy(allow_custom=True))  # shape: characters, host syntax
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if (parts.scheme != "https" or parts.port is not None or parts.path not in ("", "/")
            or parts.query or parts.netloc.lower() != host
            or not host.endswith(SALESFORCE_SUFFIX) or host == SALESFORCE_SUFFIX[1:]):
        raise UrlRefused("base_url must be https://<My Domain>.my.salesforce.com")
    return f"https://{host}"


def _check_fields(kind: str, contact: list[str], account: list[str]) -> None:
    if kind == CrmKind.HUBSPOT:
        known = {"contact_fields": hs.CONTACT_FIELDS, "account_fields": hs.ACCOUNT_FIELDS}
    else:
        known = {"contact_fields": sf.CONTACT_FIELDS, "account_fields": sf.ACCOUNT_FIELDS}
    for name, fields in (("contact_fields", contact), ("account_fields", account)):
        if len(set(fields)) != len(fields):
            raise _invalid("a field is named twice", "crm_duplicate_field", name)
        for index, field in enumerate(fields):
            custom = kind == CrmKind.SALESFORCE and sf.CUSTOM_FIELD.match(field)
            if field not in known[name] and not custom:
                raise _invalid(f"the CRM has no field {field!r}", "crm_unknown_field",
                               f"{name}[{index}]")


def _check_credentials(kind: str, creds: Credentials) -> dict[str, str]:
    given = {k: v for k, v in creds.model_dump().items() if v is not None}
    if kind == CrmKind.HUBSPOT:
        oauth = {"client_id", "client_secret", "refresh_token"}
        if set(given) == {"token"} or set(given) == oauth:
            return given
        raise _invalid("HubSpot needs a token, or client_id, client_secret and "
                       "refresh_token", "crm_credentials", "credentials")
    if set(given) == {"client_id", "client_secret"}:
        return given
    raise _invalid("Salesforce needs client_id and client_secret", "crm_credentials",
                   "credentials")


def _check_version(kind: str, version: str | None) -> dict[str, Any]:
    if version is None:
        return {}
    if kind != CrmKind.SALESFORCE or not sf.valid_version(version):
        raise _invalid("an API version such as v62.0 (Salesforce only)", "crm_api_version",
                       "api_version")
    return {"api_version": version}


def access_connection(session: Session, workspace_id: uuid.UUID,
                      connection_id: uuid.UUID) -> CrmConnection:
    conn = session.get(CrmConnection, connection_id)
    if conn is None or conn.workspace_id != workspace_id:
        raise NotFound("CRM connection not found")
    return conn


def list_connections(session: Session, workspace_id: uuid.UUID) -> list[CrmConnection]:
    return list(session.scalars(select(CrmConnection).where(
        CrmConnection.workspace_id == workspace_id).order_by(CrmConnection.kind)))


def enabled_connections(session: Session, workspace_id: uuid.UUID) -> list[CrmConnection]:
    return list(session.scalars(select(CrmConnection).where(
        CrmConnection.workspace_id == workspace_id, CrmConnection.enabled.is_(True))
        .order_by(CrmConnection.kind)))


def create_connection(session: Session, workspace_id: uuid.UUID, body: ConnectionIn,
                      policy: UrlPolicy, actor: Actor) -> CrmConnection:
    base_url = check_base_url(body.kind, body.base_url, policy)
    credentials = _check_credentials(body.kind, body.credentials)
    _check_fields(body.kind, body.contact_fields, body.account_fields)
    settings = _check_version(body.kind, body.api_version)
    if session.scalar(select(CrmConnection.id).where(
            CrmConnection.workspace_id == workspace_id,
            CrmConnection.kind == body.kind)) is not None:
        raise Conflict(f"this workspace has a {body.kind} connection already",
                       code="crm_connection_exists")
    conn = CrmConnection(workspace_id=workspace_id, kind=body.kind, name=body.name,
                         base_url=base_url, credentials=credentials, session_token={},
                         contact_fields=list(body.contact_fields),
                         account_fields=list(body.account_fields),
                         create_contacts=body.create_contacts, enabled=body.enabled,
                         settings=settings, backfill_total=0, backfill_done=0)
    session.add(conn)
    session.flush()
    audit(session, workspace_id, "crm.connection_created", "crm_connection", conn.id,
          actor_type=actor.type, actor_id=actor.id, data={"kind": conn.kind})
    return conn


def update_connection(session: Session, conn: CrmConnection, body: ConnectionPatch,
                      policy: UrlPolicy, actor: Actor) -> CrmConnection:
    changes = body.model_dump(exclude_unset=True)
    base_url = (check_base_url(conn.kind, body.base_url, policy) if "base_url" in changes
                else conn.base_url)
    credentials = (_check_credentials(conn.kind, body.credentials)
                   if body.credentials is not None else None)
    contact = body.contact_fields if body.contact_fields is not None else conn.contact_fields
    account = body.account_fields if body.account_fields is not None else conn.account_fields
    _check_fields(conn.kind, list(contact), list(account))
    settings = ({**conn.settings, **_check_version(conn.kind, body.api_version)}
                if body.api_version is not None else conn.settings)
    if base_url != conn.base_url or credentials is not None:
        conn.session_token = {}  # a token never goes to another URL, or outlives its secret
    conn.base_url = base_url
    if credentials is not None:
        conn.credentials = credentials
    conn.contact_fields, conn.account_fields = list(contact), list(account)
    conn.settings = settings
    for name in ("name", "create_contacts", "enabled"):
        if changes.get(name) is not None:
            setattr(conn, name, changes[name])
    conn.updated_at = utcnow()
    audit(session, conn.workspace_id, "crm.connection_changed", "crm_connection", conn.id,
          actor_type=actor.type, actor_id=actor.id,
          data={"fields": sorted(k for k in changes if k != "credentials")
                + (["credentials"] if credentials is not None else [])})
    return conn


def delete_connection(session: Session, conn: CrmConnection, actor: Actor) -> None:
    for model in (CrmSyncLog, CrmLink, CrmActivity):
        session.execute(delete(model).where(
            model.connection_id == conn.id))  # type: ignore[attr-defined]
    audit(session, conn.workspace_id, "crm.connection_removed", "crm_connection", conn.id,
          actor_type=actor.type, actor_id=actor.id, data={"kind": conn.kind})
    session.delete(conn)


# --- backfill -----------------------------------------------------------------------------


def backfill_scope(workspace_id: uuid.UUID) -> Any:
    """The conversations a backfill pushes: every live one with a customer."""
    return (Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None),
            Conversation.customer_id.is_not(None))


def start_backfill(session: Session, conn: CrmConnection, actor: Actor) -> CrmConnection:
    """Count the workspace's conversations and enqueue the first batch (each conversation's
    sync counts one when done: the progress is `backfill_done` of `backfill_total`)."""
    if not conn.enabled:
        raise ValidationFailed("enable the connection first", code="crm_disabled")
    if conn.backfill_started_at is not None and conn.backfill_done < conn.backfill_total:
        raise Conflict("a backfill is running", code="crm_backfill_running")
    total = session.scalar(select(func.count()).select_from(Conversation).where(
        *backfill_scope(conn.workspace_id))) or 0
    conn.backfill_total, conn.backfill_done = int(total), 0
    conn.backfill_started_at = utcnow()
    enqueue(session, BACKFILL_JOB, {"connection_id": str(conn.id), "after": None},
            workspace_id=conn.workspace_id)
    audit(session, conn.workspace_id, "crm.backfill_started", "crm_connection", conn.id,
          actor_type=actor.type, actor_id=actor.id, data={"total": conn.backfill_total})
    return conn


# --- the customer panel -------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerCrm:
    customer_id: uuid.UUID
    links: list[LinkOut]
    log: list[LogOut]
    connections: int


def customer_crm(session: Session, workspace_id: uuid.UUID,
                 customer_id: uuid.UUID) -> CustomerCrm:
    """A customer's CRM links with the pulled fields, and his latest sync log rows (a merged
    customer shows the customer he was merged into: the links moved there)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound("customer not found")
    seen = 0
    while customer.merged_into_id is not None and seen < 16:
        target = session.get(Customer, customer.merged_into_id)
        if target is None:
            break
        customer, seen = target, seen + 1
    rows = session.execute(select(CrmLink, CrmConnection).join(
        CrmConnection, CrmConnection.id == CrmLink.connection_id).where(
        CrmLink.workspace_id == workspace_id, CrmLink.customer_id == customer.id)
        .order_by(CrmConnection.kind)).all()
    links = [LinkOut(connection_id=c.id, kind=c.kind, name=c.name, external_id=link.external_id,
                     matched_by=link.matched_by, fields=link.fields or {},
                     fields_at=link.fields_at) for link, c in rows]
    log = [LogOut.model_validate(r) for r in session.scalars(select(CrmSyncLog).where(
        CrmSyncLog.workspace_id == workspace_id, CrmSyncLog.customer_id == customer.id)
        .order_by(CrmSyncLog.created_at.desc(), CrmSyncLog.id).limit(LOG_LIMIT))]
    count = session.scalar(select(func.count()).select_from(CrmConnection).where(
        CrmConnection.workspace_id == workspace_id)) or 0
    return CustomerCrm(customer_id=customer.id, links=links, log=log, connections=int(count))


def request_refresh(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID) -> int:
    """Enqueue a match-and-pull for the customer on every enabled connection."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        raise NotFound("customer not found")
    conns = enabled_connections(session, workspace_id)
    for conn in conns:
        enqueue(session, REFRESH_JOB, {"connection_id": str(conn.id),
                                       "customer_id": str(customer_id)},
                workspace_id=workspace_id)
    return len(conns)
