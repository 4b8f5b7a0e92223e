// Trend chart of the six quality scores (R-DQ-01). Reads JSON from the selector endpoint in data-url.
(function () {
  function draw(el) {
    if (!window.echarts || !el.dataset.url) return;
    fetch(el.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var chart = window.echarts.init(el);
        chart.setOption({
          tooltip: { trigger: "axis" },
          legend: { data: data.series.map(function (s) { return s.name; }) },
          xAxis: { type: "category", data: data.months },
          yAxis: { type: "value", min: 0, max: 100 },
          series: data.series.map(function (s) { return { name: s.name, type: "line", data: s.data }; })
        });
      });
  }
  function init() {
    document.querySelectorAll("[data-dq-chart]").forEach(draw);
    var select = document.getElementById("dq-unit");
    if (select) {
      select.addEventListener("change", function () {
        var el = document.querySelector("[data-dq-chart]");
        el.dataset.url = el.dataset.base + "?unit=" + select.value;
        if (window.echarts) { var c = window.echarts.getInstanceByDom(el); if (c) c.dispose(); }
        draw(el);
      });
    }
  }
  document.addEventListener("DOMContentLoaded", init);
})();
