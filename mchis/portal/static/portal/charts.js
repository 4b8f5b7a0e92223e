// Public portal charts (ECharts): the national trend, the 34-province map, each province's small trends.
// Data come from a hidden element's data-json (no inline script: strict CSP); every chart has a table beside it.
(function () {
  "use strict";
  var holder = document.getElementById("chart-data");
  if (!holder || typeof window.echarts === "undefined") return;
  var data = JSON.parse(holder.dataset.json || "{}");
  var vi = (document.documentElement.lang || "vi").indexOf("vi") === 0;
  var fmt = function (v) {
    return v === null || v === undefined ? (vi ? "ẩn / chưa có" : "suppressed / none") : v.toLocaleString(vi ? "vi-VN" : "en-GB");
  };
  var label = function (p) { var s = p.split("-"); return s.length === 2 ? s[1] + "/" + s[0] : p; };

  function line(el, periods, values) {
    var chart = window.echarts.init(el);
    chart.setOption({
      aria: { enabled: true },
      grid: { left: 48, right: 16, top: 16, bottom: 32 },
      tooltip: { trigger: "axis", valueFormatter: fmt },
      xAxis: { type: "category", data: periods.map(label) },
      yAxis: { type: "value" },
      series: [{ type: "line", data: values, connectNulls: false, symbolSize: 6, color: "#1f5f99" }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.querySelectorAll("[data-chart=trend]").forEach(function (el) { line(el, data.periods || [], data.values || []); });
  document.querySelectorAll("[data-chart=series]").forEach(function (el) {
    var s = data[el.dataset.key]; if (s) line(el, s.periods, s.values);
  });
  document.querySelectorAll("[data-chart=map]").forEach(function (el) {
    fetch(el.dataset.geojson).then(function (r) { return r.json(); }).then(function (geo) {
      geo.features.forEach(function (f) { f.properties.name = f.properties.province_code; });
      window.echarts.registerMap("vn34", geo);
      var names = data.names || {};
      var values = Object.keys(data.map || {}).map(function (k) { return { name: k, value: data.map[k] }; });
      var known = values.map(function (v) { return v.value; }).filter(function (v) { return v !== null; });
      var chart = window.echarts.init(el);
      chart.setOption({
        aria: { enabled: true },
        tooltip: { formatter: function (p) { return (names[p.name] || p.name) + ": " + fmt(p.value); } },
        visualMap: { min: known.length ? Math.min.apply(null, known) : 0, max: known.length ? Math.max.apply(null, known) : 1,
                     calculable: true, left: 8, bottom: 8, inRange: { color: ["#e3eef8", "#1f5f99"] } },
        geo: { map: "vn34", roam: true, itemStyle: { areaColor: "#f2f2f2", borderColor: "#777" } },
        series: [
          { type: "map", geoIndex: 0, data: values },
          { type: "scatter", coordinateSystem: "geo", symbolSize: 0, silent: true,
            label: { show: true, formatter: "{b}", color: "#333", fontSize: 11 },
            data: [{ name: vi ? "QĐ. Hoàng Sa" : "Hoang Sa (Paracel) Is.", value: [112.0, 16.9] },
                   { name: vi ? "QĐ. Trường Sa" : "Truong Sa (Spratly) Is.", value: [113.9, 9.6] }] }
        ]
      });
      chart.on("click", function (p) { if (p.seriesType === "map" && names[p.name]) window.location.href = "../../provinces/" + p.name + "/"; });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  });
})();
