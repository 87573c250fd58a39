"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from fastapi.testclient import TestClient

from threadline.web.app import create_app


def test_health_ready_and_metrics(client, live_server):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] and ready.json()["bus"]
    metrics = httpx.get(f"{live_server.url}/metrics")  # from this host: no token needed
    assert metrics.status_code == 200
    assert "# TYPE threadline_inbound_items gauge" in metrics.text


class TestMetricsAccess:
    def test_without_a_token_only_this_host_is_answered(self, app):
        for address, status in (("127.0.0.1", 200), ("::1", 200), ("203.0.113.9", 403),
                                ("testclient", 403)):
            with TestClient(app, client=(address, 40000)) as remote:
                answer = remote.get("/metrics")
            assert answer.status_code == status, address
            if status == 403:
                assert answer.json()["error"]["code"] == "metrics_loopback_only"
                assert "threadline_" not in answer.text

    @pytest.fixture
    def guarded(self, runtime):
        token = "metrics-token-0123456789"
        settings = runtime.settings.model_copy(update={"metrics_token": token})
        app = create_app(dataclasses.replace(runtime, settings=settings), workers=0)
        with TestClient(app, client=("127.0.0.1", 40000)) as local:
            yield local, token

    def test_with_a_token_every_client_needs_it(self, guarded):
        local, token = guarded
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": token},
                        {"authorization": f"Basic {token}"},
                        {"authorization": f"Bearer {token}x"}):
            answer = local.get("/metrics", headers=headers)
            assert answer.status_code == 401, headers
            assert answer.json()["error"]["code"] == "metrics_token_required"
            assert answer.headers["www-authenticate"].startswith("Bearer")
        answer = local.get("/metrics", headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert "# TYPE threadline_outbox_items gauge" in answer.text
