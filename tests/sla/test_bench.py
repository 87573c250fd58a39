"""The recomputation benchmark runs end to end (small), on the test database's kind, and a
second recomputation with nothing changed writes nothing."""

from __future__ import annotations

from threadline.bench.sla import sla_recompute_bench


def test_sla_recompute_bench_small(settings):
    url = settings.database_url if settings.database_url.startswith("postgresql") else None
    result = sla_recompute_bench(300, database_url=url)
    assert result["open_conversations"] == 300
    assert result["first_clocks"] == 300  # the first policy started every clock
    assert result["policy_changed"] > 0 and result["calendar_changed"] > 0
    assert result["nothing_changed_rows"] == 0
    assert result["sla_recompute_s"] >= 0
