// Analytics charts and maps (issue 15). Data comes from <script type="application/json"> blocks written by the
// page (json_script), never from inline scripts (CSP). Tooltips use ECharts' richText mode: the HTML mode
// writes inline style attributes, which the Content-Security-Policy forbids.
(function () {
  "use strict";
  const TOOLTIP = { renderMode: "richText", confine: true };
  const fmt = (v) => (v === null || v === undefined ? "không xác định" : Number(v).toLocaleString("vi-VN"));
  let geo = null;

  function readJson(el) {
    const src = document.getElementById(el.dataset.json);
    return src ? JSON.parse(src.textContent) : null;
  }

  function drawChart(el) {
    const data = readJson(el);
    if (!data) return;
    const chart = window.echarts.init(el);
    let option;
    if (data.kind === "pie") {
      const first = data.series[0] || { data: [] };
      option = {
        tooltip: { ...TOOLTIP, trigger: "item", valueFormatter: fmt },
        legend: { type: "scroll", bottom: 0 },
        series: [{ type: "pie", radius: "60%", name: first.name,
          data: data.categories.map((name, i) => ({ name, value: first.data[i] })) }],
      };
    } else {
      const type = data.kind === "line" ? "line" : "bar";
      option = {
        tooltip: { ...TOOLTIP, trigger: "axis", valueFormatter: fmt },
        legend: { type: "scroll", top: 0 },
        grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
        xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: data.categories.length > 6 ? 40 : 0 } },
        yAxis: { type: "value" },
        series: data.series.map((s) => ({ name: s.name, type, data: s.data, stack: data.kind === "stacked" ? "all" : undefined, connectNulls: false })),
      };
    }
    chart.setOption(option);
    window.addEventListener("resize", () => chart.resize());
  }

  function loadGeo(url) {
    if (!geo) geo = fetch(url, { credentials: "same-origin" }).then((r) => r.json());
    return geo;
  }

  function drawMap(el) {
    const data = readJson(el);
    if (!data) return;
    const chart = window.echarts.init(el);
    const go = (unit) => { if (unit) window.location.assign(data.drill + "&unit=" + encodeURIComponent(unit)); };
    chart.on("click", (p) => go(p.data && p.data.unit));
    if (data.level !== "province") {  // below a province: no boundaries, a ranked bar chart
      const areas = data.areas.slice().sort((a, b) => (a.value ?? -1) - (b.value ?? -1));
      chart.setOption({
        tooltip: { ...TOOLTIP, trigger: "item", valueFormatter: fmt },
        grid: { left: 8, right: 24, bottom: 8, top: 8, containLabel: true },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: areas.map((a) => a.name) },
        series: [{ type: "bar", name: data.title,
          data: areas.map((a) => ({ value: a.value, unit: a.unit, itemStyle: { color: a.color } })) }],
      });
      window.addEventListener("resize", () => chart.resize());
      return;
    }
    loadGeo(data.geojson).then((json) => {
      window.echarts.registerMap("vn2025", json);
      chart.setOption({
        tooltip: { ...TOOLTIP, trigger: "item", formatter: (p) => `${(p.data && p.data.label) || p.name}: ${fmt(p.data ? p.data.value : null)}` },
        series: [{
          type: "map", map: "vn2025", nameProperty: "province_code", roam: true, name: data.title,
          itemStyle: { areaColor: data.noData, borderColor: "#666", borderWidth: 0.5 },
          emphasis: { label: { show: false }, itemStyle: { areaColor: "#f59e0b" } },
          data: data.areas.map((a) => ({ name: a.province, label: a.name, value: a.value, unit: a.unit, itemStyle: { areaColor: a.color } })),
        }],
      });
      el.dataset.ready = "1";
      window.addEventListener("resize", () => chart.resize());
    });
  }

  function slider() {
    const input = document.getElementById("map-slider");
    if (!input) return;
    const periods = input.dataset.periods.split(";").map((p) => p.split("|"));
    const label = document.getElementById("map-period-label");
    const hidden = document.getElementById("map-pe");
    input.addEventListener("input", () => { label.textContent = periods[input.value][1]; });
    input.addEventListener("change", () => { hidden.value = periods[input.value][0]; input.form.submit(); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    slider();
    if (typeof window.echarts === "undefined") return;
    document.querySelectorAll(".an-chart[data-json]").forEach(drawChart);
    document.querySelectorAll(".an-map[data-json]").forEach(drawMap);
  });
})();
