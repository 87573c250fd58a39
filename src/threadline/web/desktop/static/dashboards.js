/* KPI dashboards: draws the charts of the page with Apache ECharts (vendored from the npm
   registry) from the JSON in #dashboard-data's data-dashboard attribute (no inline script:
   the page's CSP allows only our own files), and turns a click on a bar, a point or a Sankey node or flow into the list
   of the conversations behind it (the page's filters plus that element's criteria). */
(function () {
  "use strict";
  var UNITS = { count: "", percent: " %", minutes: " min", hours: " h", seconds: " s",
                money: "", ratio: "", score: "", text: "" };
  var PALETTE = ["#4f46e5", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6",
                 "#14b8a6", "#f97316", "#64748b", "#ec4899", "#84cc16"];

  function format(value, unit) {
    if (value === null || value === undefined || value === "-") return "—";
    var digits = unit === "count" ? 0 : (unit === "money" || unit === "ratio" ? 2 : 1);
    return Number(value).toLocaleString("en", { maximumFractionDigits: digits }) + (UNITS[unit] || "");
  }

  function merge() {
    var out = {};
    for (var i = 0; i < arguments.length; i++) {
      var part = arguments[i] || {};
      Object.keys(part).forEach(function (k) { out[k] = part[k]; });
    }
    return out;
  }

  function axisOption(chart) {
    var horizontal = chart.kind === "hbar";
    var category = { type: "category", data: chart.categories, name: chart.x_label,
                     nameLocation: "middle", nameGap: horizontal ? 110 : 28,
                     axisLabel: chart.categories.length <= 12
                       ? { interval: 0, width: horizontal ? 110 : 72, overflow: "truncate" }
                       : { hideOverlap: true } };
    var value = { type: "value", name: chart.y_label, nameLocation: "middle",
                  nameGap: horizontal ? 26 : 46,
                  axisLabel: { formatter: function (v) { return format(v, chart.unit); } } };
    if (chart.unit === "percent") value.max = 100;
    return horizontal ? { xAxis: value, yAxis: merge(category, { inverse: true }) }
                      : { xAxis: category, yAxis: value };
  }

  function option(chart) {
    var base = {
      color: PALETTE, animation: false,
      textStyle: { fontFamily: "-apple-system, Segoe UI, Roboto, Arial, sans-serif" },
      tooltip: { renderMode: "richText", confine: true,
                 valueFormatter: function (v) { return format(v, chart.unit); } }
    };
    if (chart.kind === "sankey") {
      return merge(base, {
        tooltip: merge(base.tooltip, { trigger: "item" }),
        series: [{
          type: "sankey", left: 8, right: 190, top: 8, bottom: 8, nodeGap: 10,
          emphasis: { focus: "adjacency" }, lineStyle: { color: "gradient", opacity: 0.35 },
          label: { fontSize: 12 },
          data: chart.nodes.map(function (name) { return { name: name }; }),
          links: chart.links.map(function (l) {
            return { source: chart.nodes[l.source], target: chart.nodes[l.target], value: l.value };
          })
        }]
      });
    }
    var type = chart.kind === "line" ? "line" : "bar";
    var many = chart.series.length > 1;
    return merge(base, axisOption(chart), {
      tooltip: merge(base.tooltip, { trigger: "axis", axisPointer: { type: type === "bar" ? "shadow" : "line" } }),
      legend: many ? { top: 0, type: "scroll" } : undefined,
      grid: { left: chart.kind === "hbar" ? 130 : 64, right: 20, top: many ? 34 : 16,
              bottom: 44, containLabel: false },
      series: chart.series.map(function (s) {
        return { name: s.name, type: type, data: s.values, connectNulls: false,
                 stack: chart.kind === "stacked" ? "total" : undefined,
                 symbolSize: 6, barMaxWidth: 38, emphasis: { focus: "series" } };
      })
    });
  }

  function criteria(chart, params) {
    if (chart.kind === "sankey") {
      if (params.dataType === "node") return chart.node_drill[params.dataIndex] || {};
      if (params.dataType === "edge") return (chart.point_drill[0] || [])[params.dataIndex] || {};
      return {};
    }
    var i = params.dataIndex, s = params.seriesIndex;
    var point = chart.point_drill[s] ? chart.point_drill[s][i] : null;
    return merge(chart.category_drill[i], chart.series[s] ? chart.series[s].drill : {}, point);
  }

  function draw() {
    var block = document.getElementById("dashboard-data");
    if (!block || !window.echarts) return;
    var data = JSON.parse(block.dataset.dashboard || "{}");
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = data.charts[Number(el.dataset.chart)];
      if (!chart) return;
      var instance = window.echarts.init(el, null, { renderer: "canvas" });
      instance.setOption(option(chart));
      instance.on("click", function (params) {
        var extra = criteria(chart, params);
        if (chart.kind === "sankey" && !Object.keys(extra).length) return;
        var query = new URLSearchParams(merge(data.filters, extra));
        window.location.assign(data.drill + "?" + query.toString());
      });
      charts.push(instance);
      el.dataset.ready = "1";
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.dataset.chartsReady = String(charts.length);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
