"""The CRM settings page and the customer panel's CRM card in the desktop: admins connect a
CRM through the form (a bad mapping or URL re-renders naming the field and stores nothing;
CSRF and the admin role are required), start a backfill whose progress reads done / total,
and agents see the pulled fields and the sync log on the customer's card."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from tests.desktop.conftest import desk_for
from tests.integrations.crm.conftest import HUBSPOT_TOKEN, hubspot_connection, tag
from tests.integrations.crm.test_hubspot_sync import Api, conversation
from threadline.integrations.crm.models import CrmConnection
from threadline.workspace.service import create_workspace


def _count(runtime, workspace_id) -> int:
    with runtime.db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(CrmConnection).where(
            CrmConnection.workspace_id == workspace_id)) or 0)


FORM = {"kind": "hubspot", "name": "HubSpot", "token": HUBSPOT_TOKEN,
        "contact_fields": "email, firstname", "account_fields": "name"}


def test_admins_connect_through_the_form_and_bad_input_stores_nothing(app, runtime,
                                                                     workspace_id, crm):
    admin = desk_for(app, runtime, workspace_id, "admin")
    agent = desk_for(app, runtime, workspace_id, "agent")
    assert agent.get("/settings/crm").status_code == 403
    assert agent.post("/settings/crm", {**FORM, "base_url": crm.hubspot_url}).status_code == 403
    form = {**FORM, "base_url": crm.hubspot_url}
    assert admin.post("/settings/crm", form, csrf=False).status_code == 403
    bad = admin.post("/settings/crm", {**form, "contact_fields": "email, shoe_size"})
    assert bad.status_code == 422
    assert "crm_unknown_field" in bad.text and "contact_fields[1]" in bad.text
    assert 'value="email, shoe_size"' in bad.text  # what was typed comes back
    bad = admin.post("/settings/crm", {**form, "base_url": "ftp://internal"})
    assert bad.status_code == 422 and "crm_url_refused" in bad.text
    bad = admin.post("/settings/crm", {**form, "token": ""})
    assert bad.status_code == 422 and "credentials" in bad.text
    assert _count(runtime, workspace_id) == 0

    assert admin.post("/settings/crm", form).status_code == 303
    page = admin.get("/settings/crm").text
    assert 'id="crm-hubspot"' in page and HUBSPOT_TOKEN not in page
    assert _count(runtime, workspace_id) == 1


def test_backfill_pushes_existing_conversations_with_progress(app, runtime, workspace_id,
                                                              client, worker, crm):
    t = tag()
    emails = [f"bf{i}-{t}@example.com" for i in range(3)]
    contacts = [crm.hs_contact(email=e) for e in emails]
    for e in emails:  # before any CRM is connected: nothing is pushed
        conversation(runtime, workspace_id, client, worker, e, f"old case {e}")
    conn = hubspot_connection(Api(client), crm)
    admin = desk_for(app, runtime, workspace_id, "admin")
    assert "No backfill yet" in admin.get("/settings/crm").text
    assert admin.post(f"/settings/crm/{conn['id']}/backfill").status_code == 303
    progress = admin.get(f"/settings/crm/{conn['id']}/progress").text
    assert "0 / 3" in progress and 'hx-trigger="every 2s"' in progress
    worker.drain()
    progress = admin.get(f"/settings/crm/{conn['id']}/progress").text
    assert "3 / 3" in progress and "done" in progress and "every 2s" not in progress
    assert [len(crm.hs_notes(c)) for c in contacts] == [1, 1, 1]
    # A second backfill pushes the same conversations again: updated, never duplicated.
    assert admin.post(f"/settings/crm/{conn['id']}/backfill").status_code == 303
    worker.drain()
    assert [len(crm.hs_notes(c)) for c in contacts] == [1, 1, 1]
    assert Api(client).get(f"/crm/connections/{conn['id']}/backfill").json()["done"] == 3


def test_the_customer_card_shows_fields_and_log_to_agents_only_here(app, runtime,
                                                                   workspace_id, client,
                                                                   worker, crm):
    t = tag()
    email = f"card-{t}@example.com"
    contact = crm.hs_contact(email=email, firstname="Cara")
    hubspot_connection(Api(client), crm)
    conv = conversation(runtime, workspace_id, client, worker, email, f"card {t}")
    customer = conv["customer"]["id"]
    agent = desk_for(app, runtime, workspace_id, "agent")
    page = agent.get(f"/customers/{customer}").text
    assert f'hx-get="/customers/{customer}/crm-panel"' in page
    card = agent.get(f"/customers/{customer}/crm-panel").text
    assert f'data-contact="{contact}"' in card and ">Cara<" in card
    assert 'data-outcome="ok"' in card
    conv_page = agent.get(f"/conversations/{conv['id']}").text
    assert f'hx-get="/customers/{customer}/crm-panel"' in conv_page
    assert agent.post(f"/customers/{customer}/crm-panel/refresh", csrf=False).status_code == 403
    refreshed = agent.post(f"/customers/{customer}/crm-panel/refresh", htmx=True)
    assert refreshed.status_code == 200 and "Refresh queued" in refreshed.text
    with runtime.db.session() as s:
        other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:10]}").id
    stranger = desk_for(app, runtime, other, "admin")
    assert stranger.get(f"/customers/{customer}/crm-panel").status_code == 404
    assert stranger.post(f"/customers/{customer}/crm-panel/refresh").status_code == 404


def test_admins_edit_and_remove_a_connection(app, runtime, workspace_id, client, crm):
    conn = hubspot_connection(Api(client), crm)
    admin = desk_for(app, runtime, workspace_id, "admin")
    url = f"/settings/crm/{conn['id']}"
    bad = admin.post(url, {"contact_fields": "email, nope", "account_fields": "",
                           "enabled": "on"})
    assert bad.status_code == 422 and "contact_fields[1]" in bad.text
    saved = admin.post(url, {"contact_fields": "email, lastname", "account_fields": "domain",
                             "create_contacts": "on"})
    assert saved.status_code == 303
    now = Api(client).get(f"/crm/connections/{conn['id']}").json()
    assert now["contact_fields"] == ["email", "lastname"] and now["account_fields"] == ["domain"]
    assert now["create_contacts"] is True and now["enabled"] is False
    with runtime.db.session() as s:
        other = create_workspace(s, "Other", f"o-{uuid.uuid4().hex[:10]}").id
    stranger = desk_for(app, runtime, other, "admin")
    assert stranger.post(url, {"contact_fields": "email"}).status_code == 404
    assert stranger.post(url + "/delete").status_code == 404
    assert admin.post(url + "/delete", csrf=False).status_code == 403
    assert admin.post(url + "/delete").status_code == 303
    assert _count(runtime, workspace_id) == 0
