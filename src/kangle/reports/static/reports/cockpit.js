// Moved out of the page so the content security policy can forbid inline scripts; labels come
// from data attributes the template translates.
(function () {
  var data = JSON.parse(document.getElementById("cockpit-data").textContent);
  echarts.init(document.getElementById("clock-chart")).setOption({
    tooltip: {trigger: "item"}, legend: {bottom: 0},
    color: ["#c62828", "#ed6c02", "#9e9e9e", "#2e7d32"],
    series: [{type: "pie", radius: ["40%", "70%"], data: data.clocks}]
  });
  echarts.init(document.getElementById("warning-chart")).setOption({
    tooltip: {trigger: "axis"},
    xAxis: {type: "category", data: data.months}, yAxis: {type: "value", minInterval: 1},
    series: [{type: "line", smooth: true, areaStyle: {}, data: data.warnings}]
  });
})();
