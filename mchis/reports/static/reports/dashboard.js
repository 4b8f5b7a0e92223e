// Completeness/timeliness chart: reads the JSON selector endpoint named in data-source (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("completeness-chart");
  if (!el || typeof window.echarts === "undefined") return;
  fetch(el.dataset.source, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      const chart = window.echarts.init(el);
      const names = { expected: "Phải gửi", submitted: "Đã gửi", approved: "Đã duyệt", on_time: "Đúng hạn", late: "Quá hạn" };
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: Object.values(names) },
        xAxis: { type: "category", data: data.forms },
        yAxis: { type: "value", minInterval: 1 },
        series: Object.keys(names).map((k) => ({ name: names[k], type: "bar", data: data.series[k] })),
      });
      window.addEventListener("resize", () => chart.resize());
    });
});
