"""REST for outbound webhooks: create (the secret shown once), list, change, rotate, delete;
bad input is a typed 422 naming the field and stores nothing (a non-https or internal URL
unless allowed, an unknown event type, hostile text); admins only; another workspace's ids
are 404s."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import make_token
from tests.integrations.webhooks.conftest import fast_runtime
from threadline.integrations.webhooks.delivery import Event, record
from threadline.integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from threadline.jobs.runtime import Runtime
from threadline.web.app import create_app

GOOD = {"url": "https://hooks.example.com/threadline", "event_types": ["message.created"]}
LOCAL = {"url": "http://127.0.0.1:9/hooks", "event_types": ["customer.created"]}


def count(runtime: Runtime, workspace_id: uuid.UUID) -> int:
    with runtime.db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(WebhookSubscription).where(
            WebhookSubscription.workspace_id == workspace_id)) or 0)


@pytest.fixture(scope="module")
def strict_app(runtime: Runtime) -> Iterator[Any]:
    """The app as deployed: internal destinations refused (no custom provider URLs)."""
    rt = fast_runtime(runtime, allow_custom_provider_urls=False)
    yield create_app(rt, workers=0)
    rt.http.close()


@pytest.fixture
def strict(strict_app: Any, token: str) -> Iterator[TestClient]:
    with TestClient(strict_app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """hooks.example.com resolves to a public address (no network in tests)."""
    from threadline.channels import urls

    real = urls.resolve_addresses
    monkeypatch.setattr(urls, "resolve_addresses", lambda host: (
        ["93.184.216.34"] if host == "hooks.example.com" else real(host)))


class TestCreate:
    def test_created_with_its_secret_shown_once(self, strict: TestClient,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
        public_dns(monkeypatch)
        answer = strict.post("/api/v1/webhooks", json={**GOOD, "description": "CRM"})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["secret"].startswith("whsec_") and body["status"] == "active"
        assert body["event_types"] == ["message.created"]
        listed = strict.get("/api/v1/webhooks").json()["subscriptions"]
        assert [s["id"] for s in listed] == [body["id"]]
        assert "secret" not in listed[0]
        one = strict.get(f"/api/v1/webhooks/{body['id']}").json()
        assert "secret" not in one and one["description"] == "CRM"

    @pytest.mark.parametrize("url", [
        "http://hooks.example.com/x",  # not https
        "https://127.0.0.1/x", "https://localhost/x", "https://10.0.0.5/x",
        "https://169.254.169.254/latest/meta-data", "https://[::1]/x",
        "https://user:pw@hooks.example.com/x", "ftp://hooks.example.com/x",
        "https://hooks.example.com/x#frag", "javascript:alert(1)", "not a url",
        "https://hooks.example.com/" + "a" * 2100,
    ])
    def test_bad_urls_are_422_naming_url_and_store_nothing(
            self, strict: TestClient, runtime: Runtime, workspace_id: uuid.UUID, url: str,
            monkeypatch: pytest.MonkeyPatch) -> None:
        public_dns(monkeypatch)
        answer = strict.post("/api/v1/webhooks", json={**GOOD, "url": url})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] in ("url_refused", "validation_failed")
        assert "url" in str(error.get("details")) or error["message"].startswith("url")
        assert count(runtime, workspace_id) == 0

    def test_an_internal_name_is_refused(self, strict: TestClient, runtime: Runtime,
                                         workspace_id: uuid.UUID,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
        from threadline.channels import urls

        monkeypatch.setattr(urls, "resolve_addresses", lambda host: ["192.168.1.20"])
        answer = strict.post("/api/v1/webhooks", json={**GOOD,
                                                       "url": "https://intranet.corp/x"})
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "url_refused"
        assert answer.json()["error"]["details"] == {"field": "url"}
        assert count(runtime, workspace_id) == 0

    @pytest.mark.parametrize("body", [
        {**GOOD, "event_types": ["message.deleted"]},
        {**GOOD, "event_types": []},
        {**GOOD, "event_types": "message.created"},
        {**GOOD, "event_types": ["message.created", "<script>"]},
        {"url": GOOD["url"]},
        {**GOOD, "description": "<img src=x onerror=alert(1)>"},
        {**GOOD, "description": "x" * 201},
        {**GOOD, "secret": "whsec_chosen"},
    ])
    def test_bad_fields_are_422(self, strict: TestClient, runtime: Runtime,
                                workspace_id: uuid.UUID, body: dict[str, Any],
                                monkeypatch: pytest.MonkeyPatch) -> None:
        public_dns(monkeypatch)
        answer = strict.post("/api/v1/webhooks", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_failed"
        assert count(runtime, workspace_id) == 0

    def test_unknown_event_type_names_the_field(self, strict: TestClient) -> None:
        answer = strict.post("/api/v1/webhooks",
                             json={**GOOD, "event_types": ["conversation.exploded"]})
        assert answer.status_code == 422
        locs = [e["loc"] for e in answer.json()["error"]["details"]["errors"]]
        assert any("event_types" in loc for loc in locs)

    def test_loopback_allowed_when_the_operator_allows_it(self, client: TestClient) -> None:
        answer = client.post("/api/v1/webhooks", json={**GOOD,
                                                       "url": "http://127.0.0.1:9/hooks"})
        assert answer.status_code == 201


class TestChange:
    def test_update_rotate_disable_enable_delete(self, client: TestClient) -> None:
        created = client.post("/api/v1/webhooks", json={**GOOD, "url": "http://127.0.0.1:9/a"})
        sub = created.json()
        path = f"/api/v1/webhooks/{sub['id']}"
        changed = client.patch(path, json={"event_types": ["csat.recorded", "hop.taken"]})
        assert changed.status_code == 200 and "secret" not in changed.json()
        assert changed.json()["event_types"] == ["csat.recorded", "hop.taken"]
        rotated = client.patch(path, json={"rotate_secret": True}).json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != sub["secret"]
        assert client.patch(path, json={"enabled": False}).json()["status"] == "disabled"
        assert client.patch(path, json={"enabled": True}).json()["status"] == "active"
        assert client.patch(path, json={"url": "ftp://x"}).status_code == 422
        assert client.get(path).json()["url"] == "http://127.0.0.1:9/a"
        assert client.delete(path).status_code == 204
        assert client.get(path).status_code == 404


class TestAccess:
    def test_agents_and_supervisors_are_refused(self, app: Any, runtime: Runtime,
                                                workspace_id: uuid.UUID) -> None:
        for role in ("agent", "supervisor"):
            with TestClient(app) as c:
                c.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, role)}"
                assert c.get("/api/v1/webhooks").status_code == 403
                assert c.post("/api/v1/webhooks", json=GOOD).status_code == 403
                assert c.get("/api/v1/webhooks/deliveries").status_code == 403

    def test_no_token_is_401(self, app: Any) -> None:
        with TestClient(app) as c:
            assert c.get("/api/v1/webhooks").status_code == 401

    def test_another_workspace_s_ids_are_404(self, client: TestClient, app: Any,
                                             runtime: Runtime) -> None:
        sub = client.post("/api/v1/webhooks",
                          json={**LOCAL, "url": "http://127.0.0.1:9/a"}).json()
        with runtime.db.session() as session:
            record(session, _workspace_of(runtime, sub["id"]),
                   [Event("customer.created", {"customer_id": "c"})])
        [delivery] = client.get("/api/v1/webhooks/deliveries").json()["deliveries"]
        from threadline.workspace import service as workspace_service

        with runtime.db.session() as session:
            other = workspace_service.create_workspace(session, "Other",
                                                       f"o-{uuid.uuid4().hex[:10]}").id
        with TestClient(app) as c:
            c.headers["Authorization"] = f"Bearer {make_token(runtime, other)}"
            for method, path in [("get", f"/api/v1/webhooks/{sub['id']}"),
                                 ("patch", f"/api/v1/webhooks/{sub['id']}"),
                                 ("delete", f"/api/v1/webhooks/{sub['id']}"),
                                 ("get", f"/api/v1/webhooks/deliveries/{delivery['id']}"),
                                 ("post",
                                  f"/api/v1/webhooks/deliveries/{delivery['id']}/redeliver")]:
                kwargs: dict[str, Any] = {"json": {}} if method == "patch" else {}
                answer = getattr(c, method)(path, **kwargs)
                assert answer.status_code == 404, (path, answer.text)
                assert sub["url"] not in answer.text
            assert c.get("/api/v1/webhooks/deliveries").json()["deliveries"] == []
            assert c.get("/api/v1/webhooks/deliveries",
                         params={"subscription_id": sub["id"]}).status_code == 404
        assert client.get(f"/api/v1/webhooks/{sub['id']}").status_code == 200

    def test_redelivery_of_a_disabled_subscription_is_422(self, client: TestClient,
                                                           runtime: Runtime) -> None:
        sub = client.post("/api/v1/webhooks",
                          json={**LOCAL, "url": "http://127.0.0.1:9/a"}).json()
        with runtime.db.session() as session:
            record(session, _workspace_of(runtime, sub["id"]),
                   [Event("customer.created", {"customer_id": "c"})])
        client.patch(f"/api/v1/webhooks/{sub['id']}", json={"enabled": False})
        [delivery] = client.get("/api/v1/webhooks/deliveries").json()["deliveries"]
        assert delivery["status"] == "failed"
        answer = client.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/redeliver")
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "webhook_disabled"
        assert client.get("/api/v1/webhooks/deliveries/99999999").status_code == 404
        assert client.get("/api/v1/webhooks/deliveries/0").status_code == 422


def _workspace_of(runtime: Runtime, sub_id: str) -> uuid.UUID:
    with runtime.db.session(write=False) as session:
        row = session.get(WebhookSubscription, uuid.UUID(sub_id))
        assert row is not None
        return row.workspace_id


def test_log_pages(client: TestClient, runtime: Runtime) -> None:
    sub = client.post("/api/v1/webhooks", json={**GOOD, "url": "http://127.0.0.1:9/a",
                                                "event_types": ["customer.created"]}).json()
    with runtime.db.session() as session:
        record(session, _workspace_of(runtime, sub["id"]),
               [Event("customer.created", {"customer_id": str(i)}) for i in range(5)])
    page = client.get("/api/v1/webhooks/deliveries", params={"limit": 2}).json()
    assert len(page["deliveries"]) == 2 and page["next_before"]
    rest = client.get("/api/v1/webhooks/deliveries",
                      params={"limit": 10, "before": page["next_before"]}).json()
    assert len(rest["deliveries"]) == 3 and rest["next_before"] is None
    with runtime.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.subscription_id == uuid.UUID(sub["id"]))) == 5
