"""Salesforce through the sandbox's fake (real HTTP), driven by the outbox worker: sign-in
with client credentials, a customer matched by email (SOQL) or phone (SOSL), created by
external-id upsert when the connection says so, the conversation upserted as one Task on
its marker and completed at resolution; an expired session is renewed once; 403
REQUEST_LIMIT_EXCEEDED waits; the Contact and Account fields reach the panel."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.integrations.crm.conftest import salesforce_connection, tag
from tests.integrations.crm.test_hubspot_sync import Api, conversation
from threadline.db.base import utcnow
from threadline.events.models import OutboxJob
from threadline.integrations.crm.models import CrmConnection

LIMIT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


class TestSalesforceSync:
    def test_matched_by_email_one_task_completed_at_resolution(self, runtime, workspace_id,
                                                               client, worker, crm) -> None:
        t = tag()
        email = f"dee-{t}@example.com"
        account = crm.sf_create("Account", Name=f"Globex {t}", Industry="Retail")
        contact = crm.sf_create("Contact", LastName="Dee", Email=email, Title="CTO",
                                AccountId=account)
        api = Api(client)
        salesforce_connection(api, crm)
        conv = conversation(runtime, workspace_id, client, worker, email, f"Refund please {t}")
        [task] = crm.sf_tasks(contact)
        assert task["Status"] == "In Progress" and f"Refund please {t}" in task["Description"]
        assert task["Threadline_Conversation_Id__c"] == "tl" + uuid.UUID(conv["id"]).hex

        assert client.post(f"/api/v1/conversations/{conv['id']}/resolve").status_code == 200
        worker.drain()
        [done] = crm.sf_tasks(contact)
        assert done["Id"] == task["Id"] and done["Status"] == "Completed"
        assert "Status: Resolved" in done["Description"]

        [link] = api.get(f"/customers/{conv['customer']['id']}/crm").json()["links"]
        assert link["external_id"] == contact and link["matched_by"] == "email"
        assert link["fields"] == {"contact": {"Email": email, "Title": "CTO"},
                                  "account": {"Name": f"Globex {t}", "Industry": "Retail"}}

    def test_an_expired_session_is_renewed_once(self, runtime, workspace_id, client, worker,
                                                crm) -> None:
        t = tag()
        email = f"eve-{t}@example.com"
        contact = crm.sf_create("Contact", LastName="Eve", Email=email)
        api = Api(client)
        conn = salesforce_connection(api, crm)
        first = conversation(runtime, workspace_id, client, worker, email, f"one {t}")
        signed_in = len(crm.calls("salesforce", path_contains="/oauth2/token"))
        assert crm.http.post(crm.salesforce_url + "/_sandbox/expire-sessions").status_code == 200
        assert client.post(f"/api/v1/conversations/{first['id']}/resolve").status_code == 200
        worker.drain()
        assert len(crm.calls("salesforce", path_contains="/oauth2/token")) == signed_in + 1
        assert [task["Status"] for task in crm.sf_tasks(contact)] == ["Completed"]
        with runtime.db.session(write=False) as s:
            stored = s.get(CrmConnection, uuid.UUID(conn["id"]))
            assert stored is not None and stored.session_token.get("access_token")

    def test_request_limit_exceeded_waits(self, runtime, workspace_id, client, worker,
                                          crm) -> None:
        t = tag()
        email = f"fay-{t}@example.com"
        contact = crm.sf_create("Contact", LastName="Fay", Email=email)
        api = Api(client)
        salesforce_connection(api, crm)
        crm.fault("salesforce", "/sobjects/Task/", 403, body=LIMIT)
        conversation(runtime, workspace_id, client, worker, email, f"limits {t}")
        with runtime.db.session(write=False) as s:
            job = s.scalar(select(OutboxJob).where(OutboxJob.workspace_id == workspace_id,
                                                    OutboxJob.name == "crm.sync"))
            assert job is not None and job.status == "pending" and job.attempts == 1
            assert (job.due_at - utcnow()).total_seconds() > 200  # a long wait, not a backoff
        assert crm.sf_tasks(contact) == []

    def test_unmatched_customer_becomes_a_contact_by_phone_or_not_at_all(
            self, runtime, workspace_id, client, worker, crm) -> None:
        t = tag()
        api = Api(client)
        conn = salesforce_connection(api, crm)
        email = f"gil-{t}@example.com"
        conv = conversation(runtime, workspace_id, client, worker, email, f"who am i {t}")
        panel = api.get(f"/customers/{conv['customer']['id']}/crm").json()
        assert panel["links"] == [] and panel["log"][0]["outcome"] == "skipped"

        assert api.patch(f"/crm/connections/{conn['id']}",
                         json={"create_contacts": True}).status_code == 200
        assert client.post(f"/api/v1/conversations/{conv['id']}/resolve").status_code == 200
        worker.drain()
        [link] = api.get(f"/customers/{conv['customer']['id']}/crm").json()["links"]
        assert link["matched_by"] == "created"
        found = crm.sf("GET", "/query", params={
            "q": f"SELECT Id,Email,Threadline_Customer_Id__c FROM Contact WHERE Email = "
                 f"'{email}'"}).json()["records"]
        assert [(r["Id"], r["Threadline_Customer_Id__c"]) for r in found] == [
            (link["external_id"], conv["customer"]["id"])]
        assert [task["Status"] for task in crm.sf_tasks(link["external_id"])] == ["Completed"]
