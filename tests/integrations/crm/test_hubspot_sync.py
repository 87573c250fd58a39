"""HubSpot through the sandbox's fake (real HTTP), driven by the outbox worker: a customer is
matched by email, his conversation becomes one note on the contact's timeline and is updated
when it resolves (never a second note), the mapped fields reach the panel, a 429 with
Retry-After is honoured, an expired OAuth token is refreshed, a merge keeps one link."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.factories import api_account, message_event, post_events
from tests.integrations.crm.conftest import TOO_MANY, hubspot_connection, tag
from threadline.channels.urls import STRICT
from threadline.contacts.models import Customer
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.events.models import OutboxJob
from threadline.integrations.crm.base import CrmPermanent
from threadline.integrations.crm.connectors import build
from threadline.integrations.crm.models import CrmActivity, CrmConnection, CrmLink, CrmSyncLog
from threadline.subjects.service import erase_customer


class Api:
    """The REST client under /api/v1."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.client.post("/api/v1" + path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.client.patch("/api/v1" + path, **kw)


def conversation(runtime: Any, workspace_id: uuid.UUID, client: Any, worker: Any,
                 email: str, text: str) -> dict[str, Any]:
    account = api_account(runtime, workspace_id, identity_kind="email")
    pid = f"c-{uuid.uuid4().hex[:8]}"
    answer = post_events(client, account, [message_event(pid, author=email, text=text,
                                                         visibility="private", email=email)])
    assert answer.status_code == 200, answer.text
    worker.drain()
    items = client.get("/api/v1/conversations").json()["items"]
    found = [c for c in items if text in str(client.get(f"/api/v1/conversations/{c['id']}")
                                             .json()["messages"])]
    assert len(found) == 1
    return dict(client.get(f"/api/v1/conversations/{found[0]['id']}").json())


class TestHubSpotSync:
    def test_matched_by_email_one_note_updated_at_resolution(self, runtime, workspace_id,
                                                             client, worker, crm) -> None:
        t = tag()
        email = f"ann-{t}@example.com"
        contact = crm.hs_contact(email=email, firstname="Ann", jobtitle="Buyer")
        crm.hs_company(contact, name=f"Acme {t}")
        api = Api(client)
        hubspot_connection(api, crm)
        conv = conversation(runtime, workspace_id, client, worker, email,
                            f"My parcel never came {t}")
        [note] = crm.hs_notes(contact)
        body = note["properties"]["hs_note_body"]
        assert f"My parcel never came {t}" in body and "Status: Open" in body
        assert f"/conversations/{conv['id']}" in body

        assert client.post(f"/api/v1/conversations/{conv['id']}/resolve").status_code == 200
        worker.drain()
        [again] = crm.hs_notes(contact)
        assert again["id"] == note["id"]
        assert "Status: Resolved" in again["properties"]["hs_note_body"]
        assert len(crm.calls("hubspot", method="PATCH", path_contains=f"/notes/{note['id']}")) == 1

        panel = api.get(f"/customers/{conv['customer']['id']}/crm").json()
        [link] = panel["links"]
        assert link["external_id"] == contact and link["matched_by"] == "email"
        assert link["fields"]["contact"] == {"email": email, "firstname": "Ann",
                                             "jobtitle": "Buyer"}
        assert link["fields"]["account"] == {"name": f"Acme {t}"}
        actions = [row["action"] for row in panel["log"]]
        assert {"matched", "activity_created", "activity_updated", "fields_pulled"} <= set(actions)

    def test_a_429_is_honoured_with_its_retry_after(self, runtime, workspace_id, client,
                                                     worker, crm) -> None:
        t = tag()
        email = f"bo-{t}@example.com"
        contact = crm.hs_contact(email=email)
        api = Api(client)
        hubspot_connection(api, crm)
        crm.fault("hubspot", "/crm/v3/objects/notes", 429, retry_after=1, body=TOO_MANY)
        conv = conversation(runtime, workspace_id, client, worker, email, f"Late again {t}")
        # The job waits the provider's second, then writes the note once.
        with runtime.db.session(write=False) as s:
            job = s.scalar(select(OutboxJob).where(OutboxJob.workspace_id == workspace_id,
                                                    OutboxJob.name == "crm.sync"))
            assert job is not None and job.attempts == 1 and job.status == "pending"
            assert "rate limit" in (job.last_error or "")
            wait = (job.due_at - utcnow()).total_seconds()
            assert 0.3 < wait <= 1.0  # the provider's Retry-After, not the backoff
        assert crm.hs_notes(contact) == []
        log = api.get(f"/customers/{conv['customer']['id']}/crm").json()["log"]
        assert any(r["outcome"] == "retry" and "retry in 1s" in r["detail"] for r in log)
        time.sleep(1.1)
        worker.drain()
        assert len(crm.hs_notes(contact)) == 1

    def test_a_merge_keeps_one_link(self, runtime, workspace_id, client, worker, crm) -> None:
        t = tag()
        first, second = f"cy-{t}@example.com", f"cy2-{t}@example.com"
        one, two = crm.hs_contact(email=first), crm.hs_contact(email=second)
        api = Api(client)
        hubspot_connection(api, crm)
        a = conversation(runtime, workspace_id, client, worker, first, f"first {t}")
        b = conversation(runtime, workspace_id, client, worker, second, f"second {t}")
        source, target = b["customer"]["id"], a["customer"]["id"]
        assert source != target
        merged = client.post(f"/api/v1/customers/{target}/merge", json={"other_id": source})
        assert merged.status_code == 201, merged.text
        with runtime.db.session(write=False) as s:
            links = list(s.scalars(select(CrmLink).where(
                CrmLink.customer_id.in_([uuid.UUID(source), uuid.UUID(target)]))))
        assert [(str(link.customer_id), link.external_id) for link in links] == [(target, one)]
        panel = api.get(f"/customers/{source}/crm").json()
        assert panel["customer_id"] == target and len(panel["links"]) == 1
        assert any(r["action"] == "merge" for r in panel["log"])
        # The merged customer's conversation keeps its note; resolving it updates that note.
        assert client.post(f"/api/v1/conversations/{b['id']}/resolve").status_code == 200
        worker.drain()
        with runtime.db.session(write=False) as s:
            activity = s.scalar(select(CrmActivity).where(
                CrmActivity.conversation_id == uuid.UUID(b["id"])))
        assert activity is not None and activity.state == "resolved"
        assert len(crm.hs_notes(two)) == 1


class TestHubSpotTokens:
    def test_an_expired_oauth_token_is_refreshed_once(self, runtime, workspace_id, client,
                                                      worker, crm) -> None:
        t = tag()
        email = f"oa-{t}@example.com"
        contact = crm.hs_contact(email=email)
        api = Api(client)
        hubspot_connection(api, crm, credentials={
            "client_id": "hs-client", "client_secret": "hs-sandbox-client-secret",
            "refresh_token": f"refresh-{t}"})
        conv = conversation(runtime, workspace_id, client, worker, email, f"oauth {t}")
        tokens = len(crm.calls("hubspot", path_contains="/oauth/v1/token"))
        assert tokens == 1 and len(crm.hs_notes(contact)) == 1
        assert crm.http.post(crm.hubspot_url + "/_sandbox/expire-tokens").status_code == 200
        assert client.post(f"/api/v1/conversations/{conv['id']}/resolve").status_code == 200
        worker.drain()
        assert len(crm.calls("hubspot", path_contains="/oauth/v1/token")) == 2
        [note] = crm.hs_notes(contact)
        assert "Status: Resolved" in note["properties"]["hs_note_body"]
        # The refresh token never travels anywhere but the token endpoint.
        assert not [c for c in crm.calls("hubspot") if f"refresh-{t}" in c["body"]
                    and "/oauth/v1/token" not in c["path"]]

    def test_a_refused_private_app_token_is_logged_not_retried(self, runtime, workspace_id,
                                                               client, worker, crm) -> None:
        t = tag()
        email = f"rv-{t}@example.com"
        crm.hs_contact(email=email)
        api = Api(client)
        hubspot_connection(api, crm, credentials={"token": "revoked-token"})
        conv = conversation(runtime, workspace_id, client, worker, email, f"revoked {t}")
        [row] = api.get(f"/customers/{conv['customer']['id']}/crm").json()["log"]
        assert row["outcome"] == "failed" and row["detail"].startswith("crm_auth")
        assert "revoked-token" not in row["detail"]
        with runtime.db.session(write=False) as s:
            job = s.scalar(select(OutboxJob).where(OutboxJob.workspace_id == workspace_id,
                                                    OutboxJob.name == "crm.sync"))
            assert job is not None and job.status == "done"


class TestErasure:
    def test_erasing_a_customer_drops_his_link_fields_activities_and_log(
            self, runtime, workspace_id, client, worker, crm) -> None:
        t = tag()
        email = f"gone-{t}@example.com"
        crm.hs_contact(email=email, firstname="Gone")
        hubspot_connection(Api(client), crm)
        conv = conversation(runtime, workspace_id, client, worker, email, f"erase me {t}")
        customer = uuid.UUID(conv["customer"]["id"])
        with runtime.db.session() as s:
            report = erase_customer(s, workspace_id, customer, Actor("agent", "admin"))
        assert report.counts["crm_links"] == 1 and report.counts["crm_activities"] == 1
        with runtime.db.session(write=False) as s:
            for model, column in ((CrmLink, CrmLink.customer_id),
                                  (CrmSyncLog, CrmSyncLog.customer_id),
                                  (CrmActivity, CrmActivity.conversation_id)):
                key = customer if model is not CrmActivity else uuid.UUID(conv["id"])
                assert s.scalar(select(model).where(column == key)) is None, model


class TestMatching:
    def test_by_phone_and_by_stored_id(self, runtime, workspace_id, client, worker,
                                       crm) -> None:
        t = tag()
        number = "+1555" + str(uuid.uuid4().int)[:7]
        by_phone = crm.hs_contact(email=f"ph-{t}@example.com", mobilephone=number)
        stored = crm.hs_contact(email=f"st-{t}@example.com")
        api = Api(client)
        hubspot_connection(api, crm)
        account = api_account(runtime, workspace_id, identity_kind="phone")
        pid = f"p-{uuid.uuid4().hex[:8]}"
        assert post_events(client, account, [message_event(
            pid, author=number, text=f"call me {t}", visibility="private")]).status_code == 200
        worker.drain()
        [link] = [lk for c in client.get("/api/v1/conversations").json()["items"]
                  for lk in api.get(f"/customers/{c['customer_id']}/crm").json()["links"]]
        assert (link["external_id"], link["matched_by"]) == (by_phone, "phone")
        assert len(crm.hs_notes(by_phone)) == 1

        other = conversation(runtime, workspace_id, client, worker, f"nobody-{t}@example.com",
                             f"who {t}")
        customer = uuid.UUID(other["customer"]["id"])
        with runtime.db.session() as s:
            found = s.get(Customer, customer)
            assert found is not None
            found.external_ids = {"hubspot": stored}
        assert client.post(f"/api/v1/conversations/{other['id']}/resolve").status_code == 200
        worker.drain()
        [link] = api.get(f"/customers/{customer}/crm").json()["links"]
        assert (link["external_id"], link["matched_by"]) == (stored, "external_id")

    def test_a_lost_create_answer_is_found_by_its_marker_not_created_again(
            self, runtime, workspace_id, client, worker, crm) -> None:
        t = tag()
        email = f"lost-{t}@example.com"
        contact = crm.hs_contact(email=email)
        hubspot_connection(Api(client), crm)
        conv = conversation(runtime, workspace_id, client, worker, email, f"lost {t}")
        [note] = crm.hs_notes(contact)
        # As if the worker stopped after HubSpot created the note, before our commit.
        with runtime.db.session() as s:
            activity = s.scalar(select(CrmActivity).where(
                CrmActivity.conversation_id == uuid.UUID(conv["id"])))
            assert activity is not None and activity.attempted_at is not None
            activity.external_id = None
        assert client.post(f"/api/v1/conversations/{conv['id']}/resolve").status_code == 200
        worker.drain()
        [again] = crm.hs_notes(contact)
        assert again["id"] == note["id"] and "Resolved" in again["properties"]["hs_note_body"]
        assert len(crm.calls("hubspot", method="POST", path_contains="/notes/search")) >= 1
        with runtime.db.session(write=False) as s:
            activity = s.scalar(select(CrmActivity).where(
                CrmActivity.conversation_id == uuid.UUID(conv["id"])))
            assert activity is not None and activity.external_id == note["id"]

    def test_a_stored_connection_pointing_inside_is_refused_before_any_call(self) -> None:
        conn = CrmConnection(kind="hubspot", base_url="http://169.254.169.254",
                             credentials={"token": "pat-x"}, session_token={}, settings={})
        with pytest.raises(CrmPermanent) as refused:
            build(conn, httpx.Client(), STRICT)
        assert refused.value.code == "crm_url_refused"


class TestContactGone:
    def test_a_contact_deleted_in_the_crm_is_unlinked_then_matched_again(
            self, runtime, workspace_id, client, worker, crm) -> None:
        t = tag()
        email = f"gone2-{t}@example.com"
        first = crm.hs_contact(email=email)
        api = Api(client)
        hubspot_connection(api, crm)
        conv = conversation(runtime, workspace_id, client, worker, email, f"gone {t}")
        customer = conv["customer"]["id"]
        assert crm.hs("DELETE", f"/crm/v3/objects/contacts/{first}").status_code == 204
        assert api.post(f"/customers/{customer}/crm/refresh").status_code == 202
        worker.drain()
        panel = api.get(f"/customers/{customer}/crm").json()
        assert panel["links"] == []
        assert "link_dropped" in {row["action"] for row in panel["log"][:2]}
        second = crm.hs_contact(email=email)
        assert api.post(f"/customers/{customer}/crm/refresh").status_code == 202
        worker.drain()
        [link] = api.get(f"/customers/{customer}/crm").json()["links"]
        assert link["external_id"] == second
