// Moved out of the page so the content security policy can forbid inline scripts; labels come
// from data attributes the template translates.
(function () {
  var box = document.getElementById("campaign-chart");
  var l = box.dataset;
  var s = JSON.parse(document.getElementById("campaign-data").textContent);
  echarts.init(box).setOption({
    tooltip: {trigger: "axis"}, legend: {},
    xAxis: {type: "category", data: [l.estates, l.lanes]}, yAxis: {type: "value", minInterval: 1},
    series: [
      {type: "bar", name: l.planned, data: [s.estates, s.lanes]},
      {type: "bar", name: l.inspected, data: [s.estates_done, s.lanes_done]}
    ]
  });
})();
