// Charts of the base-numbers page (ECharts); the data comes from the page as JSON.
(function () {
  var data = JSON.parse(document.getElementById("charts-data").textContent);
  function bar(id, title, rows) {
    var chart = echarts.init(document.getElementById(id));
    chart.setOption({
      title: { text: title, textStyle: { fontSize: 14 } }, tooltip: {}, grid: { left: 100 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", axisLabel: { interval: 0 }, data: rows.map(function (r) { return r[0]; }) },
      series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }), itemStyle: { color: "#c8161d" } }]
    });
  }
  bar("chart-skills", document.documentElement.lang.indexOf("zh") === 0 ? "专业特长" : "Skills", data.skills);
  bar("chart-willingness", document.documentElement.lang.indexOf("zh") === 0 ? "服务意愿" : "Willingness", data.willingness);
  var heat = echarts.init(document.getElementById("chart-heatmap"));
  var max = Math.max.apply(null, data.heatmap.map(function (c) { return c[2]; }).concat([1]));
  heat.setOption({
    title: { text: document.documentElement.lang.indexOf("zh") === 0 ? "服务时间" : "Availability", textStyle: { fontSize: 14 } },
    tooltip: {}, grid: { left: 60 },
    xAxis: { type: "category", data: data.periods }, yAxis: { type: "category", data: data.days },
    visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
    series: [{ type: "heatmap", data: data.heatmap.map(function (c) { return [c[1], c[0], c[2]]; }), label: { show: true } }]
  });
})();
