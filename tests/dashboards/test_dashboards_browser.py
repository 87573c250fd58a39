"""Chromium: a supervisor opens the dashboards, changes the date range, clicks a bar of a
chart and lands on the conversations behind it, then opens one; the charts draw under the
desktop's CSP (no violation reported)."""

from __future__ import annotations

import re

from tests.desktop.browser import browser_login, chromium  # noqa: F401
from tests.desktop.conftest import make_agent


def _click_bar(page, chart_id: str, category: int, series: int = 0) -> None:
    """A real mouse click on the middle of one bar (its position from ECharts itself)."""
    point = page.evaluate("""([id, category, series]) => {
        const el = document.getElementById(id);
        const chart = echarts.getInstanceByDom(el);
        const bar = chart.getModel().getSeriesByIndex(series).getData()
            .getItemLayout(category);
        const box = el.getBoundingClientRect();
        return {x: box.left + bar.x + bar.width / 2, y: box.top + bar.y + bar.height / 2};
    }""", [chart_id, category, series])
    page.mouse.click(point["x"], point["y"])


def test_change_the_range_and_drill_down_from_a_bar(runtime, shop, live_server,
                                                    chromium):  # noqa: F811
    boss = make_agent(runtime, shop.workspace_id, "supervisor", "Sam Supervisor")
    page = browser_login(chromium, live_server.url, boss.email, boss.password)
    try:
        _journey(page, shop)
    finally:  # the desktop's live streams end with the context: the server stops cleanly
        page.context.close()


def _journey(page, shop) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and
            "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.click("#dashboards-link")
    page.wait_for_url("**/dashboards/quantity")
    page.wait_for_selector("body[data-charts-ready]")
    assert page.inner_text("[data-metric=conversations] .stat-n") == "0"  # today's month

    page.fill("#filter-from", "2026-02-01")
    page.fill("#filter-to", "2026-02-10")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*from=2026-02-01.*to=2026-02-10.*"))
    page.wait_for_selector("#chart-by_channel[data-ready='1']")
    assert page.inner_text("[data-metric=conversations] .stat-n") == "4"
    labels = page.evaluate("echarts.getInstanceByDom(document.getElementById("
                           "'chart-by_channel')).getOption().xAxis[0].data")
    assert labels[0] == "X"  # the biggest first: A and B

    _click_bar(page, "chart-by_channel", 0)
    page.wait_for_url(re.compile(r".*/dashboards/conversations\?.*channel=x.*"))
    rows = page.eval_on_selector_all("#drill-rows [data-conversation]",
                                     "els => els.map(e => e.dataset.conversation)")
    assert set(rows) == {str(shop.ids["A"]), str(shop.ids["B"])}
    assert "from=2026-02-01" in page.url  # the range went along

    page.go_back()
    page.click("#tab-outcome")
    page.wait_for_selector("#chart-resolved_per_day[data-ready='1']")
    _click_bar(page, "chart-resolved_per_day", 1)  # 2 February: A resolved
    page.wait_for_url(re.compile(r".*from=2026-02-02&to=2026-02-02.*flag=resolved.*"))
    rows = page.eval_on_selector_all("#drill-rows [data-conversation]",
                                     "els => els.map(e => e.dataset.conversation)")
    assert rows == [str(shop.ids["A"])]
    page.click(f"#drill-rows [data-conversation='{shop.ids['A']}'] a.btn")
    page.wait_for_url(f"**/conversations/{shop.ids['A']}")
    assert problems == []
