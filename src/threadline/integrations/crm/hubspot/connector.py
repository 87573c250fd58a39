"""HubSpot's CRM v3 REST API (its README.md): contacts searched by email and phone (or
read by the stored id), created with Threadline's customer id in a unique property, a
conversation logged as a note associated with the contact (type 202) and updated in place,
contact and company properties read for the panel.

Auth: a private app token or service key (static Bearer), or OAuth (a refresh token: a 401
signs in again through /oauth/v1/token). A 429 (TEN_SECONDLY_ROLLING, DAILY or the search
"secondly" limit) becomes CrmRetry with Retry-After when sent, else the policy's wait."""

from __future__ import annotations

from typing import Any

import httpx

from threadline.integrations.crm.base import (
    ActivityIn,
    Contact,
    CrmPermanent,
    CrmRetry,
    CrmSessionExpired,
    CustomerRef,
    body_of,
    request,
    retry_after,
)

DEFAULT_BASE = "https://api.hubapi.com"
HOSTS = frozenset({"api.hubapi.com", "api.hubapi.eu"})
OBJECTS = "/crm/v3/objects"
CUSTOMER_PROPERTY = "threadline_customer_id"
NOTE_TO_CONTACT = 202
NOTE_BODY_MAX = 65_536
# Standard properties the field mapping may name (custom ones: docs/integrations.md).
CONTACT_FIELDS = frozenset({
    "email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle",
    "lifecyclestage", "hs_lead_status", "city", "state", "country", "zip", "address",
    "website", "hubspot_owner_id", "createdate", "lastmodifieddate", "twitterhandle",
    "associatedcompanyid", "notes_last_updated", "num_notes", "hs_language",
    "annualrevenue", "industry", "numemployees"})
ACCOUNT_FIELDS = frozenset({
    "name", "domain", "industry", "numberofemployees", "annualrevenue", "city", "state",
    "country", "phone", "lifecyclestage", "type", "website", "description",
    "hubspot_owner_id", "createdate", "hs_lastmodifieddate"})


def _fail(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    body = body_of(response)
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message") or f"HTTP {status}")
    where = f" (correlationId {body['correlationId']})" if body.get("correlationId") else ""
    if status == 429:
        seconds = retry_after(response)
        if seconds is None:  # the official client's waits per policy (reference §3.4)
            policy = str(body.get("policyName") or "")
            seconds = (1.0 if "secondly limit" in message and policy != "TEN_SECONDLY_ROLLING"
                       else 10.0 if policy != "DAILY" else 3600.0)
        raise CrmRetry(f"HubSpot rate limit: {message}{where}", seconds=seconds,
                       code="crm_rate_limited")
    if status == 401:
        raise CrmSessionExpired(f"HubSpot refused the token: {message}")
    if status >= 500 or status == 423:
        raise CrmRetry(f"HubSpot error {status}: {message}{where}",
                       seconds=retry_after(response), code=f"http_{status}")
    raise CrmPermanent(f"HubSpot refused ({status}): {message}{where}", code=f"http_{status}")


class HubSpot:
    """One connection's HubSpot client (`http` is the runtime's)."""

    def __init__(self, http: httpx.Client, base_url: str, credentials: dict[str, Any],
                 session_token: dict[str, Any]) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.credentials = credentials
        self.token: str | None = (session_token.get("access_token")
                                  if credentials.get("refresh_token") else
                                  credentials.get("token"))
        self.refreshed: dict[str, Any] | None = None  # a new session to store

    # --- auth ------------------------------------------------------------------------------

    def sign_in(self) -> None:
        """OAuth only: a new access token from the refresh token (a static token cannot)."""
        creds = self.credentials
        if not creds.get("refresh_token"):
            raise CrmPermanent("HubSpot refused the private app token", code="crm_auth")
        response = request(self.http, "POST", f"{self.base}/oauth/v1/token", headers={},
                           data={"grant_type": "refresh_token",
                                 "client_id": str(creds.get("client_id", "")),
                                 "client_secret": str(creds.get("client_secret", "")),
                                 "refresh_token": str(creds["refresh_token"])})
        body = body_of(response)
        if response.status_code >= 500 or response.status_code == 429:
            _fail(response)
        if response.status_code != 200 or not isinstance(body, dict) \
                or not isinstance(body.get("access_token"), str):
            raise CrmPermanent("HubSpot refused the refresh token", code="crm_auth")
        self.token = body["access_token"]
        self.refreshed = {"access_token": self.token}

    def _call(self, method: str, path: str, *, json: Any = None,
              params: dict[str, str] | None = None) -> Any:
        for attempt in (1, 2):
            if not self.token:
                self.sign_in()
            response = request(self.http, method, self.base + path, json=json, params=params,
                               headers={"Authorization": f"Bearer {self.token}",
                                        "Accept": "application/json"})
            try:
                _fail(response)
            except CrmSessionExpired:
                if attempt == 2 or not self.credentials.get("refresh_token"):
                    raise CrmPermanent("HubSpot refused the token", code="crm_auth") from None
                self.token = None  # sign in again, then retry once
                continue
            return body_of(response)
        raise AssertionError("unreachable")

    # --- contacts --------------------------------------------------------------------------

    def _contact(self, item: Any) -> Contact | None:
        if not isinstance(item, dict) or not item.get("id"):
            return None
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        company = (props or {}).get("associatedcompanyid")
        return Contact(id=str(item["id"]), properties=dict(props or {}),
                       account_id=str(company) if company else None)

    def _search(self, prop: str, value: str) -> Contact | None:
        body = self._call("POST", f"{OBJECTS}/contacts/search", json={
            "filterGroups": [{"filters": [{"propertyName": prop, "operator": "EQ",
                                           "value": value}]}],
            "properties": ["email", "firstname", "lastname", "phone", "associatedcompanyid"],
            "limit": 2, "after": "0"})
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or not results:
            return None
        return self._contact(results[0])

    def get_contact(self, contact_id: str) -> Contact | None:
        try:
            body = self._call("GET", f"{OBJECTS}/contacts/{_path_id(contact_id)}",
                              params={"properties": "email,associatedcompanyid"})
        except CrmPermanent as exc:
            if exc.code == "http_404":
                return None
            raise
        return self._contact(body)

    def find_contact(self, ref: CustomerRef) -> tuple[Contact, str] | None:
        if ref.external_id:
            found = self.get_contact(ref.external_id)
            if found is not None:
                return found, "external_id"
        for address in ref.emails:
            found = self._search("email", address)
            if found is not None:
                return found, "email"
        for number in ref.phones:
            for prop in ("phone", "mobilephone"):
                found = self._search(prop, number)
                if found is not None:
                    return found, "phone"
        return None

    def create_contact(self, ref: CustomerRef) -> Contact:
        first, _, last = (ref.name or "").strip().partition(" ")
        properties: dict[str, str] = {CUSTOMER_PROPERTY: ref.customer_id}
        if ref.emails:
            properties["email"] = ref.emails[0]
        if ref.phones:
            properties["phone"] = ref.phones[0]
        if first:
            properties["firstname"] = first[:100]
        if last:
            properties["lastname"] = last[:100]
        body = self._call("POST", f"{OBJECTS}/contacts/batch/upsert", json={"inputs": [{
            "idProperty": CUSTOMER_PROPERTY, "id": ref.customer_id,
            "objectWriteTraceId": ref.customer_id, "properties": properties}]})
        results = body.get("results") if isinstance(body, dict) else None
        contact = self._contact(results[0]) if isinstance(results, list) and results else None
        if contact is None:
            errors = body.get("errors") if isinstance(body, dict) else None
            message = (errors[0].get("message") if isinstance(errors, list) and errors
                       and isinstance(errors[0], dict) else None)
            raise CrmPermanent(f"HubSpot did not create the contact: {message or 'no result'}")
        return contact

    # --- notes -----------------------------------------------------------------------------

    def put_activity(self, contact_id: str, activity: ActivityIn,
                     external_id: str | None) -> str:
        properties = {"hs_timestamp": activity.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "hs_note_body": _note_body(activity)}
        if external_id:
            body = self._call("PATCH", f"{OBJECTS}/notes/{_path_id(external_id)}",
                              json={"properties": properties})
        else:
            body = self._call("POST", f"{OBJECTS}/notes", json={
                "properties": properties,
                "associations": [{"to": {"id": contact_id}, "types": [{
                    "associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": NOTE_TO_CONTACT}]}]})
        if not isinstance(body, dict) or not body.get("id"):
            raise CrmPermanent("HubSpot answered without a note id")
        return str(body["id"])

    def find_activity(self, contact_id: str, marker: str) -> str | None:
        body = self._call("POST", f"{OBJECTS}/notes/search", json={
            "filterGroups": [{"filters": [{"propertyName": "hs_note_body",
                                           "operator": "CONTAINS_TOKEN", "value": marker}]}],
            "properties": ["hs_note_body"], "limit": 1, "after": "0"})
        results = body.get("results") if isinstance(body, dict) else None
        if isinstance(results, list) and results and isinstance(results[0], dict):
            return str(results[0].get("id") or "") or None
        return None

    # --- panel -----------------------------------------------------------------------------

    def read_fields(self, contact_id: str, contact_fields: list[str],
                    account_fields: list[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted({*contact_fields, "associatedcompanyid"})
        body = self._call("GET", f"{OBJECTS}/contacts/{_path_id(contact_id)}",
                          params={"properties": ",".join(wanted)})
        props = body.get("properties") if isinstance(body, dict) else None
        props = props if isinstance(props, dict) else {}
        out: dict[str, dict[str, Any]] = {
            "contact": {f: props.get(f) for f in contact_fields}, "account": {}}
        company = props.get("associatedcompanyid")
        if account_fields and company:
            cbody = self._call("GET", f"{OBJECTS}/companies/{_path_id(str(company))}",
                               params={"properties": ",".join(account_fields)})
            cprops = cbody.get("properties") if isinstance(cbody, dict) else None
            cprops = cprops if isinstance(cprops, dict) else {}
            out["account"] = {f: cprops.get(f) for f in account_fields}
        return out


def _path_id(value: str) -> str:
    """A provider id as one path segment (ids are digits; anything else is refused)."""
    if not value.isascii() or not value.isdigit() or len(value) > 30:
        raise CrmPermanent("not a HubSpot object id", code="crm_bad_id")
    return value


def _note_body(activity: ActivityIn) -> str:
    text = f"{activity.subject}\n\n{activity.body}\n\n[{activity.marker}]"
    return text[:NOTE_BODY_MAX]
