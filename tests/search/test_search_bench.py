"""`threadline bench search` end to end, small, on a fresh SQLite file: the messages asked
for are built and findable, two-word queries find what the corpus holds, and a new message
posted while a worker runs is found (its lag measured, never a timeout)."""

from __future__ import annotations

from tests.conftest import shared_data
from threadline.bench.search import run


def test_search_bench_small() -> None:
    data = shared_data("twcs")
    result = run(data.parent, ["--messages", "3000", "--customers", "300", "--queries", "25",
                               "--lag-samples", "3"])
    assert result["database"] == "sqlite"
    assert result["messages"] == 3000 and result["customers"] == 300
    assert result["queries"] == 25 and result["queries_with_hits"] > 0
    assert 0 < result["query_p50_ms"] <= result["query_p95_ms"] <= result["query_max_ms"]
    assert result["index_lag_samples"] == 3
    assert 0 < result["index_lag_p50_ms"] <= result["index_lag_ms"] < 30_000  # found, no timeout
