"""The sandbox's HubSpot and Salesforce fakes answer like the providers: their error bodies
and status codes, rate-limit headers, upsert semantics (201, 200, 300), and the session
controls the tests use."""

from __future__ import annotations

from tests.integrations.crm.conftest import Crm, tag


class TestHubSpotFake:
    def test_errors_and_headers(self, crm: Crm) -> None:
        anonymous = crm.http.post(crm.hubspot_url + "/crm/v3/objects/contacts/search", json={})
        assert anonymous.status_code == 401
        assert anonymous.json()["category"] == "INVALID_AUTHENTICATION"
        email = f"fake-{tag()}@example.com"
        crm.hs_contact(email=email)
        again = crm.hs("POST", "/crm/v3/objects/contacts", json={"properties": {"email": email}})
        assert again.status_code == 409 and again.json()["category"] == "CONFLICT"
        bad = crm.hs("POST", "/crm/v3/objects/contacts",
                     json={"properties": {"shoe_size": "44"}})
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
        assert "correlationId" in bad.json()
        assert bad.headers["X-HubSpot-RateLimit-Max"] == "190"
        assert crm.hs("GET", "/crm/v3/objects/contacts/999999999").status_code == 404
        note = crm.hs("POST", "/crm/v3/objects/notes", json={"properties": {"hs_note_body": "x"}})
        assert note.status_code == 400  # hs_timestamp is required

    def test_batch_upsert_creates_then_updates(self, crm: Crm) -> None:
        key = f"cus_{tag()}"
        body = {"inputs": [{"idProperty": "threadline_customer_id", "id": key,
                            "properties": {"firstname": "A"}}]}
        first = crm.hs("POST", "/crm/v3/objects/contacts/batch/upsert", json=body)
        second = crm.hs("POST", "/crm/v3/objects/contacts/batch/upsert", json=body)
        assert first.json()["results"][0]["new"] is True
        assert second.json()["results"][0]["new"] is False
        assert first.json()["results"][0]["id"] == second.json()["results"][0]["id"]
        partial = crm.hs("POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
            {"idProperty": "firstname", "id": "x", "properties": {}}]})
        assert partial.status_code == 207 and partial.json()["numErrors"] == 1


class TestSalesforceFake:
    def test_token_query_and_errors(self, crm: Crm) -> None:
        refused = crm.http.post(crm.salesforce_url + "/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": "x", "client_secret": "wrong"})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
        token = crm.http.post(crm.salesforce_url + "/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": "x",
            "client_secret": "sfsecret-x"}).json()
        assert token["instance_url"] == crm.salesforce_url
        expired = crm.http.get(crm.salesforce_url + "/services/data/v62.0/query",
                               params={"q": "SELECT Id FROM Contact"},
                               headers={"Authorization": "Bearer nope"})
        assert expired.status_code == 401
        assert expired.json()[0]["errorCode"] == "INVALID_SESSION_ID"
        malformed = crm.sf("GET", "/query", params={"q": "DROP TABLE Contact"})
        assert malformed.status_code == 400
        assert malformed.json()[0]["errorCode"] == "MALFORMED_QUERY"
        field = crm.sf("GET", "/query", params={"q": "SELECT Password FROM Contact"})
        assert field.json()[0]["errorCode"] == "INVALID_FIELD"
        assert "Sforce-Limit-Info" in field.headers
        missing = crm.sf("POST", "/sobjects/Contact", json={"Email": "a@b.example"})
        assert missing.status_code == 400
        assert missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"

    def test_upsert_201_200_and_300(self, crm: Crm) -> None:
        key = f"cus_{tag()}"
        path = f"/sobjects/Contact/Threadline_Customer_Id__c/{key}"
        created = crm.sf("PATCH", path, json={"LastName": "A"})
        updated = crm.sf("PATCH", path, json={"LastName": "B"})
        assert (created.status_code, created.json()["created"]) == (201, True)
        assert (updated.status_code, updated.json()["created"]) == (200, False)
        crm.sf_create("Contact", LastName="C", Threadline_Customer_Id__c=key)
        several = crm.sf("PATCH", path, json={"LastName": "D"})
        assert several.status_code == 300 and len(several.json()) == 2
