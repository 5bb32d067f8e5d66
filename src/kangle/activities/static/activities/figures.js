// The activity figures chart: data from the page's JSON block, series names from the chart element.
(function () {
  var element = document.getElementById("aspect-chart");
  var source = document.getElementById("chart-data");
  if (!element || !source || typeof echarts === "undefined") return;
  var data = JSON.parse(JSON.parse(source.textContent));
  var chart = echarts.init(element);
  chart.setOption({
    tooltip: {trigger: "axis"}, legend: {},
    xAxis: {type: "category", data: data.names}, yAxis: [{type: "value"}, {type: "value"}],
    series: [
      {name: element.dataset.participants, type: "bar", data: data.participants},
      {name: element.dataset.beneficiaries, type: "bar", data: data.beneficiaries},
      {name: element.dataset.hours, type: "line", yAxisIndex: 1, data: data.hours}
    ]
  });
})();
