// Charts drawn from JSON embedded in the page, with the vendored Chart.js (static/arena/vendor/).
//
// A page writes, for each chart, a canvas and its spec (Django: {{ spec|json_script:"chart-id" }}):
//   <canvas data-chart="chart-id" role="img" aria-label="..."></canvas>
//   <script type="application/json" id="chart-id">{"type": "bar", "title": "...", ...}</script>
// and loads vendor/chart.umd.min.js (and vendor/chartjs-chart-matrix.min.js for heat maps), then this
// file; every canvas with data-chart is drawn once the page has loaded. The page must carry the same
// numbers as a table or text (the chart is never the only way to read them).
//
// Spec types (all take "title", used as the accessible name when the canvas has none):
//   line:     {"series": [{"label", "points": [{"x", "y", "label"?}]}],
//              "x": {"type": "linear"|"time", "title", "min"?, "max"?}, "y": {"title", "min"?, "max"?}}
//              time x values are ISO 8601 strings or epoch milliseconds (no date adapter needed).
//   bar:      {"labels": [...], "series": [{"label", "values": [... null allowed]}],
//              "x": {"title"}?, "y": {"title", "min", "max"}?, "horizontal": false}
//   heatmap:  {"xLabels": [...], "yLabels": [...], "values": [[row of yLabels[0], drawn at the top], ...],
//              "x": {"title"}, "y": {"title"}, "hideValues": false}   (needs chartjs-chart-matrix)
//   timeline: {"items": [{"label", "start", "end", "group"?, "current"?}], "now"?: ISO}   start/end ISO
//              strings: one horizontal bar per item on a time axis spanning the items and "now" with a
//              small margin, a line at "now"; "current" items outlined, the others faded.
// JavaScript API (window.ArenaCharts): draw(canvas, spec) -> Chart, drawAll(root = document),
// line / bar / heatmap / timeline(canvas, spec) -> Chart, and colours (the palette).
(function () {
  "use strict";
  // Okabe-Ito: apart for the common colour-vision deficiencies (the same as robustness_chart.py).
  var COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"];
  var DASHES = [[], [6, 3], [2, 3], [8, 3, 2, 3], [4, 4], [1, 2], [10, 4]];

  function toTime(value) { return typeof value === "number" ? value : Date.parse(value); }
  function formatTime(ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " "); }
  function axisTitle(axis) { return axis && axis.title ? {display: true, text: axis.title} : {display: false}; }
  function base(spec) {
    return {responsive: false, animation: false, maintainAspectRatio: false,
            plugins: {title: {display: !!spec.title, text: spec.title || ""}, legend: {display: true}}};
  }
  function label(canvas, spec) {
    if (!canvas.getAttribute("aria-label") && spec.title) { canvas.setAttribute("aria-label", spec.title); }
    if (!canvas.getAttribute("role")) { canvas.setAttribute("role", "img"); }
  }

  function line(canvas, spec) {
    var time = spec.x && spec.x.type === "time";
    var datasets = (spec.series || []).map(function (s, i) {
      return {label: s.label, borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length],
              borderDash: DASHES[i % DASHES.length], pointRadius: 3, tension: 0,
              data: s.points.map(function (p) { return {x: time ? toTime(p.x) : p.x, y: p.y, label: p.label}; })};
    });
    var options = base(spec);
    var xs = [].concat.apply([], datasets.map(function (d) { return d.data.map(function (p) { return p.x; }); }));
    var low = spec.x && spec.x.min, high = spec.x && spec.x.max;
    if (time) {
      low = low === undefined ? undefined : toTime(low);
      high = high === undefined ? undefined : toTime(high);
      var first = Math.min.apply(null, xs), last = Math.max.apply(null, xs);
      if (xs.length && first === last) { low = first - 43200000; high = last + 43200000; }  // one point: a day
    }
    var span = (high === undefined ? Math.max.apply(null, xs) : high) - (low === undefined ? Math.min.apply(null, xs) : low);
    options.scales = {
      x: {type: "linear", title: axisTitle(spec.x), min: low, max: high,
          ticks: time ? {maxTicksLimit: 6, callback: function (v) {
            return span < 3 * 86400000 ? formatTime(v).slice(5) : formatTime(v).slice(0, 10);
          }} : {}},
      y: {title: axisTitle(spec.y), min: spec.y && spec.y.min, max: spec.y && spec.y.max}
    };
    options.plugins.tooltip = {callbacks: {label: function (ctx) {
      var p = ctx.raw; var where = time ? formatTime(p.x) : p.x;
      return (p.label ? p.label + ": " : ctx.dataset.label + " ") + where + ", " + p.y;
    }}};
    label(canvas, spec);
    return new window.Chart(canvas, {type: "line", data: {datasets: datasets}, options: options});
  }

  function bar(canvas, spec) {
    var datasets = (spec.series || []).map(function (s, i) {
      return {label: s.label, data: s.values, backgroundColor: COLOURS[i % COLOURS.length]};
    });
    var options = base(spec);
    options.indexAxis = spec.horizontal ? "y" : "x";
    var value = {title: axisTitle(spec.y), min: spec.y && spec.y.min, max: spec.y && spec.y.max};
    var category = {title: axisTitle(spec.x)};
    options.scales = spec.horizontal ? {x: value, y: category} : {x: category, y: value};
    label(canvas, spec);
    return new window.Chart(canvas, {type: "bar", data: {labels: spec.labels, datasets: datasets}, options: options});
  }

  function heatmap(canvas, spec) {
    var xs = spec.xLabels, ys = spec.yLabels, data = [], high = 0;
    spec.values.forEach(function (row, r) {
      row.forEach(function (v, c) { data.push({x: xs[c], y: ys[r], v: v}); if (v > high) { high = v; } });
    });
    var options = base(spec);
    options.plugins.legend = {display: false};
    options.plugins.tooltip = {callbacks: {title: function () { return ""; }, label: function (ctx) {
      var d = ctx.raw;
      return (spec.y && spec.y.title || "row") + " " + d.y + ", " + (spec.x && spec.x.title || "column") + " " + d.x + ": " + d.v;
    }}};
    options.scales = {
      x: {type: "category", labels: xs, offset: true, grid: {display: false}, title: axisTitle(spec.x)},
      // yLabels[0] is the top row, as in the page's table (the matrix chart type reverses y by default,
      // and a vertical category axis puts its first label at the top).
      y: {type: "category", labels: ys, offset: true, reverse: false, grid: {display: false}, title: axisTitle(spec.y)}
    };
    label(canvas, spec);
    return new window.Chart(canvas, {
      type: "matrix",
      data: {datasets: [{label: spec.title || "", data: data,
        // Light to dark blue by count; an empty cell stays white.
        backgroundColor: function (ctx) {
          var v = ctx.raw ? ctx.raw.v : 0; var a = high ? v / high : 0;
          return "rgba(0, 114, 178, " + (v ? 0.12 + 0.88 * a : 0) + ")";
        },
        borderColor: "#d0d0d0", borderWidth: 1,
        width: function (ctx) { var a = ctx.chart.chartArea; return a ? a.width / xs.length - 1 : 10; },
        height: function (ctx) { var a = ctx.chart.chartArea; return a ? a.height / ys.length - 1 : 10; }}]},
      options: options,
      // The count in each cell, dark on light cells and light on dark ones.
      plugins: spec.hideValues ? [] : [{id: "heatmapValues", afterDatasetsDraw: function (chart) {
        var g = chart.ctx, meta = chart.getDatasetMeta(0);
        g.save(); g.textAlign = "center"; g.textBaseline = "middle"; g.font = "11px sans-serif";
        meta.data.forEach(function (cell, i) {
          var d = data[i]; var dark = high && d.v / high > 0.5;
          g.fillStyle = dark ? "#ffffff" : "#000000";
          var c = cell.getCenterPoint(); g.fillText(String(d.v), c.x, c.y);
        });
        g.restore();
      }}]
    });
  }

  function timeline(canvas, spec) {
    var items = spec.items || [];
    var highlight = items.some(function (it) { return it.current; });
    var options = base(spec);
    options.indexAxis = "y";
    options.plugins.legend = {display: false};
    // Span the items and "now" with a small margin (a linear axis left alone would start at 1970).
    var times = [].concat.apply([], items.map(function (it) { return [toTime(it.start), toTime(it.end)]; }));
    if (spec.now) { times.push(toTime(spec.now)); }
    times = times.filter(function (t) { return isFinite(t); });
    var first = times.length ? Math.min.apply(null, times) : Date.now();
    var last = times.length ? Math.max.apply(null, times) : first;
    var margin = Math.max((last - first) * 0.03, 3600000);
    var span = last - first + 2 * margin;
    options.scales = {
      x: {type: "linear", min: first - margin, max: last + margin,
          ticks: {maxTicksLimit: 6, callback: function (v) {
            return span < 3 * 86400000 ? formatTime(v).slice(5) : formatTime(v).slice(0, 10);
          }}},
      y: {type: "category", labels: items.map(function (it) { return it.label; })}
    };
    options.plugins.tooltip = {callbacks: {label: function (ctx) {
      var it = items[ctx.dataIndex]; return formatTime(toTime(it.start)) + " to " + formatTime(toTime(it.end)) + " UTC";
    }}};
    var plugins = [];
    if (spec.now) {
      var now = toTime(spec.now);
      plugins.push({id: "timelineNow", afterDatasetsDraw: function (chart) {
        var x = chart.scales.x.getPixelForValue(now), area = chart.chartArea, g = chart.ctx;
        if (x < area.left || x > area.right) { return; }
        g.save(); g.strokeStyle = "#d55e00"; g.setLineDash([4, 3]); g.beginPath();
        g.moveTo(x, area.top); g.lineTo(x, area.bottom); g.stroke(); g.restore();
      }});
    }
    label(canvas, spec);
    return new window.Chart(canvas, {
      type: "bar",
      data: {labels: items.map(function (it) { return it.label; }), datasets: [{
        label: spec.title || "", borderSkipped: false,
        data: items.map(function (it) { return [toTime(it.start), toTime(it.end)]; }),
        backgroundColor: items.map(function (it, i) {
          var colour = COLOURS[(it.group === undefined ? i : it.group) % COLOURS.length];
          return highlight && !it.current ? colour + "59" : colour;  // others faded to about a third
        }),
        borderColor: items.map(function (it) { return it.current ? "#000000" : "rgba(0, 0, 0, 0)"; }),
        borderWidth: items.map(function (it) { return it.current ? 2 : 0; })
      }]},
      options: options, plugins: plugins
    });
  }

  var TYPES = {line: line, bar: bar, heatmap: heatmap, timeline: timeline};

  function draw(canvas, spec) {
    var kind = TYPES[spec.type];
    if (!kind || !window.Chart) { return null; }
    var chart = kind(canvas, spec);
    canvas.setAttribute("data-drawn", "1");
    return chart;
  }

  function drawAll(root) {
    var drawn = [];
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.getAttribute("data-drawn")) { return; }
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      var chart = draw(canvas, JSON.parse(source.textContent));
      if (chart) { drawn.push(chart); }
    });
    return drawn;
  }

  window.ArenaCharts = {draw: draw, drawAll: drawAll, line: line, bar: bar, heatmap: heatmap, timeline: timeline,
                        colours: COLOURS};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
