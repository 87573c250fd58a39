"""`threadline bench kpis` end to end, small, on the test database's kind: the load holds
exactly the messages asked for, every dashboard and the export are measured, and the export
has one row per conversation."""

from __future__ import annotations

from threadline.bench.kpis import kpis_bench


def test_kpis_bench_small(runtime, settings):
    url = settings.database_url if settings.database_url.startswith("postgresql") else None
    result = kpis_bench(400, 4000, repeats=1, runtime=runtime)  # the test database's keys
    assert result["messages"] == 4000 and result["conversations"] == 400
    assert set(result["p95_ms"]) == {"quantity", "quality", "feedback", "outcome",
                                     "economics", "journeys", "drilldown"}
    assert result["dashboard_p95_ms"] == max(result["p95_ms"].values()) > 0
    assert result["export_rows"] == 400 and result["export_s"] >= 0
    assert result["export_peak_rss_mb"] >= 0
    assert result["database"] == ("postgresql" if url else "sqlite")
