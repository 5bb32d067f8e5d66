/* Every ECharts chart of the site. A chart container comes from core/chart.html ({% chart %}): its kind
   (data-chart), its data (a json_script element named by data-source, read once, or a same-origin URL in
   data-src) and its translated labels (data-label-*). One option builder per kind; the vendored library
   is used as shipped. A drawn container gets data-ready="1". */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var RED = "#c8161d";
  var CLOCK_COLOURS = {overdue: "#c62828", warning: "#ed6c02", on_track: "#2e7d32"};

  function labelsOf(el) {
    var labels = {};
    Array.prototype.forEach.call(el.attributes, function (attribute) {
      if (attribute.name.indexOf("data-label-") === 0) { labels[attribute.name.slice(11)] = attribute.value; }
    });
    return labels;
  }

  function pick(rows, key) { return rows.map(function (r) { return r[key]; }); }

  // A horizontal bar per row, the first row on top.
  function horizontalBars(names, values, seriesName, left, extra) {
    var option = {
      tooltip: {trigger: "axis"}, grid: {left: left},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", inverse: true, axisLabel: {interval: 0}, data: names},
      series: [{type: "bar", name: seriesName, data: values}]
    };
    return Object.assign(option, extra || {});
  }

  var builders = {
    // Activity figures: participants and beneficiaries per service aspect, verified hours on a second axis.
    aspects: function (data, labels) {
      return {
        tooltip: {trigger: "axis"}, legend: {},
        xAxis: {type: "category", data: data.names}, yAxis: [{type: "value"}, {type: "value"}],
        series: [
          {name: labels.participants, type: "bar", data: data.participants},
          {name: labels.beneficiaries, type: "bar", data: data.beneficiaries},
          {name: labels.hours, type: "line", yAxisIndex: 1, data: data.hours}
        ]
      };
    },
    // Case figures: on-time rate (%) per row ({key, rate}).
    rates: function (rows, labels) {
      var option = horizontalBars(pick(rows, "key"), pick(rows, "rate"), labels.series, 140);
      option.xAxis = {type: "value", max: 100, name: "%"};
      option.yAxis.inverse = false;
      return option;
    },
    // Points rankings: the top rows ({name, points}), the first on top.
    ranking: function (rows, labels) {
      var option = horizontalBars(pick(rows, "name"), pick(rows, "points"), labels.series, 100);
      option.xAxis = {type: "value"};
      return option;
    },
    // Counts per name ([name, count] pairs) with a title.
    counts: function (rows, labels) {
      var option = horizontalBars(pick(rows, 0), pick(rows, 1), labels.title, 100, {
        title: {text: labels.title, textStyle: {fontSize: 14}}, tooltip: {}
      });
      option.yAxis.inverse = false;
      option.series[0].itemStyle = {color: RED};
      return option;
    },
    // Availability: members per day and period ([day, period, count] cells).
    availability: function (data, labels) {
      var max = Math.max.apply(null, pick(data.heatmap, 2).concat([1]));
      return {
        title: {text: labels.title, textStyle: {fontSize: 14}},
        tooltip: {}, grid: {left: 60},
        xAxis: {type: "category", data: data.periods}, yAxis: {type: "category", data: data.days},
        visualMap: {min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0},
        series: [{
          type: "heatmap", label: {show: true},
          data: data.heatmap.map(function (c) { return [c[1], c[0], c[2]]; })
        }]
      };
    },
    // Open cases per clock colour ({name, value}: past deadline, due soon, paused, on track).
    clocks: function (rows) {
      return {
        tooltip: {trigger: "item"}, legend: {bottom: 0},
        color: ["#c62828", "#ed6c02", "#9e9e9e", "#2e7d32"],
        series: [{type: "pie", radius: ["40%", "70%"], data: rows}]
      };
    },
    // A count per month ({months, counts}).
    months: function (data, labels) {
      return {
        tooltip: {trigger: "axis"},
        xAxis: {type: "category", data: data.months}, yAxis: {type: "value", minInterval: 1},
        series: [{type: "line", name: labels.series, smooth: true, areaStyle: {}, data: data.counts}]
      };
    },
    // A count per period bucket ({bucket, count}).
    trend: function (rows, labels) {
      return builders.months({months: pick(rows, "bucket"), counts: pick(rows, "count")}, labels);
    },
    // Shares of a whole ({name, value}).
    shares: function (rows) {
      return {
        tooltip: {trigger: "item", formatter: "{b}: {c} ({d}%)"},
        series: [{type: "pie", radius: ["35%", "65%"], data: rows}]
      };
    },
    // A count per name ({name, count}), the largest on top.
    ranked: function (rows, labels) {
      return horizontalBars(pick(rows, "name"), pick(rows, "count"), labels.series, 110);
    },
    // Clusters on a plain longitude/latitude plane ({longitude, latitude, count}), no map tiles.
    clusters: function (rows, labels) {
      var max = rows.reduce(function (m, r) { return Math.max(m, r.count); }, 1);
      return {
        tooltip: {formatter: function (p) { return p.value[1].toFixed(3) + ", " + p.value[0].toFixed(3) + ": " + p.value[2]; }},
        xAxis: {type: "value", name: labels.longitude, scale: true},
        yAxis: {type: "value", name: labels.latitude, scale: true},
        series: [{
          type: "scatter",
          data: rows.map(function (r) { return [r.longitude, r.latitude, r.count]; }),
          symbolSize: function (v) { return 6 + 24 * Math.sqrt(v[2] / max); },
          itemStyle: {color: RED, opacity: 0.7}
        }]
      };
    },
    // Campaign progress: estates and lanes planned against inspected.
    campaign: function (s, labels) {
      return {
        tooltip: {trigger: "axis"}, legend: {},
        xAxis: {type: "category", data: [labels.estates, labels.lanes]}, yAxis: {type: "value", minInterval: 1},
        series: [
          {type: "bar", name: labels.planned, data: [s.estates, s.lanes]},
          {type: "bar", name: labels.inspected, data: [s.estates_done, s.lanes_done]}
        ]
      };
    },
    // The map: the street's tiles when it set a tile URL, else its outline; the layers drawn over it.
    map: function (data, labels, box) {
      var f = data.features;
      var all = [].concat(f.venues, f.points, f.monitoring, f.warnings, f.cases);
      function series(system, project) {
        function points(list) {
          return list.map(function (p) {
            return {name: p.name, value: project(p.value), itemStyle: p.clock ? {color: CLOCK_COLOURS[p.clock]} : undefined};
          });
        }
        var s = [
          {name: labels.venues, type: "scatter", coordinateSystem: system, symbol: "rect", symbolSize: 9, data: points(f.venues)},
          {name: labels.points, type: "scatter", coordinateSystem: system, symbol: "diamond", symbolSize: 11, data: points(f.points)},
          {name: labels.monitoring, type: "scatter", coordinateSystem: system, symbol: "triangle", symbolSize: 10, data: points(f.monitoring)},
          {name: labels.cases, type: "scatter", coordinateSystem: system, symbolSize: 12, data: points(f.cases)}
        ];
        if (f.warnings.length) {
          s.unshift({
            name: labels.warnings, type: "heatmap", coordinateSystem: system, pointSize: 14, blurSize: 18,
            data: f.warnings.map(function (p) { return project(p.value).concat([1]); })
          });
        }
        return s;
      }
      var visual = f.warnings.length ? [{show: false, min: 0, max: 3, seriesIndex: 0, inRange: {color: ["rgba(255,200,0,0.2)", "#ff9800", "#c62828"]}}] : [];
      if (data.tiles && all.length) {
        // Web Mercator at the zoom that fits every point; tiles as images, the points drawn over them.
        var w = box.clientWidth, h = box.clientHeight;
        var world = function (ll, z) {
          var size = 256 * Math.pow(2, z), r = ll[1] * Math.PI / 180;
          return [(ll[0] + 180) / 360 * size, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * size];
        };
        var lons = all.map(function (p) { return p.value[0]; }), lats = all.map(function (p) { return p.value[1]; });
        var sw = [Math.min.apply(null, lons), Math.min.apply(null, lats)], ne = [Math.max.apply(null, lons), Math.max.apply(null, lats)];
        var z = 18;
        while (z > 3) {
          var a = world(sw, z), b = world(ne, z);
          if (b[0] - a[0] < w * 0.85 && a[1] - b[1] < h * 0.85) { break; }
          z--;
        }
        var c0 = world(sw, z), c1 = world(ne, z);
        var left = (c0[0] + c1[0]) / 2 - w / 2, top = (c0[1] + c1[1]) / 2 - h / 2;
        for (var tx = Math.floor(left / 256); tx <= Math.floor((left + w) / 256); tx++) {
          for (var ty = Math.floor(top / 256); ty <= Math.floor((top + h) / 256); ty++) {
            var img = document.createElement("img");
            img.src = data.tiles.url.replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
            img.alt = "";
            img.className = "chart-tile";
            img.style.left = (tx * 256 - left) + "px";
            img.style.top = (ty * 256 - top) + "px";
            box.appendChild(img);
          }
        }
        var layer = document.createElement("div");
        layer.className = "chart-layer";
        box.appendChild(layer);
        return {target: layer, option: {
          legend: {top: 0}, tooltip: {formatter: function (p) { return p.name; }}, visualMap: visual,
          grid: {left: 0, right: 0, top: 0, bottom: 0},
          xAxis: {type: "value", min: left, max: left + w, show: false}, yAxis: {type: "value", min: -(top + h), max: -top, show: false},
          series: series("cartesian2d", function (ll) { var p = world(ll, z); return [p[0], -p[1]]; })
        }};
      }
      if (!data.outline) { return null; }
      echarts.registerMap("area", data.outline);
      return {
        legend: {top: 0}, tooltip: {formatter: function (p) { return p.name; }}, visualMap: visual,
        geo: {map: "area", roam: true, itemStyle: {areaColor: "#f5f6f7", borderColor: RED}, label: {show: false}, emphasis: {disabled: true}},
        series: series("geo", function (ll) { return ll; })
      };
    }
  };

  function draw(el, data) {
    var build = builders[el.getAttribute("data-chart")];
    if (!build || data === null || data === undefined) { return; }
    var built = build(data, labelsOf(el), el);
    if (!built) { return; }
    var chart = built.target ? echarts.init(built.target) : echarts.init(el);
    chart.setOption(built.target ? built.option : built);
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-ready", "1");
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (el) {
    if (el.hasAttribute("data-src")) {
      fetch(el.getAttribute("data-src"), {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (data) { draw(el, data); });
      return;
    }
    var source = document.getElementById(el.getAttribute("data-source"));
    if (source) { draw(el, JSON.parse(source.textContent)); }
  });
})();
