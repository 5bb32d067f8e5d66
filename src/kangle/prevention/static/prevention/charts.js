/* Draws the analysis charts from the JSON the page embeds (no map tiles: a plain coordinate plane). */
(function () {
  var node = document.getElementById("chart-data");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var labels = data.labels;
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var c = echarts.init(el);
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    el.setAttribute("data-ready", "1");
  }
  chart("chart-trend", {
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.trend.map(function (r) { return r.bucket; }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: labels.warnings, type: "line", smooth: true, areaStyle: {}, data: data.trend.map(function (r) { return r.count; }) }]
  });
  chart("chart-places", {
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    series: [{ type: "pie", radius: ["35%", "65%"], data: data.places }]
  });
  chart("chart-communities", {
    tooltip: { trigger: "axis" },
    grid: { left: 110 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: data.communities.map(function (r) { return r.name; }) },
    series: [{ name: labels.warnings, type: "bar", data: data.communities.map(function (r) { return r.count; }) }]
  });
  var max = data.clusters.reduce(function (m, r) { return Math.max(m, r.count); }, 1);
  chart("chart-map", {
    tooltip: { formatter: function (p) { return p.value[1].toFixed(3) + ", " + p.value[0].toFixed(3) + ": " + p.value[2]; } },
    xAxis: { type: "value", name: labels.longitude, scale: true },
    yAxis: { type: "value", name: labels.latitude, scale: true },
    series: [{
      type: "scatter",
      data: data.clusters.map(function (r) { return [r.longitude, r.latitude, r.count]; }),
      symbolSize: function (v) { return 6 + 24 * Math.sqrt(v[2] / max); },
      itemStyle: { color: "#c8161d", opacity: 0.7 }
    }]
  });
})();
