"""The connections API attacked: URLs that would carry a token to an internal or plain-HTTP
host, field mappings naming fields the CRM does not have, malformed credentials, other
workspaces' ids, agents acting as admins. Every refusal is a typed 4xx and stores nothing;
no answer carries a credential, and the credentials are encrypted at rest."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.conftest import make_token
from threadline.channels.urls import STRICT
from threadline.conversations.service import Actor
from threadline.errors import ValidationFailed
from threadline.integrations.crm import service
from threadline.integrations.crm.base import CrmPermanent
from threadline.integrations.crm.models import CrmConnection
from threadline.integrations.crm.salesforce.connector import soql_literal, sosl_term
from threadline.integrations.crm.schemas import ConnectionIn
from threadline.workspace.service import create_workspace

HS = {"kind": "hubspot", "name": "HubSpot", "credentials": {"token": "pat-na1-secret-123"}}
SF = {"kind": "salesforce", "name": "SF", "base_url": "https://acme.my.salesforce.com",
      "credentials": {"client_id": "cid", "client_secret": "sfsecret-top-secret"}}


def count(runtime: Any, workspace_id: uuid.UUID) -> int:
    with runtime.db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(CrmConnection).where(
            CrmConnection.workspace_id == workspace_id)) or 0)


def error_of(answer: Any) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()["error"]
    return body


class TestUrls:
    @pytest.mark.parametrize("kind,url", [
        ("hubspot", "http://api.hubapi.com"), ("hubspot", "https://127.0.0.1"),
        ("hubspot", "https://evil.example.com"), ("hubspot", "https://api.hubapi.com:8443"),
        ("hubspot", "https://api.hubapi.com/crm?x=1"),
        ("salesforce", "http://acme.my.salesforce.com"),
        ("salesforce", "https://169.254.169.254"), ("salesforce", "https://localhost"),
        ("salesforce", "https://acme.my.salesforce.com.evil.io"),
        ("salesforce", "https://user:pw@acme.my.salesforce.com"),
        ("salesforce", "https://acme.my.salesforce.com:444"),
        ("salesforce", None)])
    def test_strict_policy_refuses_internal_and_plain_http(self, runtime, workspace_id, kind,
                                                           url) -> None:
        body = ConnectionIn.model_validate({**(HS if kind == "hubspot" else SF),
                                            "base_url": url})
        with runtime.db.session() as s, pytest.raises(ValidationFailed) as refused:
            service.create_connection(s, workspace_id, body, STRICT, Actor("agent", "a"))
        assert refused.value.code == "crm_url_refused"
        assert refused.value.details == {"field": "base_url"}
        assert count(runtime, workspace_id) == 0

    def test_strict_policy_accepts_official_hosts(self) -> None:
        assert service.check_base_url("hubspot", None, STRICT) == "https://api.hubapi.com"
        assert service.check_base_url("salesforce", "https://acme.my.salesforce.com/",
                                      STRICT) == "https://acme.my.salesforce.com"

    @pytest.mark.parametrize("url", ["ftp://api.hubapi.com", "javascript:alert(1)",
                                     "https://a b.com", "https://x.com#frag", "x" * 3000])
    def test_api_refuses_what_no_policy_allows(self, client, runtime, workspace_id,
                                               url) -> None:
        answer = client.post("/api/v1/crm/connections", json={**HS, "base_url": url})
        assert answer.status_code == 422, answer.text
        assert count(runtime, workspace_id) == 0


class TestBodies:
    def test_a_mapping_naming_a_missing_field_is_a_typed_422(self, client, runtime,
                                                            workspace_id) -> None:
        answer = client.post("/api/v1/crm/connections", json={
            **HS, "contact_fields": ["email", "shoe_size"]})
        assert answer.status_code == 422
        error = error_of(answer)
        assert error["code"] == "crm_unknown_field"
        assert error["details"]["field"] == "contact_fields[1]"
        answer = client.post("/api/v1/crm/connections", json={
            **SF, "base_url": None, "account_fields": ["Name", "Secret__x"]})
        assert answer.status_code == 422 and error_of(answer)["code"] in (
            "crm_unknown_field", "crm_url_refused")
        assert count(runtime, workspace_id) == 0

    def test_a_salesforce_custom_field_is_accepted(self, client, sandbox) -> None:
        answer = client.post("/api/v1/crm/connections", json={
            **SF, "base_url": sandbox.url + "/salesforce",
            "contact_fields": ["Email", "Loyalty_Tier__c"]})
        assert answer.status_code == 201, answer.text

    @pytest.mark.parametrize("patch", [
        {"credentials": {"token": "t", "client_id": "c"}},
        {"credentials": {}}, {"credentials": {"password": "x"}},
        {"kind": "zoho"}, {"name": ""}, {"name": "n" * 500}, {"unknown": 1},
        {"contact_fields": ["email"] * 2}, {"contact_fields": [f"f{i}" for i in range(50)]},
        {"api_version": "v62.0"}, {"create_contacts": "yes"}])
    def test_bad_bodies_are_typed_422s_and_store_nothing(self, client, runtime,
                                                         workspace_id, patch) -> None:
        answer = client.post("/api/v1/crm/connections", json={**HS, **patch})
        assert answer.status_code == 422, answer.text
        assert count(runtime, workspace_id) == 0

    def test_one_connection_per_kind_and_no_credentials_out(self, client, runtime, sandbox,
                                                            workspace_id) -> None:
        body = {**HS, "base_url": sandbox.url + "/hubspot"}
        created = client.post("/api/v1/crm/connections", json=body)
        assert created.status_code == 201
        assert "pat-na1-secret-123" not in created.text and "credentials" not in created.json()
        again = client.post("/api/v1/crm/connections", json=body)
        assert again.status_code == 409 and error_of(again)["code"] == "crm_connection_exists"
        listed = client.get("/api/v1/crm/connections")
        assert "pat-na1-secret-123" not in listed.text
        with runtime.db.session(write=False) as s:
            raw = s.execute(text("SELECT credentials FROM crm_connections WHERE id = :id"),
                            {"id": uuid.UUID(created.json()["id"]).hex
                             if runtime.db.engine.dialect.name == "sqlite"
                             else created.json()["id"]}).scalar()
        assert raw and "pat-na1-secret-123" not in raw
        # A bad change stores nothing either.
        cid = created.json()["id"]
        bad = client.patch(f"/api/v1/crm/connections/{cid}",
                           json={"name": "renamed", "contact_fields": ["nope"]})
        assert bad.status_code == 422
        assert client.get(f"/api/v1/crm/connections/{cid}").json()["name"] == "HubSpot"


class TestAccess:
    def test_agents_are_not_admins_and_other_workspaces_see_nothing(self, client, runtime,
                                                                   sandbox,
                                                                   workspace_id) -> None:
        created = client.post("/api/v1/crm/connections",
                              json={**HS, "base_url": sandbox.url + "/hubspot"}).json()
        agent = make_token(runtime, workspace_id, role="agent")
        as_agent = {"Authorization": f"Bearer {agent}"}
        assert client.get("/api/v1/crm/connections", headers=as_agent).status_code == 403
        assert client.post("/api/v1/crm/connections", json=SF,
                           headers=as_agent).status_code == 403
        assert client.post(f"/api/v1/crm/connections/{created['id']}/backfill",
                           headers=as_agent).status_code == 403
        with runtime.db.session() as s:
            other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:10]}").id
        stranger = {"Authorization": f"Bearer {make_token(runtime, other)}"}
        for method, path in (("GET", f"/crm/connections/{created['id']}"),
                             ("PATCH", f"/crm/connections/{created['id']}"),
                             ("DELETE", f"/crm/connections/{created['id']}"),
                             ("POST", f"/crm/connections/{created['id']}/backfill"),
                             ("GET", f"/crm/connections/{uuid.uuid4()}"),
                             ("GET", f"/customers/{uuid.uuid4()}/crm"),
                             ("POST", f"/customers/{uuid.uuid4()}/crm/refresh")):
            kwargs: dict[str, Any] = {"json": {}} if method == "PATCH" else {}
            answer = client.request(method, "/api/v1" + path, headers=stranger, **kwargs)
            assert answer.status_code == 404, (method, path, answer.text)
        assert client.get("/api/v1/crm/connections/not-an-id").status_code == 422
        assert client.get(f"/api/v1/crm/connections/{created['id']}").status_code == 200


class TestQueryLiterals:
    def test_soql_and_sosl_escape_what_could_inject(self) -> None:
        assert soql_literal("o'brien@example.com") == "'o\\'brien@example.com'"
        assert soql_literal("a\\' OR Name != '") == "'a\\\\\\' OR Name != \\''"
        with pytest.raises(CrmPermanent):
            soql_literal("a\nb")
        assert sosl_term("+1 (555) 123-4567} RETURNING Lead") == \
            "\\+1 \\(555\\) 123\\-4567\\} RETURNING Lead"
