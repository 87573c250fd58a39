"""The customer data lookup through the API, end to end with the brand's endpoint started by
the test (tests/integrations/lookup/receiver.py, real HTTP on 127.0.0.1): configuration
(admins only, the secret shown once and stored encrypted, bad URLs refused with nothing
stored), the lookup (signed, cached, a timeout, a 500, 404) and what a hostile endpoint or
caller tries (huge, wrong type, not JSON, redirect, another workspace's customer)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from tests.conftest import make_token
from tests.integrations.lookup.conftest import CONFIG, Known, configure, make_customer
from tests.integrations.lookup.receiver import SCRIPT, Receiver
from threadline.conversations.service import Actor
from threadline.events.models import AuditEvent
from threadline.integrations.lookup.models import LookupCacheEntry
from threadline.jobs.runtime import Runtime
from threadline.subjects.service import erase_customer
from threadline.web.app import create_app
from threadline.workspace import service as workspace_service


def data(client: TestClient, customer_id: uuid.UUID, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/customers/{customer_id}/data", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestConfiguration:
    def test_an_admin_creates_the_endpoint_and_sees_the_secret_once(
            self, client: TestClient, receiver: Receiver, runtime: Runtime,
            workspace_id: uuid.UUID) -> None:
        assert client.get(CONFIG).status_code == 404
        created = configure(client, receiver, "ok", timeout=2, cache=30)
        assert created["secret"].startswith("whsec_")
        assert created["url"] == f"{receiver.url}/ok" and created["timeout_seconds"] == 2
        shown = client.get(CONFIG).json()
        assert shown["secret"] is None and shown["cache_seconds"] == 30
        changed = configure(client, receiver, "500", timeout=3)
        assert changed["secret"] is None  # not shown again on a change
        rotated = client.post(f"{CONFIG}/secret").json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
        with runtime.db.session(write=False) as session:
            actions = list(session.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action.like("workspace.lookup_%"))))
            stored = session.execute(text(
                "SELECT secret FROM lookup_endpoints WHERE workspace_id = :w"),
                {"w": workspace_id if runtime.db.dialect != "sqlite"
                 else workspace_id.hex}).scalar_one()
        assert actions.count("workspace.lookup_endpoint_saved") == 2
        assert "workspace.lookup_secret_rotated" in actions
        # encrypted at rest (decision 0104): a Fernet token, neither secret in it
        assert stored.startswith("gAAAA")
        assert created["secret"] not in stored and rotated["secret"] not in stored
        assert created["secret"].removeprefix("whsec_") not in stored
        assert client.delete(CONFIG).status_code == 204
        assert client.get(CONFIG).status_code == 404
        assert client.delete(CONFIG).status_code == 404

    def test_agents_and_supervisors_cannot_configure(
            self, app: Any, runtime: Runtime, workspace_id: uuid.UUID,
            receiver: Receiver) -> None:
        for role in ("agent", "supervisor"):
            with TestClient(app) as other:
                other.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id, role)}"
                put = other.put(CONFIG, json={"url": f"{receiver.url}/ok"})
                assert put.status_code == 403, put.text
                assert put.json()["error"]["code"] == "insufficient_role"
                assert other.get(CONFIG).status_code == 403
                assert other.post(f"{CONFIG}/secret").status_code == 403
                assert other.delete(CONFIG).status_code == 403

    @pytest.mark.parametrize("body, field", [
        ({"url": "ftp://shop.example/lookup"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://shop.example/x", "timeout_seconds": 30}, "timeout_seconds"),
        ({"url": "https://shop.example/x", "timeout_seconds": 0}, "timeout_seconds"),
        ({"url": "https://shop.example/x", "cache_seconds": -1}, "cache_seconds"),
        ({"url": "https://shop.example/x", "cache_seconds": "60"}, "cache_seconds"),
        ({"url": "https://shop.example/x", "secret": "whsec_mine"}, "secret"),
        ({"url": "https://user:pw@shop.example/x"}, "url"),
        ({}, "url"),
    ])
    def test_bad_input_is_a_typed_422_and_nothing_is_stored(
            self, client: TestClient, body: dict[str, Any], field: str) -> None:
        response = client.put(CONFIG, json=body)
        assert response.status_code == 422, response.text
        assert field in str(response.json()["error"])
        assert client.get(CONFIG).status_code == 404


@pytest.fixture(scope="module")
def strict_app(settings: Any, runtime: Runtime) -> Iterator[Any]:
    """The same database served as in production: internal URLs not allowed."""
    strict = Runtime.create(settings.model_copy(update={"allow_custom_provider_urls": False}),
                            database_url=settings.database_url,
                            redis_url=settings.redis_url or "")
    yield create_app(strict, workers=0)
    strict.close()


class TestUrlGuard:
    @pytest.mark.parametrize("url", [
        "http://shop.example/lookup",  # not https
        "https://127.0.0.1/lookup", "https://localhost/lookup", "https://10.0.0.8/lookup",
        "https://169.254.169.254/latest/meta-data", "https://[::1]/lookup",
        "https://[::ffff:127.0.0.1]/lookup", "https://192.168.1.1:8443/lookup",
    ])
    def test_non_https_or_internal_urls_are_refused_unless_allowed(
            self, strict_app: Any, runtime: Runtime, workspace_id: uuid.UUID,
            url: str) -> None:
        with TestClient(strict_app) as strict:
            strict.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id)}"
            response = strict.put(CONFIG, json={"url": url})
            assert response.status_code == 422, response.text
            error = response.json()["error"]
            assert error["code"] == "invalid_lookup_url"
            assert error["details"] == {"field": "url"}
            assert strict.get(CONFIG).status_code == 404  # nothing stored

    def test_a_stored_internal_url_is_refused_again_before_the_call(
            self, client: TestClient, strict_app: Any, runtime: Runtime,
            workspace_id: uuid.UUID, receiver: Receiver, customer: Known) -> None:
        """Saved while internal URLs were allowed (the sandbox), then served strictly: the
        call is not made."""
        configure(client, receiver, "ok")
        with TestClient(strict_app) as strict:
            strict.headers["Authorization"] = f"Bearer {make_token(runtime, workspace_id)}"
            body = strict.get(f"/api/v1/customers/{customer.id}/data").json()
        assert body["state"] == "failed"
        assert body["error"]["code"] == "lookup_url_refused"
        assert receiver.received == []


class TestLookup:
    def test_the_orders_come_back_signed_and_cached(
            self, client: TestClient, receiver: Receiver, runtime: Runtime,
            workspace_id: uuid.UUID, customer: Known) -> None:
        configure(client, receiver, "ok", timeout=2, cache=60)
        checked_out: list[int] = []
        receiver.on_request = lambda _path: checked_out.append(
            runtime.db.engine.pool.checkedout())  # type: ignore[attr-defined]
        first = data(client, customer.id)
        assert first["state"] == "ok" and first["cached"] is False and first["error"] is None
        assert [o["number"] for o in first["data"]["orders"]] == ["#1042", "#1031"]
        assert first["data"]["orders"][0]["total"] == {"amount": "59.90", "currency": "EUR"}
        assert first["data"]["subscriptions"][0]["plan"] == "Monthly box"
        assert first["data"]["balance"] == {"amount": "-4.10", "currency": "EUR"}
        assert first["data"]["tickets"][0]["subject"] == "Return label"
        assert first["data"]["customer"]["tier"] == "gold"
        assert "unknown_section" not in first["data"] and "next_cursor" not in first["data"]
        # no database connection (no transaction) is held while the endpoint answers
        assert checked_out == [0]
        [call] = receiver.received
        assert call.signed and call.headers["content-type"] == "application/json"
        assert call.headers["webhook-id"].startswith("lkp_")
        assert call.body["type"] == "lookup.customer"
        assert call.body["data"]["lookup_id"] == call.headers["webhook-id"]
        assert call.body["data"]["workspace_id"] == str(workspace_id)
        sent = call.body["data"]["customer"]
        assert sent["id"] == str(customer.id) and sent["email"] == customer.email
        assert sent["phone"] == customer.phone and sent["external_ids"] == {"shopify": "7001"}
        # cached: the same answer without a call; refresh asks again
        second = data(client, customer.id)
        assert second["cached"] is True and second["data"] == first["data"]
        assert len(receiver.received) == 1
        assert data(client, customer.id, refresh="true")["cached"] is False
        assert len(receiver.received) == 2

    def test_a_timeout_is_reported_within_the_configured_seconds(
            self, client: TestClient, receiver: Receiver, customer: Known) -> None:
        configure(client, receiver, "slow", timeout=1)
        receiver.slow_seconds = 4
        started = time.monotonic()
        body = data(client, customer.id)
        assert time.monotonic() - started < 2.5
        assert body["state"] == "timeout" and body["data"] is None
        assert body["error"]["code"] == "lookup_timeout"
        assert "1 s" in body["error"]["message"]

    def test_a_500_is_shown_as_unavailable_and_not_asked_again_in_a_loop(
            self, client: TestClient, receiver: Receiver, customer: Known) -> None:
        configure(client, receiver, "500")
        body = data(client, customer.id)
        assert body["state"] == "failed" and body["data"] is None
        assert body["error"] == {"code": "lookup_http_error", "status": 500,
                                 "message": "the endpoint answered HTTP 500"}
        assert data(client, customer.id)["cached"] is True  # not asked again in a loop
        assert len(receiver.received) == 1

    def test_a_failure_after_a_good_answer_keeps_the_last_known_data(
            self, client: TestClient, receiver: Receiver, customer: Known) -> None:
        configure(client, receiver, "ok", cache=0)
        good = data(client, customer.id)
        assert good["state"] == "ok" and good["stale"] is False
        receiver.force_mode = "500"
        body = data(client, customer.id)
        assert body["state"] == "failed" and body["stale"] is True
        assert body["data"] == good["data"] and body["data_at"] == good["data_at"]
        assert body["error"]["code"] == "lookup_http_error"
        receiver.force_mode = "404"  # the brand no longer knows him: the old data goes
        assert data(client, customer.id)["data"] is None
        # a change of the endpoint drops the cached answers
        receiver.force_mode = None
        assert data(client, customer.id)["state"] == "ok"
        configure(client, receiver, "500", cache=0)
        assert data(client, customer.id)["data"] is None

    def test_busy_with_retry_after_is_obeyed(self, client: TestClient, receiver: Receiver,
                                             runtime: Runtime, customer: Known) -> None:
        configure(client, receiver, "busy", cache=0)  # even with no cache: Retry-After wins
        body = data(client, customer.id)
        assert body["state"] == "failed" and body["error"]["code"] == "lookup_busy"
        assert body["error"]["status"] == 503
        with runtime.db.session(write=False) as session:
            entry = session.scalar(select(LookupCacheEntry).where(
                LookupCacheEntry.customer_id == customer.id))
            assert entry is not None
            assert 110 <= (entry.expires_at - entry.checked_at).total_seconds() <= 120
        assert data(client, customer.id)["cached"] is True
        assert len(receiver.received) == 1

    def test_unknown_customer_is_no_record(self, client: TestClient, receiver: Receiver,
                                           customer: Known) -> None:
        configure(client, receiver, "404")
        body = data(client, customer.id)
        assert body["state"] == "not_found" and body["error"] is None and body["data"] is None

    def test_off_when_not_configured_or_disabled(
            self, client: TestClient, receiver: Receiver, customer: Known) -> None:
        assert data(client, customer.id) == {
            "state": "off", "data": None, "data_at": None, "stale": False, "error": None,
            "checked_at": None, "cached": False}
        configure(client, receiver, "ok", enabled=False)
        assert data(client, customer.id)["state"] == "off"
        assert receiver.received == []

    def test_a_wrong_signature_is_refused_by_the_endpoint(
            self, client: TestClient, receiver: Receiver, customer: Known) -> None:
        configure(client, receiver, "ok")
        client.post(f"{CONFIG}/secret")  # rotated: the brand still has the old secret
        body = data(client, customer.id)
        assert body["state"] == "failed"
        assert body["error"]["code"] == "lookup_unauthorized"
        assert receiver.received[0].signed is False


class TestHostileEndpoint:
    @pytest.mark.parametrize("mode, code", [
        ("huge", "lookup_too_large"), ("drip", "lookup_too_large"),
        ("html", "lookup_content_type"), ("badjson", "lookup_invalid_json"),
        ("redirect", "lookup_redirect"),
    ])
    def test_refused_with_a_clear_message(self, client: TestClient, receiver: Receiver,
                                          customer: Known, mode: str, code: str) -> None:
        configure(client, receiver, mode, timeout=3)
        body = data(client, customer.id)
        assert body["state"] == "failed", body
        assert body["error"]["code"] == code and body["data"] is None
        assert body["error"]["message"]
        if code == "lookup_too_large":
            assert "256 KiB" in body["error"]["message"]
        assert "/internal" not in receiver.paths()  # a redirect is never followed

    def test_hostile_strings_are_kept_as_text_and_bad_links_dropped(
            self, client: TestClient, receiver: Receiver, customer: Known) -> None:
        configure(client, receiver, "hostile")
        body = data(client, customer.id)
        assert body["state"] == "ok"
        account = body["data"]["customer"]
        assert account["url"] is None and SCRIPT in account["name"]
        [order] = body["data"]["orders"]
        assert order["tracking_url"] is None and order["id"] == "5"
        assert "surprise" not in order
        assert len(body["data"]["tickets"][0]["subject"]) == 200


class TestIsolation:
    def test_another_workspaces_customer_is_a_404_and_no_call(
            self, client: TestClient, receiver: Receiver, runtime: Runtime) -> None:
        configure(client, receiver, "ok")
        with runtime.db.session() as session:
            other_ws = workspace_service.create_workspace(
                session, "Other", f"o-{uuid.uuid4().hex[:12]}").id
        stranger = make_customer(runtime, other_ws)
        response = client.get(f"/api/v1/customers/{stranger.id}/data")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert stranger.email not in response.text
        assert client.get(f"/api/v1/customers/{uuid.uuid4()}/data").status_code == 404
        assert receiver.received == []

    def test_no_token_is_a_401(self, app: Any, customer: Known) -> None:
        with TestClient(app) as anonymous:
            response = anonymous.get(f"/api/v1/customers/{customer.id}/data")
        assert response.status_code == 401


class TestErasure:
    def test_erasing_the_customer_drops_what_the_brand_said_about_him(
            self, client: TestClient, receiver: Receiver, runtime: Runtime,
            workspace_id: uuid.UUID, customer: Known) -> None:
        configure(client, receiver, "ok")
        assert data(client, customer.id)["state"] == "ok"
        with runtime.db.session() as session:
            report = erase_customer(session, workspace_id, customer.id, Actor("token", "t"))
        assert report.counts["lookup_cache"] == 1
        with runtime.db.session(write=False) as session:
            assert session.scalar(select(LookupCacheEntry).where(
                LookupCacheEntry.customer_id == customer.id)) is None
