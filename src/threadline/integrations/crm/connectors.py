"""The connector of a stored connection (one line per CRM), built for one job run."""

from __future__ import annotations

from typing import Any

import httpx

from threadline.channels.urls import UrlPolicy
from threadline.errors import ValidationFailed
from threadline.integrations.crm.base import Connector, CrmPermanent
from threadline.integrations.crm.hubspot.connector import HubSpot
from threadline.integrations.crm.models import CrmConnection, CrmKind
from threadline.integrations.crm.salesforce.connector import Salesforce
from threadline.integrations.crm.service import check_base_url


def build(conn: CrmConnection, http: httpx.Client, policy: UrlPolicy) -> HubSpot | Salesforce:
    """The connection's client; its base URL is checked again before any call (a row
    written before the check, or by hand, must not send a credential elsewhere)."""
    try:
        base = check_base_url(conn.kind, conn.base_url, policy)
    except ValidationFailed:
        raise CrmPermanent("the connection's base URL is refused", code="crm_url_refused") \
            from None
    credentials: dict[str, Any] = dict(conn.credentials or {})
    token: dict[str, Any] = dict(conn.session_token or {})
    if conn.kind == CrmKind.HUBSPOT:
        return HubSpot(http, base, credentials, token)

    def instance_url(value: str) -> str:
        try:
            return check_base_url(CrmKind.SALESFORCE, value, policy)
        except ValidationFailed:
            raise CrmPermanent("Salesforce named an instance URL that is refused",
                               code="crm_url_refused") from None

    return Salesforce(http, base, credentials, token, conn.settings or {}, instance_url)


def as_connector(client: HubSpot | Salesforce) -> Connector:
    return client

