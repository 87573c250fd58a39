"""Salesforce's REST API (its README.md): sign in with the OAuth client-credentials flow
on the org's My Domain; match a Contact by the stored id, by Email (SOQL) or by phone (SOSL
`IN PHONE FIELDS`); create one by upserting on the `Threadline_Customer_Id__c` external id;
log a conversation as a Task upserted on `Threadline_Conversation_Id__c` (so a retry updates
the same Task: never a second one); read Contact and Account fields for the panel.

Errors are JSON arrays `[{"message","errorCode","fields"}]`: 401 INVALID_SESSION_ID signs in
again and retries once; 403 REQUEST_LIMIT_EXCEEDED and 5xx are retried; 300 (several records
share the external id), 400 and 404 are refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

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

DEFAULT_VERSION = "v62.0"
CUSTOMER_FIELD = "Threadline_Customer_Id__c"
ACTIVITY_FIELD = "Threadline_Conversation_Id__c"
LIMIT_RETRY_SECONDS = 300.0
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_VERSION = re.compile(r"^v\d{2,3}\.\d$")
CUSTOM_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,38}__c$")
CONTACT_FIELDS = frozenset({
    "Name", "FirstName", "LastName", "Salutation", "Email", "Phone", "MobilePhone",
    "HomePhone", "Title", "Department", "AccountId", "LeadSource", "MailingCity",
    "MailingCountry", "MailingPostalCode", "MailingStreet", "OwnerId", "Birthdate",
    "Description", "CreatedDate", "LastModifiedDate", "LastActivityDate", "HasOptedOutOfEmail"})
ACCOUNT_FIELDS = frozenset({
    "Name", "Industry", "Type", "AnnualRevenue", "NumberOfEmployees", "Website", "Phone",
    "BillingCity", "BillingCountry", "Rating", "OwnerId", "AccountNumber", "Description",
    "CreatedDate", "LastModifiedDate"})
UrlCheck = Callable[[str], str]


def soql_literal(value: str) -> str:
    """A string literal for SOQL: quotes and backslashes escaped (simple-salesforce's
    `format_soql`), control characters refused."""
    if any(ord(c) < 32 for c in value):
        raise CrmPermanent("a value with control characters cannot be searched")
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def sosl_term(value: str) -> str:
    """A SOSL search term: reserved characters escaped with a backslash."""
    out = []
    for c in value:
        if c in "?&|!{}[]()^~*:\\\"'+-":
            out.append("\\" + c)
        elif ord(c) >= 32:
            out.append(c)
    return "".join(out)


def _fail(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    body = body_of(response)
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    code = str(first.get("errorCode") or "")
    message = str(first.get("message") or f"HTTP {status}")
    if status == 401:
        raise CrmSessionExpired(f"Salesforce: {code or 'unauthorized'}")
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        raise CrmRetry(f"Salesforce API limit: {message}",
                       seconds=retry_after(response) or LIMIT_RETRY_SECONDS,
                       code="crm_rate_limited")
    if status == 429:  # not documented for Salesforce, honoured all the same
        raise CrmRetry("Salesforce rate limit", seconds=retry_after(response),
                       code="crm_rate_limited")
    if status >= 500:
        raise CrmRetry(f"Salesforce error {status}: {message}", code=f"http_{status}")
    if status == 300:
        raise CrmPermanent("Salesforce: several records share this external id",
                           code="crm_ambiguous")
    raise CrmPermanent(f"Salesforce refused ({status} {code}): {message}",
                       code=f"http_{status}")


class Salesforce:
    """One connection's Salesforce client. `check_url` vets the instance URL a token answer
    names (the same rules as the connection's base URL: a token must not go elsewhere)."""

    def __init__(self, http: httpx.Client, base_url: str, credentials: dict[str, Any],
                 session_token: dict[str, Any], settings: dict[str, Any],
                 check_url: UrlCheck) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.credentials = credentials
        self.version = str(settings.get("api_version") or DEFAULT_VERSION)
        self.check_url = check_url
        self.token: str | None = session_token.get("access_token")
        self.instance: str | None = session_token.get("instance_url")
        self.refreshed: dict[str, Any] | None = None

    # --- auth ------------------------------------------------------------------------------

    def sign_in(self) -> None:
        creds = self.credentials
        response = request(self.http, "POST", f"{self.base}/services/oauth2/token",
                           headers={"Accept": "application/json"},
                           data={"grant_type": "client_credentials"},
                           auth=(str(creds.get("client_id", "")),
                                 str(creds.get("client_secret", ""))))
        if response.status_code >= 500 or response.status_code == 429:
            raise CrmRetry(f"Salesforce sign-in failed ({response.status_code})",
                           seconds=retry_after(response))
        body = body_of(response)
        if response.status_code != 200 or not isinstance(body, dict) \
                or not isinstance(body.get("access_token"), str):
            error = body.get("error") if isinstance(body, dict) else None
            raise CrmPermanent(f"Salesforce refused the sign-in: {error or 'no token'}",
                               code="crm_auth")
        instance = str(body.get("instance_url") or self.base)
        self.instance = self.check_url(instance).rstrip("/")
        self.token = body["access_token"]
        self.refreshed = {"access_token": self.token, "instance_url": self.instance}

    def _call(self, method: str, path: str, *, json: Any = None,
              params: dict[str, str] | None = None) -> tuple[int, Any]:
        for attempt in (1, 2):
            if not self.token or not self.instance:
                self.sign_in()
            url = f"{self.instance}/services/data/{self.version}{path}"
            response = request(self.http, method, url, json=json, params=params,
                               headers={"Authorization": f"Bearer {self.token}",
                                        "Accept": "application/json"})
            try:
                _fail(response)
            except CrmSessionExpired:
                if attempt == 2:
                    raise CrmPermanent("Salesforce refused a fresh session",
                                       code="crm_auth") from None
                self.token = None
                continue
            return response.status_code, body_of(response)
        raise AssertionError("unreachable")

    def _query(self, soql: str) -> list[dict[str, Any]]:
        _, body = self._call("GET", "/query", params={"q": soql})
        records = body.get("records") if isinstance(body, dict) else None
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []

    # --- contacts --------------------------------------------------------------------------

    @staticmethod
    def _contact(record: dict[str, Any]) -> Contact | None:
        if not record.get("Id"):
            return None
        account = record.get("AccountId")
        props = {k: v for k, v in record.items() if k != "attributes"}
        return Contact(id=str(record["Id"]), properties=props,
                       account_id=str(account) if account else None)

    def find_contact(self, ref: CustomerRef) -> tuple[Contact, str] | None:
        fields = "Id,Name,Email,Phone,AccountId"
        if ref.external_id and _SF_ID.match(ref.external_id):
            rows = self._query(f"SELECT {fields} FROM Contact WHERE Id = "
                               f"{soql_literal(ref.external_id)} LIMIT 1")
            if rows and (found := self._contact(rows[0])):
                return found, "external_id"
        for address in ref.emails:
            rows = self._query(f"SELECT {fields} FROM Contact WHERE Email = "
                               f"{soql_literal(address)} LIMIT 5")
            if rows and (found := self._contact(rows[0])):
                return found, "email"
        for number in ref.phones:
            _, body = self._call("GET", "/search/", params={
                "q": f"FIND {{{sosl_term(number)}}} IN PHONE FIELDS RETURNING "
                     f"Contact({fields})"})
            records = body.get("searchRecords") if isinstance(body, dict) else body
            for record in records if isinstance(records, list) else []:
                if isinstance(record, dict) and (found := self._contact(record)):
                    return found, "phone"
        return None

    def create_contact(self, ref: CustomerRef) -> Contact:
        first, _, last = (ref.name or "").strip().rpartition(" ")
        fields: dict[str, Any] = {"LastName": (last or first or "Unknown")[:80]}
        if first and last:
            fields["FirstName"] = first[:40]
        if ref.emails:
            fields["Email"] = ref.emails[0]
        if ref.phones:
            fields["Phone"] = ref.phones[0]
        _, body = self._call(
            "PATCH", f"/sobjects/Contact/{CUSTOMER_FIELD}/{quote(ref.customer_id, safe='')}",
            json=fields)
        if isinstance(body, dict) and body.get("id"):
            return Contact(id=str(body["id"]), properties=fields)
        rows = self._query(f"SELECT Id,Name,Email,Phone,AccountId FROM Contact WHERE "
                           f"{CUSTOMER_FIELD} = {soql_literal(ref.customer_id)} LIMIT 1")
        if rows and (found := self._contact(rows[0])):
            return found  # an old-version update (204): read it back
        raise CrmPermanent("Salesforce did not return the contact's id")

    # --- tasks -----------------------------------------------------------------------------

    def put_activity(self, contact_id: str, activity: ActivityIn,
                     external_id: str | None) -> str:
        """Upsert by the conversation's marker: a repeat updates the same Task."""
        body: dict[str, Any] = {
            "Subject": activity.subject[:255], "Description": activity.body[:32_000],
            "WhoId": contact_id, "Status": "Completed" if activity.resolved else "In Progress",
            "Priority": "Normal", "ActivityDate": activity.when.date().isoformat(),
            "TaskSubtype": "Task"}
        _, answer = self._call(
            "PATCH", f"/sobjects/Task/{ACTIVITY_FIELD}/{quote(activity.marker, safe='')}",
            json=body)
        if isinstance(answer, dict) and answer.get("id"):
            return str(answer["id"])
        if external_id:
            return external_id
        found = self.find_activity(contact_id, activity.marker)
        if found is None:
            raise CrmPermanent("Salesforce did not return the task's id")
        return found

    def find_activity(self, contact_id: str, marker: str) -> str | None:
        rows = self._query(f"SELECT Id FROM Task WHERE {ACTIVITY_FIELD} = "
                           f"{soql_literal(marker)} LIMIT 1")
        return str(rows[0]["Id"]) if rows and rows[0].get("Id") else None

    # --- panel -----------------------------------------------------------------------------

    def read_fields(self, contact_id: str, contact_fields: list[str],
                    account_fields: list[str]) -> dict[str, dict[str, Any]]:
        if not _SF_ID.match(contact_id):
            raise CrmPermanent("not a Salesforce id", code="crm_bad_id")
        wanted = sorted({*contact_fields, "AccountId"})
        _, body = self._call("GET", f"/sobjects/Contact/{contact_id}",
                             params={"fields": ",".join(wanted)})
        record = body if isinstance(body, dict) else {}
        out: dict[str, dict[str, Any]] = {
            "contact": {f: record.get(f) for f in contact_fields}, "account": {}}
        account = record.get("AccountId")
        if account_fields and isinstance(account, str) and _SF_ID.match(account):
            _, abody = self._call("GET", f"/sobjects/Account/{account}",
                                  params={"fields": ",".join(account_fields)})
            arecord = abody if isinstance(abody, dict) else {}
            out["account"] = {f: arecord.get(f) for f in account_fields}
        return out


def valid_version(value: str) -> bool:
    return bool(_VERSION.match(value))
