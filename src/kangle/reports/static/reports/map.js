// Moved out of the page so the content security policy can forbid inline scripts; labels come
// from data attributes the template translates.
(function () {
  var box = document.getElementById("map");
  // The map page embeds its data; a figure page that shows the map fetches it (same origin).
  if (box.dataset.src) {
    fetch(box.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(draw);
  } else {
    draw(JSON.parse(document.getElementById("map-data").textContent));
  }
  function draw(data) {
  var f = data.features;
  var colours = {overdue: "#c62828", warning: "#ed6c02", on_track: "#2e7d32"};
  var names = {venues: box.dataset.venues, points: box.dataset.points, monitoring: box.dataset.monitoring, warnings: box.dataset.warnings, cases: box.dataset.cases};
  var all = [].concat(f.venues, f.points, f.monitoring, f.warnings, f.cases);
  function series(system, project) {
    function pts(list) { return list.map(function (p) { return {name: p.name, value: project(p.value), itemStyle: p.clock ? {color: colours[p.clock]} : undefined}; }); }
    var s = [
      {name: names.venues, type: "scatter", coordinateSystem: system, symbol: "rect", symbolSize: 9, data: pts(f.venues)},
      {name: names.points, type: "scatter", coordinateSystem: system, symbol: "diamond", symbolSize: 11, data: pts(f.points)},
      {name: names.monitoring, type: "scatter", coordinateSystem: system, symbol: "triangle", symbolSize: 10, data: pts(f.monitoring)},
      {name: names.cases, type: "scatter", coordinateSystem: system, symbolSize: 12, data: pts(f.cases)}
    ];
    if (f.warnings.length) s.unshift({name: names.warnings, type: "heatmap", coordinateSystem: system, pointSize: 14, blurSize: 18, data: f.warnings.map(function (p) { return project(p.value).concat([1]); })});
    return s;
  }
  var visual = f.warnings.length ? [{show: false, min: 0, max: 3, seriesIndex: 0, inRange: {color: ["rgba(255,200,0,0.2)", "#ff9800", "#c62828"]}}] : [];
  if (data.tiles && all.length) {
    // Web Mercator at the zoom that fits every point; tiles as images, the points drawn over them.
    var w = box.clientWidth, h = box.clientHeight;
    function world(ll, z) { var s = 256 * Math.pow(2, z); var x = (ll[0] + 180) / 360 * s; var r = ll[1] * Math.PI / 180; var y = (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * s; return [x, y]; }
    var lons = all.map(function (p) { return p.value[0]; }), lats = all.map(function (p) { return p.value[1]; });
    var sw = [Math.min.apply(null, lons), Math.min.apply(null, lats)], ne = [Math.max.apply(null, lons), Math.max.apply(null, lats)];
    var z = 18; while (z > 3) { var a = world(sw, z), b = world(ne, z); if (b[0] - a[0] < w * 0.85 && a[1] - b[1] < h * 0.85) break; z--; }
    var c0 = world(sw, z), c1 = world(ne, z), cx = (c0[0] + c1[0]) / 2, cy = (c0[1] + c1[1]) / 2, left = cx - w / 2, top = cy - h / 2;
    for (var tx = Math.floor(left / 256); tx <= Math.floor((left + w) / 256); tx++) {
      for (var ty = Math.floor(top / 256); ty <= Math.floor((top + h) / 256); ty++) {
        var img = document.createElement("img");
        img.src = data.tiles.url.replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
        img.alt = ""; img.style.cssText = "position:absolute;width:256px;height:256px;left:" + (tx * 256 - left) + "px;top:" + (ty * 256 - top) + "px";
        box.appendChild(img);
      }
    }
    var layer = document.createElement("div"); layer.style.cssText = "position:absolute;inset:0"; box.appendChild(layer);
    echarts.init(layer).setOption({
      legend: {top: 0}, tooltip: {formatter: function (p) { return p.name; }}, visualMap: visual,
      grid: {left: 0, right: 0, top: 0, bottom: 0},
      xAxis: {type: "value", min: left, max: left + w, show: false}, yAxis: {type: "value", min: -(top + h), max: -top, show: false},
      series: series("cartesian2d", function (ll) { var p = world(ll, z); return [p[0], -p[1]]; })
    });
  } else if (data.outline) {
    echarts.registerMap("area", data.outline);
    echarts.init(box).setOption({
      legend: {top: 0}, tooltip: {formatter: function (p) { return p.name; }}, visualMap: visual,
      geo: {map: "area", roam: true, itemStyle: {areaColor: "#f5f6f7", borderColor: "#c8161d"}, label: {show: false}, emphasis: {disabled: true}},
      series: series("geo", function (ll) { return ll; })
    });
  }
  }
})();
