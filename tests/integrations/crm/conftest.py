"""CRM test helpers: the provider sandbox's HubSpot and Salesforce fakes seen from outside
(seeded through their own REST APIs, as a CRM user would), and a connection made through
Threadline's REST API."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import wait_for
from tests.hops.conftest import Hops
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import hubspot as shs
from threadline.sandbox.providers import salesforce as ssf

HUBSPOT_TOKEN = "pat-na1-sandbox-0000"
SF_CLIENT = {"client_id": "3MVG9sandbox", "client_secret": "sfsecret-sandbox"}
TOO_MANY = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT", "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
            "policyName": "TEN_SECONDLY_ROLLING",
            "requestId": "3d3e35b7-0dae-4b9f-a6e3-9c230cbcf8dd"}


def tag() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=10))


class Crm:
    """The two fakes over real HTTP."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    # --- HubSpot ----------------------------------------------------------------------------

    @property
    def hubspot_url(self) -> str:
        return self.sandbox.url + shs.PREFIX

    def hs(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, self.hubspot_url + path,
                                 headers={"Authorization": f"Bearer {HUBSPOT_TOKEN}"}, **kwargs)

    def hs_contact(self, **properties: str) -> str:
        answer = self.hs("POST", "/crm/v3/objects/contacts", json={"properties": properties})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def hs_company(self, contact_id: str, **properties: str) -> str:
        answer = self.hs("POST", "/crm/v3/objects/companies", json={"properties": properties})
        assert answer.status_code == 201, answer.text
        company = str(answer.json()["id"])
        patched = self.hs("PATCH", f"/crm/v3/objects/contacts/{contact_id}",
                          json={"properties": {"associatedcompanyid": company}})
        assert patched.status_code == 200, patched.text
        return company

    def hs_notes(self, contact_id: str) -> list[dict[str, Any]]:
        """The notes on the contact's timeline (through the v4 associations)."""
        answer = self.hs("GET", f"/crm/v4/objects/contacts/{contact_id}/associations/notes")
        assert answer.status_code == 200, answer.text
        notes = []
        for row in answer.json()["results"]:
            note = self.hs("GET", f"/crm/v3/objects/notes/{row['toObjectId']}")
            notes.append(note.json())
        return notes

    # --- Salesforce -------------------------------------------------------------------------

    @property
    def salesforce_url(self) -> str:
        return self.sandbox.url + ssf.PREFIX

    def sf_token(self) -> str:
        answer = self.http.post(self.salesforce_url + "/services/oauth2/token",
                                data={"grant_type": "client_credentials", **SF_CLIENT})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def sf(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.salesforce_url}/services/data/v62.0{path}",
                                 headers={"Authorization": f"Bearer {self.sf_token()}"},
                                 **kwargs)

    def sf_create(self, sobject: str, **fields: Any) -> str:
        answer = self.sf("POST", f"/sobjects/{sobject}", json=fields)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def sf_tasks(self, contact_id: str) -> list[dict[str, Any]]:
        fields = "Id,Subject,Description,Status,WhoId,Threadline_Conversation_Id__c"
        answer = self.sf("GET", "/query", params={
            "q": f"SELECT {fields} FROM Task WHERE WhoId = '{contact_id}'"})
        assert answer.status_code == 200, answer.text
        records: list[dict[str, Any]] = answer.json()["records"]
        return records

    # --- the recorder -----------------------------------------------------------------------

    def calls(self, provider: str, *, method: str | None = None,
              path_contains: str = "") -> list[dict[str, Any]]:
        answer = self.http.get(self.sandbox.url + "/_sandbox/calls",
                               params={"provider": provider})
        return [c for c in answer.json()["calls"]
                if (method is None or c["method"] == method) and path_contains in c["path"]]

    def fault(self, provider: str, path_contains: str, status: int, *, count: int = 1,
              retry_after: float | None = None, body: Any = None) -> None:
        answer = self.http.post(self.sandbox.url + "/_sandbox/faults", json={
            "provider": provider, "path_contains": path_contains, "status": status,
            "count": count, "retry_after": retry_after, "body": body})
        assert answer.status_code == 200


def hubspot_connection(api: Any, crm: Crm, **overrides: Any) -> dict[str, Any]:
    body = {"kind": "hubspot", "name": "HubSpot", "base_url": crm.hubspot_url,
            "credentials": {"token": HUBSPOT_TOKEN},
            "contact_fields": ["email", "firstname", "jobtitle"], "account_fields": ["name"],
            **overrides}
    answer = api.post("/crm/connections", json=body)
    assert answer.status_code == 201, answer.text
    conn: dict[str, Any] = answer.json()
    wait_for(lambda: api.get(f"/crm/connections/{conn['id']}").status_code == 200,
             what="connection commit")
    return conn


def salesforce_connection(api: Any, crm: Crm, **overrides: Any) -> dict[str, Any]:
    body = {"kind": "salesforce", "name": "Salesforce", "base_url": crm.salesforce_url,
            "credentials": dict(SF_CLIENT), "contact_fields": ["Email", "Title"],
            "account_fields": ["Name", "Industry"], **overrides}
    answer = api.post("/crm/connections", json=body)
    assert answer.status_code == 201, answer.text
    conn: dict[str, Any] = answer.json()
    wait_for(lambda: api.get(f"/crm/connections/{conn['id']}").status_code == 200,
             what="connection commit")
    return conn


@pytest.fixture
def crm(sandbox: Any) -> Iterator[Crm]:
    harness = Crm(sandbox)
    yield harness
    harness.close()


@pytest.fixture
def hop(live_server: Any, sandbox: Any, token: str, runtime: Runtime,
        workspace_id: uuid.UUID) -> Iterator[Hops]:
    """The hop flows' e2e harness (tests/hops): Threadline live, the sandbox live."""
    harness = Hops(live_server, sandbox, token, runtime, workspace_id)
    yield harness
    harness.close()
