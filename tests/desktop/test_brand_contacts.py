"""The brand contacts section of the desktop settings page (admins only): saved normalised,
audited, refused whole when one line is bad, and never saved without the session's CSRF token."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.desktop.conftest import Desk
from threadline.contacts.brand import brand_contacts
from threadline.events.models import AuditEvent
from threadline.jobs.runtime import Runtime


def stored(runtime: Runtime, workspace_id: uuid.UUID) -> list[str]:
    with runtime.db.session(write=False) as session:
        return brand_contacts(session, workspace_id)


class TestBrandContactsSettings:
    def test_admin_saves_the_list_normalised_and_audited(self, admin_desk: Desk,
                                                         runtime: Runtime,
                                                         workspace_id: uuid.UUID) -> None:
        page = admin_desk.get("/settings")
        assert page.status_code == 200 and 'id="brand-contacts"' in page.text
        assert "every email and phone number in a public reply is refused" in page.text
        r = admin_desk.post("/settings/brand-contacts", {
            "contacts": "Help@Acme.example\r\n\r\n+44 20 7946 0958\nhttps://ACME.example/help\n"
                        "help@acme.example"})
        assert r.status_code == 303 and r.headers["location"].endswith("brand-contacts-saved")
        assert stored(runtime, workspace_id) == ["help@acme.example", "+442079460958",
                                                 "https://acme.example/help"]
        page = admin_desk.get(r.headers["location"]).text
        assert "<code>+442079460958</code>" in page and "Brand contacts saved" in page
        with runtime.db.session(write=False) as session:
            [row] = session.scalars(select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "workspace.brand_contacts_set"))
        assert row.actor_id == str(admin_desk.agent.id) and len(row.data["added"]) == 3

    def test_bad_lines_forgery_and_roles_store_nothing(self, admin_desk: Desk,
                                                       agent_desk: Desk,
                                                       supervisor_desk: Desk,
                                                       runtime: Runtime,
                                                       workspace_id: uuid.UUID) -> None:
        assert admin_desk.post("/settings/brand-contacts",
                               {"contacts": "help@acme.example"}).status_code == 303
        for bad in ("help@acme.example\n<script>alert(1)</script>", "javascript:alert(1)",
                    "020 7946 0958", "https://user:pw@acme.example", "x" * 400,
                    "\n".join(f"+4420794609{i:02d}" for i in range(51)),
                    "a@b.example\n" * 2000):
            r = admin_desk.post("/settings/brand-contacts", {"contacts": bad})
            assert r.status_code == 422, bad[:40]
            assert "invalid_brand_contact" in r.text and "<script>alert" not in r.text
        forged = admin_desk.post("/settings/brand-contacts", {"contacts": "evil@x.example"},
                                 csrf=False)
        assert forged.status_code == 403
        for desk in (agent_desk, supervisor_desk):
            assert desk.post("/settings/brand-contacts",
                             {"contacts": "evil@x.example"}).status_code == 403
            assert 'id="brand-contacts"' not in desk.get("/settings").text
        assert stored(runtime, workspace_id) == ["help@acme.example"]
