"""The customer data panel and its settings page on the desktop: the panel is loaded lazily
(htmx) on the customer page and beside a conversation, renders the brand's answer escaped,
shows errors as such; the settings page is for admins, checks CSRF, names a bad field with
a 422 and stores nothing, and shows the secret once."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.desktop.conftest import Desk, desk_for
from tests.factories import only_api_conversation
from tests.integrations.lookup.conftest import CONFIG, Known, configure, make_customer
from tests.integrations.lookup.receiver import Receiver
from threadline.jobs.runtime import Runtime
from threadline.workspace import service as workspace_service

PAGE = "/settings/customer-data"


def panel(desk: Desk, customer_id: uuid.UUID, query: str = "") -> Any:
    return desk.get(f"/customers/{customer_id}/data{query}", headers={"HX-Request": "true"})


class TestPanel:
    def test_the_customer_page_loads_the_panel_lazily(
            self, agent_desk: Desk, customer: Known, client: TestClient,
            receiver: Receiver) -> None:
        configure(client, receiver, "ok")
        page = agent_desk.get(f"/customers/{customer.id}")
        assert page.status_code == 200
        assert f'hx-get="/customers/{customer.id}/data"' in page.text
        assert 'hx-trigger="load"' in page.text
        assert receiver.received == []  # the page itself never waits on the endpoint

    def test_the_conversation_view_loads_it_for_its_customer(
            self, agent_desk: Desk, runtime: Runtime, workspace_id: uuid.UUID,
            client: TestClient, worker: Any) -> None:
        conv = only_api_conversation(runtime, workspace_id, client, worker)
        html = agent_desk.get(f"/conversations/{conv['id']}",
                              headers={"HX-Request": "true", "HX-Target": "conv-pane"}).text
        assert (f'hx-get="/customers/{conv["customer_id"]}/data?conversation_id={conv["id"]}"'
                in html)

    def test_orders_subscriptions_balance_and_tickets(
            self, agent_desk: Desk, customer: Known, client: TestClient,
            receiver: Receiver) -> None:
        configure(client, receiver, "ok")
        html = panel(agent_desk, customer.id).text
        assert 'data-state="ok"' in html
        assert "#1042" in html and "#1031" in html and "59.90 EUR" in html
        assert "2× T-shirt M" in html and "Monthly box" in html and "-4.10 EUR" in html
        assert "Return label" in html and "gold" in html
        assert 'href="https://carrier.example/track/XYZ"' in html
        assert 'rel="noopener noreferrer nofollow"' in html

    def test_hostile_values_are_escaped_and_bad_links_dropped(
            self, agent_desk: Desk, customer: Known, client: TestClient,
            receiver: Receiver) -> None:
        configure(client, receiver, "hostile")
        html = panel(agent_desk, customer.id).text
        assert "<script>" not in html and "&lt;script&gt;" in html
        assert "<img" not in html and "<b>bold</b>" not in html
        assert "javascript:" not in html

    def test_errors_are_shown_as_such(self, agent_desk: Desk, customer: Known,
                                      client: TestClient, receiver: Receiver) -> None:
        configure(client, receiver, "500")
        html = panel(agent_desk, customer.id).text
        assert 'data-state="failed"' in html and 'data-code="lookup_http_error"' in html
        assert "Lookup unavailable: the endpoint answered HTTP 500" in html
        configure(client, receiver, "slow", timeout=1)
        receiver.slow_seconds = 3
        html = panel(agent_desk, customer.id).text
        assert 'data-state="timeout"' in html and "Lookup timed out" in html
        configure(client, receiver, "404")
        assert "No record for this customer" in panel(agent_desk, customer.id).text

    def test_the_last_known_data_beside_a_failure(
            self, agent_desk: Desk, customer: Known, client: TestClient,
            receiver: Receiver) -> None:
        configure(client, receiver, "ok", cache=0)
        assert 'data-state="ok"' in panel(agent_desk, customer.id).text
        receiver.force_mode = "500"
        html = panel(agent_desk, customer.id).text
        assert 'data-state="failed"' in html and 'data-role="lookup-stale"' in html
        assert "Last known data" in html and "#1042" in html

    def test_nothing_when_off(self, agent_desk: Desk, customer: Known) -> None:
        response = panel(agent_desk, customer.id)
        assert response.status_code == 200 and response.text.strip() == ""

    def test_another_workspaces_customer_is_a_404(
            self, agent_desk: Desk, runtime: Runtime, client: TestClient,
            receiver: Receiver) -> None:
        configure(client, receiver, "ok")
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(
                session, "Other", f"o-{uuid.uuid4().hex[:12]}").id
        stranger = make_customer(runtime, other)
        assert panel(agent_desk, stranger.id).status_code == 404
        assert receiver.received == []

    def test_a_foreign_conversation_id_is_not_sent(
            self, agent_desk: Desk, customer: Known, client: TestClient,
            receiver: Receiver) -> None:
        configure(client, receiver, "ok")
        assert panel(agent_desk, customer.id, f"?conversation_id={uuid.uuid4()}"
                     ).status_code == 200
        assert receiver.received[0].body["data"]["conversation_id"] is None

    def test_no_session_no_panel(self, app: Any, customer: Known) -> None:
        with TestClient(app) as anonymous:
            response = anonymous.get(f"/customers/{customer.id}/data",
                                     follow_redirects=False)
        assert response.status_code in (303, 401)


class TestSettingsPage:
    def test_admin_creates_the_endpoint_and_sees_the_secret_once(
            self, admin_desk: Desk, client: TestClient, receiver: Receiver) -> None:
        assert 'href="/settings/customer-data"' in admin_desk.get("/settings").text
        assert admin_desk.get(PAGE).status_code == 200
        created = admin_desk.post(PAGE, {"url": f"{receiver.url}/ok", "enabled": "on",
                                         "timeout_seconds": "2", "cache_seconds": "30"})
        assert created.status_code == 200, created.text
        secret = re.search(r'data-role="secret">(whsec_[^<]+)<', created.text)
        assert secret
        stored = client.get(CONFIG).json()
        assert stored["url"] == f"{receiver.url}/ok" and stored["timeout_seconds"] == 2
        again = admin_desk.get(PAGE).text
        assert secret.group(1) not in again and 'data-role="secret"' not in again
        changed = admin_desk.post(PAGE, {"url": f"{receiver.url}/500", "enabled": "on",
                                         "timeout_seconds": "3", "cache_seconds": "60"})
        assert changed.status_code == 303  # no secret to show on a change
        rotated = admin_desk.post(f"{PAGE}/secret")
        new = re.search(r'data-role="secret">(whsec_[^<]+)<', rotated.text)
        assert new and new.group(1) != secret.group(1)
        assert admin_desk.post(f"{PAGE}/delete").status_code == 303
        assert client.get(CONFIG).status_code == 404

    def test_a_bad_field_is_a_422_naming_it_and_nothing_is_stored(
            self, admin_desk: Desk, client: TestClient) -> None:
        for form, field in (({"url": "ftp://x.example/", "timeout_seconds": "3",
                              "cache_seconds": "60"}, "url"),
                            ({"url": "https://x.example/", "timeout_seconds": "9",
                              "cache_seconds": "60"}, "timeout_seconds"),
                            ({"url": "https://x.example/", "timeout_seconds": "3",
                              "cache_seconds": "soon"}, "cache_seconds")):
            response = admin_desk.post(PAGE, form)
            assert response.status_code == 422, response.text
            assert f"field <code>{field}</code>" in response.text
            assert 'data-role="secret"' not in response.text
        assert client.get(CONFIG).status_code == 404

    def test_forgery_without_csrf_is_refused(self, admin_desk: Desk,
                                             client: TestClient) -> None:
        for url in (PAGE, f"{PAGE}/secret", f"{PAGE}/delete"):
            response = admin_desk.post(url, {"url": "https://shop.example/x",
                                             "timeout_seconds": "3", "cache_seconds": "60"},
                                       csrf=False)
            assert response.status_code == 403
        assert client.get(CONFIG).status_code == 404

    def test_agents_and_supervisors_cannot(self, agent_desk: Desk, supervisor_desk: Desk,
                                           client: TestClient) -> None:
        for desk in (agent_desk, supervisor_desk):
            assert desk.get(PAGE).status_code == 403
            assert desk.post(PAGE, {"url": "https://shop.example/x", "timeout_seconds": "3",
                                    "cache_seconds": "60"}).status_code == 403
            assert desk.post(f"{PAGE}/secret").status_code == 403
        assert client.get(CONFIG).status_code == 404

    def test_another_admin_sees_only_his_workspace(
            self, app: Any, runtime: Runtime, client: TestClient, receiver: Receiver) -> None:
        configure(client, receiver, "ok")
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(
                session, "Other", f"o-{uuid.uuid4().hex[:12]}").id
        stranger = desk_for(app, runtime, other, "admin")
        page = stranger.get(PAGE).text
        assert receiver.url not in page
