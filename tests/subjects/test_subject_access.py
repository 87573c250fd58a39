"""Who may export and erase: admins only (REST token or desktop session), within their own
workspace, with CSRF and a typed confirmation on the desktop. Every refusal changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import make_token
from tests.desktop.conftest import Desk, desk_for
from threadline.contacts.models import Customer, Evidence
from threadline.contacts.service import create_customer, link_identity
from threadline.events.models import AuditEvent
from threadline.jobs.runtime import Runtime
from threadline.workspace import service as workspace_service

NAME = "Quentin Erasable"


def customer(runtime: Runtime, workspace_id: uuid.UUID, name: str = NAME) -> str:
    with runtime.db.session() as session:
        found = create_customer(session, workspace_id, name=name)
        link_identity(session, workspace_id, found.id, kind="email",
                      address=f"q.{uuid.uuid4().hex[:8]}@example.org",
                      evidence=Evidence.AGENT)
        return str(found.id)


def name_of(runtime: Runtime, customer_id: str) -> str | None:
    with runtime.db.session(write=False) as session:
        return session.scalar(select(Customer.name).where(
            Customer.id == uuid.UUID(customer_id)))


def audits(runtime: Runtime, customer_id: str, action: str) -> list[AuditEvent]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == customer_id, AuditEvent.action == action)))


@pytest.fixture
def other_workspace(runtime: Runtime) -> uuid.UUID:
    with runtime.db.session() as session:
        return workspace_service.create_workspace(session, "Other",
                                                  f"o-{uuid.uuid4().hex[:12]}").id


@pytest.fixture
def admin_desk(app: Any, runtime: Runtime, workspace_id: uuid.UUID) -> Desk:
    return desk_for(app, runtime, workspace_id, "admin", "Alma Admin")


def api(app: Any, token: str | None) -> TestClient:
    client = TestClient(app)
    if token:
        client.headers["Authorization"] = f"Bearer {token}"
    return client


class TestRestAccess:
    @pytest.mark.parametrize("role", ["agent", "supervisor"])
    def test_agents_and_supervisors_are_refused(self, app: Any, runtime: Runtime,
                                                workspace_id: uuid.UUID, role: str) -> None:
        cid = customer(runtime, workspace_id)
        client = api(app, make_token(runtime, workspace_id, role))
        for answer in (client.get(f"/api/v1/customers/{cid}/export"),
                       client.post(f"/api/v1/customers/{cid}/erase")):
            assert answer.status_code == 403
            assert answer.json()["error"]["code"] == "insufficient_role"
        assert name_of(runtime, cid) == NAME
        assert audits(runtime, cid, "customer.exported") == []

    def test_without_a_token_nothing_happens(self, app: Any, runtime: Runtime,
                                             workspace_id: uuid.UUID) -> None:
        cid = customer(runtime, workspace_id)
        client = api(app, None)
        assert client.get(f"/api/v1/customers/{cid}/export").status_code == 401
        assert client.post(f"/api/v1/customers/{cid}/erase").status_code == 401
        assert name_of(runtime, cid) == NAME

    def test_another_workspaces_customer_is_not_found(self, app: Any, runtime: Runtime,
                                                      workspace_id: uuid.UUID,
                                                      other_workspace: uuid.UUID) -> None:
        theirs = customer(runtime, other_workspace)
        client = api(app, make_token(runtime, workspace_id, "admin"))
        for answer in (client.get(f"/api/v1/customers/{theirs}/export"),
                       client.post(f"/api/v1/customers/{theirs}/erase")):
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "not_found"
        assert name_of(runtime, theirs) == NAME
        assert client.post(f"/api/v1/customers/{uuid.uuid4()}/erase").status_code == 404
        assert client.post("/api/v1/customers/not-an-id/erase").status_code == 422

    def test_admin_erases_and_again_is_harmless(self, app: Any, runtime: Runtime,
                                                workspace_id: uuid.UUID) -> None:
        cid = customer(runtime, workspace_id)
        client = api(app, make_token(runtime, workspace_id, "admin"))
        first = client.post(f"/api/v1/customers/{cid}/erase")
        assert first.status_code == 200, first.text
        assert first.json()["counts"]["identities"] == 1
        again = client.post(f"/api/v1/customers/{cid}/erase")
        assert again.status_code == 200 and again.json()["counts"]["identities"] == 0
        assert name_of(runtime, cid) is None
        records = audits(runtime, cid, "customer.erased")
        assert len(records) == 2 and {r.actor_type for r in records} == {"token"}
        assert NAME not in str([r.data for r in records])


class TestDesktopAccess:
    def test_admin_sees_the_requests_and_confirms_by_typing(self, admin_desk: Desk,
                                                            runtime: Runtime,
                                                            workspace_id: uuid.UUID) -> None:
        cid = customer(runtime, workspace_id)
        page = admin_desk.get(f"/customers/{cid}")
        assert 'id="subject-requests"' in page.text
        confirm = admin_desk.get(f"/customers/{cid}/erase")
        assert confirm.status_code == 200 and 'name="confirm"' in confirm.text
        assert "<script>" not in confirm.text.split("</head>")[1]
        assert " on" not in confirm.text.split('id="erase-form"')[1].split("</form>")[0]

        wrong = admin_desk.post(f"/customers/{cid}/erase", {"confirm": "Quentin"})
        assert wrong.status_code == 422
        assert name_of(runtime, cid) == NAME
        done = admin_desk.post(f"/customers/{cid}/erase", {"confirm": NAME})
        assert done.status_code == 303 and done.headers["location"].endswith("notice=erased")
        assert name_of(runtime, cid) is None
        after = admin_desk.get(f"/customers/{cid}")
        assert 'id="erased-notice"' in after.text
        [record] = audits(runtime, cid, "customer.erased")
        assert record.actor_type == "agent" and record.actor_id == str(admin_desk.agent.id)

    def test_the_word_erase_confirms_too(self, admin_desk: Desk, runtime: Runtime,
                                         workspace_id: uuid.UUID) -> None:
        cid = customer(runtime, workspace_id)
        assert admin_desk.post(f"/customers/{cid}/erase",
                               {"confirm": "ERASE"}).status_code == 303
        assert name_of(runtime, cid) is None

    def test_export_downloads_the_archive(self, admin_desk: Desk, runtime: Runtime,
                                         workspace_id: uuid.UUID) -> None:
        cid = customer(runtime, workspace_id)
        answer = admin_desk.post(f"/customers/{cid}/export")
        assert answer.status_code == 200
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.json()["customer"]["name"] == NAME
        [record] = audits(runtime, cid, "customer.exported")
        assert record.actor_id == str(admin_desk.agent.id)

    def test_without_csrf_nothing_happens(self, admin_desk: Desk, runtime: Runtime,
                                          workspace_id: uuid.UUID) -> None:
        cid = customer(runtime, workspace_id)
        for url, data in ((f"/customers/{cid}/erase", {"confirm": "ERASE"}),
                          (f"/customers/{cid}/export", {})):
            answer = admin_desk.post(url, data, csrf=False)
            assert answer.status_code == 403
            forged = admin_desk.post(url, {**data, "csrf_token": "0" * 64}, csrf=False)
            assert forged.status_code == 403
        assert name_of(runtime, cid) == NAME
        assert audits(runtime, cid, "customer.exported") == []

    @pytest.mark.parametrize("role", ["agent", "supervisor"])
    def test_other_roles_are_refused(self, app: Any, runtime: Runtime,
                                     workspace_id: uuid.UUID, role: str) -> None:
        desk = desk_for(app, runtime, workspace_id, role)
        cid = customer(runtime, workspace_id)
        assert 'id="subject-requests"' not in desk.get(f"/customers/{cid}").text
        assert desk.get(f"/customers/{cid}/erase").status_code == 403
        assert desk.post(f"/customers/{cid}/erase", {"confirm": "ERASE"}).status_code == 403
        assert desk.post(f"/customers/{cid}/export").status_code == 403
        assert name_of(runtime, cid) == NAME

    def test_another_workspaces_customer_is_not_found(self, admin_desk: Desk,
                                                      runtime: Runtime,
                                                      other_workspace: uuid.UUID) -> None:
        theirs = customer(runtime, other_workspace)
        assert admin_desk.get(f"/customers/{theirs}/erase").status_code == 404
        assert admin_desk.post(f"/customers/{theirs}/erase",
                               {"confirm": "ERASE"}).status_code == 404
        assert admin_desk.post(f"/customers/{theirs}/export").status_code == 404
        assert name_of(runtime, theirs) == NAME

    def test_hostile_and_oversized_confirmations_are_refused(self, admin_desk: Desk,
                                                             runtime: Runtime,
                                                             workspace_id: uuid.UUID) -> None:
        cid = customer(runtime, workspace_id, name='<img src=x onerror="alert(1)">')
        page = admin_desk.get(f"/customers/{cid}/erase")
        assert '<img src=x onerror="alert(1)">' not in page.text
        for typed in ("<script>alert(1)</script>", "E" * 100_000, "erase", " "):
            answer = admin_desk.post(f"/customers/{cid}/erase", {"confirm": typed})
            assert answer.status_code == 422, typed[:20]
            assert "<script>alert(1)</script>" not in answer.text
        assert name_of(runtime, cid) == '<img src=x onerror="alert(1)">'
