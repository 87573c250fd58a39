"""Health, readiness and metrics endpoints."""

from __future__ import annotations


def test_health_ready_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] and ready.json()["bus"]
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "# TYPE threadline_inbound_items gauge" in metrics.text
