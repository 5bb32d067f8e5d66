// Moved out of the page so the content security policy can forbid inline scripts; labels come
// from data attributes the template translates.
(function () {
  var categories = JSON.parse(document.getElementById("by-category").textContent);
  var communities = JSON.parse(document.getElementById("by-community").textContent);
  var rows = categories.concat(communities);
  echarts.init(document.getElementById("on-time-chart")).setOption({
    tooltip: {trigger: "axis"}, grid: {left: 140},
    xAxis: {type: "value", max: 100, name: "%"},
    yAxis: {type: "category", data: rows.map(function (r) { return r.key; })},
    series: [{type: "bar", name: document.getElementById("on-time-chart").dataset.series, data: rows.map(function (r) { return r.rate; })}]
  });
})();
