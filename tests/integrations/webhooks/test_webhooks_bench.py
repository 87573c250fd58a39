"""`threadline bench webhooks` end to end, small, on a fresh SQLite file: every event is
received once, signed, and the figures the command prints are there."""

from __future__ import annotations

from threadline.bench.webhooks import webhooks_bench


def test_webhooks_bench_small() -> None:
    result = webhooks_bench(300)
    assert result["delivered"] == result["received"] == 300
    assert result["lost"] == 0 and result["duplicates"] == 0
    assert result["bad_signatures"] == 0
    assert result["deliveries_per_s"] > 0 and result["workers"] == 1
