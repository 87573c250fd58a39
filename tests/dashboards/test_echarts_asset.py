"""ECharts comes from the npm registry at the locked version, vendored into the package with
its licence and notice (scripts/build_assets.py), and is served from there."""

from __future__ import annotations

import json
from pathlib import Path

from threadline.web.desktop import VENDOR

ROOT = Path(__file__).resolve().parents[2]


def test_echarts_is_served_at_the_locked_version(client):
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    locked = lock["packages"]["node_modules/echarts"]["version"]
    assert (VENDOR / "echarts" / "VERSION").read_text(encoding="utf-8").strip() == locked
    assert "Apache License" in (VENDOR / "echarts" / "LICENSE").read_text(encoding="utf-8")
    assert (VENDOR / "echarts" / "NOTICE").is_file()
    answer = client.get("/static/vendor/echarts/echarts.min.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "sankey" in answer.text  # the full build: the journeys' diagram is in it
