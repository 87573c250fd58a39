"""Unit tests of each connector alone against its provider's recorded shapes (the JSON
fixtures in its folder), served by an in-process httpx transport: parsing, the error classes
(retry with the right wait, refusal, sign in again), and what each request carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from threadline.integrations.crm.base import (
    ActivityIn,
    CrmPermanent,
    CrmRetry,
    CustomerRef,
    retry_after,
)
from threadline.integrations.crm.hubspot import connector as hs
from threadline.integrations.crm.salesforce import connector as sf

ROOT = Path(hs.__file__).parent.parent
REF = CustomerRef(customer_id="cus_123", name="Alice Doe", emails=["alice@example.com"],
                  phones=["+15551234567"])
ACTIVITY = ActivityIn(marker="tl0123", subject="Threadline: order", body="Status: Open",
                      when=datetime(2026, 1, 1, tzinfo=UTC), resolved=False)


def fixture(kind: str, name: str) -> Any:
    return json.loads((ROOT / kind / "fixtures" / f"{name}.json").read_text())


Route = tuple[str, str, int, Any, dict[str, str]]


def client(routes: list[Route], seen: list[httpx.Request]) -> httpx.Client:
    """Answers in order: (method, path suffix, status, fixture body, headers)."""
    queue = list(routes)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        method, suffix, status, body, headers = queue.pop(0)
        assert request.method == method and request.url.path.endswith(suffix), request.url
        return httpx.Response(status, json=body, headers=headers)

    return httpx.Client(transport=httpx.MockTransport(handle))


class TestHubSpot:
    def hub(self, routes: list[Route], seen: list[httpx.Request],
            creds: dict[str, Any] | None = None) -> hs.HubSpot:
        return hs.HubSpot(client(routes, seen), "https://api.hubapi.com",
                          creds or {"token": "pat-na1-x"}, {})

    def test_match_by_email_then_fields_with_company(self) -> None:
        seen: list[httpx.Request] = []
        hub = self.hub([("POST", "/contacts/search", 200, fixture("hubspot", "contact_search"), {}),
                        ("GET", "/contacts/101", 200, fixture("hubspot", "contact_read"), {}),
                        ("GET", "/companies/2001", 200, fixture("hubspot", "company_read"), {})],
                       seen)
        found = hub.find_contact(REF)
        assert found is not None and found[0].id == "101" and found[1] == "email"
        assert found[0].account_id == "2001"
        assert json.loads(seen[0].content)["filterGroups"][0]["filters"][0] == {
            "propertyName": "email", "operator": "EQ", "value": "alice@example.com"}
        assert seen[0].headers["authorization"] == "Bearer pat-na1-x"
        fields = hub.read_fields("101", ["email", "jobtitle"], ["name"])
        assert fields == {"contact": {"email": "alice@example.com", "jobtitle": "Buyer"},
                          "account": {"name": "Acme Corp"}}

    def test_create_by_upsert_and_a_partial_batch_is_a_refusal(self) -> None:
        seen: list[httpx.Request] = []
        hub = self.hub([("POST", "/batch/upsert", 200, fixture("hubspot", "batch_upsert"), {}),
                        ("POST", "/batch/upsert", 207,
                         fixture("hubspot", "batch_upsert_partial"), {})], seen)
        assert hub.create_contact(REF).id == "102"
        sent = json.loads(seen[0].content)["inputs"][0]
        assert sent["idProperty"] == "threadline_customer_id" and sent["id"] == "cus_123"
        with pytest.raises(CrmPermanent, match="invalid"):
            hub.create_contact(REF)

    def test_note_created_with_its_association_then_found_by_marker(self) -> None:
        seen: list[httpx.Request] = []
        hub = self.hub([("POST", "/objects/notes", 201, fixture("hubspot", "note_created"), {}),
                        ("PATCH", "/objects/notes/5001", 200,
                         fixture("hubspot", "note_created"), {}),
                        ("POST", "/notes/search", 200, fixture("hubspot", "note_search"), {})],
                       seen)
        assert hub.put_activity("101", ACTIVITY, None) == "5001"
        body = json.loads(seen[0].content)
        assert body["associations"][0]["types"][0]["associationTypeId"] == 202
        assert "[tl0123]" in body["properties"]["hs_note_body"]
        assert hub.put_activity("101", ACTIVITY, "5001") == "5001"
        assert "associations" not in json.loads(seen[1].content)
        assert hub.find_activity("101", "tl0123") == "5001"

    @pytest.mark.parametrize("name,headers,seconds", [
        ("error_429_ten_secondly", {"Retry-After": "3"}, 3.0),
        ("error_429_ten_secondly", {}, 10.0),
        ("error_429_search_secondly", {}, 1.0)])
    def test_429s_wait_what_hubspot_asks(self, name, headers, seconds) -> None:
        hub = self.hub([("POST", "/contacts/search", 429, fixture("hubspot", name), headers)], [])
        with pytest.raises(CrmRetry) as retry:
            hub.find_contact(REF)
        assert retry.value.seconds == seconds and "correlationId" in retry.value.reason

    def test_401_refreshes_an_oauth_token_once(self) -> None:
        seen: list[httpx.Request] = []
        creds = {"client_id": "c", "client_secret": "s", "refresh_token": "refresh-x"}
        hub = self.hub([("POST", "/oauth/v1/token", 200, fixture("hubspot", "oauth_token"), {}),
                        ("POST", "/contacts/search", 401, fixture("hubspot", "error_401"), {}),
                        ("POST", "/oauth/v1/token", 200, fixture("hubspot", "oauth_token"), {}),
                        ("POST", "/contacts/search", 200,
                         fixture("hubspot", "contact_search_empty"), {}),
                        ("POST", "/contacts/search", 200,
                         fixture("hubspot", "contact_search_empty"), {}),
                        ("POST", "/contacts/search", 200,
                         fixture("hubspot", "contact_search_empty"), {})], seen, creds)
        assert hub.find_contact(REF) is None
        assert hub.refreshed == {"access_token": fixture("hubspot", "oauth_token")["access_token"]}

    def test_a_validation_error_is_a_refusal(self) -> None:
        hub = self.hub([("GET", "/contacts/101", 400, fixture("hubspot", "error_validation"),
                         {})], [])
        with pytest.raises(CrmPermanent, match="shoe_size"):
            hub.read_fields("101", ["shoe_size"], [])

    def test_ids_are_digits_only(self) -> None:
        hub = self.hub([], [])
        with pytest.raises(CrmPermanent):
            hub.put_activity("101", ACTIVITY, "../contacts/1")


class TestSalesforce:
    def org(self, routes: list[Route], seen: list[httpx.Request]) -> sf.Salesforce:
        return sf.Salesforce(client(routes, seen), "https://acme.my.salesforce.com",
                             {"client_id": "cid", "client_secret": "sec"}, {}, {},
                             lambda url: url)

    def test_sign_in_match_by_email_and_read_fields(self) -> None:
        seen: list[httpx.Request] = []
        org = self.org([("POST", "/services/oauth2/token", 200, fixture("salesforce", "token"), {}),
                        ("GET", "/query", 200, fixture("salesforce", "query_contact"),
                         {"Sforce-Limit-Info": "api-usage=18/5000"}),
                        ("GET", "/sobjects/Contact/003xx000004TmiQAAS", 200,
                         fixture("salesforce", "contact_read"), {}),
                        ("GET", "/sobjects/Account/001xx000003DHP0AAO", 200,
                         fixture("salesforce", "account_read"), {})], seen)
        found = org.find_contact(REF)
        assert found is not None and found[0].id == "003xx000004TmiQAAS" and found[1] == "email"
        assert seen[0].headers["authorization"].startswith("Basic ")
        assert "Email = 'alice@example.com'" in seen[1].url.params["q"]
        assert str(seen[1].url).startswith("https://acme.my.salesforce.com/services/data/v62.0/")
        assert org.read_fields("003xx000004TmiQAAS", ["Email", "Title"], ["Name", "Industry"]) \
            == {"contact": {"Email": "alice@example.com", "Title": "CTO"},
                "account": {"Name": "Globex", "Industry": "Retail"}}

    def test_phone_by_sosl_and_task_upsert_on_the_marker(self) -> None:
        seen: list[httpx.Request] = []
        ref = CustomerRef(customer_id="cus_1", name=None, emails=[], phones=["+15551234567"])
        org = self.org([("POST", "/token", 200, fixture("salesforce", "token"), {}),
                        ("GET", "/search/", 200, fixture("salesforce", "search_phone"), {}),
                        ("PATCH", "/sobjects/Task/Threadline_Conversation_Id__c/tl0123", 200,
                         fixture("salesforce", "upsert_updated"), {})], seen)
        found = org.find_contact(ref)
        assert found is not None and found[1] == "phone"
        assert seen[1].url.params["q"].startswith("FIND {\\+15551234567} IN PHONE FIELDS")
        assert org.put_activity("003xx000004TmiQAAS", ACTIVITY, None) == "00Txx000001a2b3AAA"
        assert json.loads(seen[2].content)["WhoId"] == "003xx000004TmiQAAS"

    def test_an_expired_session_signs_in_again_once(self) -> None:
        seen: list[httpx.Request] = []
        org = self.org([("POST", "/token", 200, fixture("salesforce", "token"), {}),
                        ("GET", "/query", 401, fixture("salesforce", "error_invalid_session"), {}),
                        ("POST", "/token", 200, fixture("salesforce", "token"), {}),
                        ("GET", "/query", 200, fixture("salesforce", "query_empty"), {}),
                        ("GET", "/search/", 200, {"searchRecords": []}, {})], seen)
        assert org.find_contact(REF) is None
        assert [r.url.path.rsplit("/", 1)[-1] for r in seen] == [
            "token", "query", "token", "query", ""]

    def test_errors_are_classified(self) -> None:
        org = self.org([("POST", "/token", 200, fixture("salesforce", "token"), {}),
                        ("PATCH", "/Threadline_Customer_Id__c/cus_123", 403,
                         fixture("salesforce", "error_request_limit"), {}),
                        ("PATCH", "/Threadline_Customer_Id__c/cus_123", 300,
                         fixture("salesforce", "upsert_multiple"), {}),
                        ("PATCH", "/Threadline_Customer_Id__c/cus_123", 400,
                         fixture("salesforce", "error_validation"), {}),
                        ("PATCH", "/Threadline_Customer_Id__c/cus_123", 503, None, {})], [])
        with pytest.raises(CrmRetry) as limit:
            org.create_contact(REF)
        assert limit.value.seconds == sf.LIMIT_RETRY_SECONDS
        with pytest.raises(CrmPermanent) as ambiguous:
            org.create_contact(REF)
        assert ambiguous.value.code == "crm_ambiguous"
        with pytest.raises(CrmPermanent, match="INVALID_EMAIL_ADDRESS"):
            org.create_contact(REF)
        with pytest.raises(CrmRetry):
            org.create_contact(REF)

    def test_a_refused_sign_in_is_permanent(self) -> None:
        org = self.org([("POST", "/token", 400, fixture("salesforce", "token_error"), {})], [])
        with pytest.raises(CrmPermanent, match="invalid_client"):
            org.find_contact(REF)


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = format_datetime(datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC), usegmt=True)
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": later}), now) == 30.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after(httpx.Response(429, headers={"Retry-After": "999999"})) == 3600.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "-5"})) == 0.0


def test_salesforce_create_by_external_id_and_a_missing_record() -> None:
    org = sf.Salesforce(client([
        ("POST", "/token", 200, fixture("salesforce", "token"), {}),
        ("PATCH", "/sobjects/Contact/Threadline_Customer_Id__c/cus_123", 201,
         fixture("salesforce", "upsert_created"), {}),
        ("GET", "/sobjects/Contact/003xx000004TmiRAAS", 404,
         fixture("salesforce", "error_not_found"), {})], []),
        "https://acme.my.salesforce.com", {"client_id": "c", "client_secret": "s"}, {}, {},
        lambda url: url)
    assert org.create_contact(REF).id == "003xx000004TmiRAAS"
    with pytest.raises(CrmPermanent, match="NOT_FOUND"):
        org.read_fields("003xx000004TmiRAAS", ["Email"], [])


def test_every_fixture_is_exercised() -> None:
    source = Path(__file__).read_text()
    for kind in ("hubspot", "salesforce"):
        for path in sorted((ROOT / kind / "fixtures").glob("*.json")):
            json.loads(path.read_text())
            assert f'"{path.stem}"' in source, f"{kind}/fixtures/{path.name} has no test"
