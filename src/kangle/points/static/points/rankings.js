// Moved out of the page so the content security policy can forbid inline scripts; labels come
// from data attributes the template translates.
(function () {
  var rows = JSON.parse(document.getElementById("ranking-data").textContent).reverse();
  echarts.init(document.getElementById("ranking-chart")).setOption({
    tooltip: {trigger: "axis"}, grid: {left: 100},
    xAxis: {type: "value"}, yAxis: {type: "category", data: rows.map(function (r) { return r.name; })},
    series: [{type: "bar", name: document.getElementById("ranking-chart").dataset.series, data: rows.map(function (r) { return r.points; })}]
  });
})();
